from .ddm_head import DDMHead

__all__ = ['DDMHead']
