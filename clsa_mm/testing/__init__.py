from .random_weights import (clsa_checkpoint, random_resnet_state_dict,
                             reference_checkpoint)
from .tiny_coco import make_tiny_coco
from .tiny_voc import make_tiny_voc

__all__ = [
    'clsa_checkpoint', 'make_tiny_coco', 'make_tiny_voc',
    'random_resnet_state_dict', 'reference_checkpoint'
]
