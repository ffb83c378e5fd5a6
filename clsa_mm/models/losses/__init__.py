from .ddm_loss import ddm_loss

__all__ = ['ddm_loss']
