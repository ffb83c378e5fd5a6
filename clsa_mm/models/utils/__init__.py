from .embedding_queue import EmbeddingQueue
from .split_batch_norm import SplitBatchNorm
from .two_crop_ddm import TwoCropDDM

__all__ = ['EmbeddingQueue', 'SplitBatchNorm', 'TwoCropDDM']
