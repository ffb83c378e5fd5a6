from .checkpoints import (clsa_checkpoint, random_resnet_state_dict,
                          reference_checkpoint)
from .tiny_coco import make_tiny_coco

__all__ = [
    'clsa_checkpoint', 'make_tiny_coco', 'random_resnet_state_dict',
    'reference_checkpoint'
]
