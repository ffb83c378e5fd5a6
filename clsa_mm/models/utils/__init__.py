from .embedding_queue import EmbeddingQueue
from .online_probe_mixin import OnlineProbeMixin
from .split_views import check_num_strong_views, split_views

__all__ = [
    'EmbeddingQueue', 'OnlineProbeMixin', 'check_num_strong_views',
    'split_views'
]
