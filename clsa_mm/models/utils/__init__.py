from .embedding_queue import EmbeddingQueue
from .split_batch_norm import SplitBatchNorm
from .split_views import check_num_strong_views, split_views

__all__ = [
    'EmbeddingQueue', 'SplitBatchNorm', 'check_num_strong_views',
    'split_views'
]
