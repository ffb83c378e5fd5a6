from .embedding_queue import EmbeddingQueue
from .split_views import check_num_strong_views, split_views

__all__ = ['EmbeddingQueue', 'check_num_strong_views', 'split_views']
