from .features import extract_features
from .knn import knn_accuracy, knn_classify

__all__ = ['extract_features', 'knn_accuracy', 'knn_classify']
