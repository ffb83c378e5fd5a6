from .clsa import CLSA

__all__ = ['CLSA']
