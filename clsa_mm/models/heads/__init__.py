from .ddm_head import DDMHead
from .strong_contrastive_head import StrongContrastiveHead

__all__ = ['DDMHead', 'StrongContrastiveHead']
