from .checkpoints import (BACKBONE, CLSA_MM, REFERENCE, backbone_checkpoint,
                          backbone_state_dict, checkpoint_kind,
                          convert_reference_clsa, load_checkpoint_of_kind,
                          pretrained_cfg_options, save_checkpoint)
from .features import extract_features
from .knn import knn_accuracy, knn_classify

__all__ = [
    'BACKBONE', 'CLSA_MM', 'REFERENCE', 'backbone_checkpoint',
    'backbone_state_dict', 'checkpoint_kind', 'convert_reference_clsa',
    'extract_features', 'knn_accuracy', 'knn_classify',
    'load_checkpoint_of_kind', 'pretrained_cfg_options', 'save_checkpoint'
]
