from .embedding_queue import EmbeddingQueue
from .online_probe_mixin import OnlineProbeMixin
from .split_batch_norm import SplitBatchNorm
from .two_crop_ddm import TwoCropDDM

__all__ = [
    'EmbeddingQueue', 'OnlineProbeMixin', 'SplitBatchNorm', 'TwoCropDDM'
]
