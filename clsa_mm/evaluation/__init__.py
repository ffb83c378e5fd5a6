from .features import (build_feature_loader, build_feature_preprocessor,
                       extract_features)
from .knn import KNN_DEFAULTS, knn_accuracy, knn_classify
from .linear_probe import linear_probe
from .online_probe_accuracy import OnlineProbeAccuracy

__all__ = [
    'KNN_DEFAULTS', 'build_feature_loader', 'build_feature_preprocessor',
    'extract_features', 'knn_accuracy', 'knn_classify', 'linear_probe',
    'OnlineProbeAccuracy'
]
