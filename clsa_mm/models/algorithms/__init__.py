from .byol_ddm import BYOLDDM
from .clsa import CLSA
from .moco_with_probe import MoCoWithProbe
from .mocov3_ddm import MoCoV3DDM
from .simclr_ddm import SimCLRDDM

__all__ = ['BYOLDDM', 'CLSA', 'MoCoV3DDM', 'MoCoWithProbe', 'SimCLRDDM']
