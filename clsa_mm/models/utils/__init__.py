from .embedding_queue import EmbeddingQueue
from .two_crop_ddm import TwoCropDDM

__all__ = ['EmbeddingQueue', 'TwoCropDDM']
