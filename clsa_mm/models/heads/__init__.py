from .ddm_head import DDMHead
from .online_probe_head import OnlineProbeHead
from .strong_contrastive_head import StrongContrastiveHead

__all__ = ['DDMHead', 'OnlineProbeHead', 'StrongContrastiveHead']
