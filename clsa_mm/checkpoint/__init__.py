"""Checkpoint files: safe loading, kinds, fit checks, conversion, saving."""
from .atomic import atomic_write, partial_path, save_checkpoint
from .checked_pretrained import CheckedPretrainedInit
from .conversion import (backbone_checkpoint, convert_reference_clsa,
                         detectron2_checkpoint, pretrained_cfg_options)
from .fit import check_pretrained_config
from .kinds import (BACKBONE, CLSA_MM, REFERENCE, backbone_state_dict,
                    load_checkpoint_of_kind)
from .loading import load_local_checkpoint, register_checkpoint_loader
from .state_dicts import compare_state_dicts, get_state_dict

__all__ = [
    'BACKBONE', 'CLSA_MM', 'REFERENCE', 'CheckedPretrainedInit',
    'atomic_write', 'backbone_checkpoint', 'backbone_state_dict',
    'check_pretrained_config', 'compare_state_dicts', 'convert_reference_clsa',
    'detectron2_checkpoint', 'get_state_dict', 'load_checkpoint_of_kind',
    'load_local_checkpoint', 'partial_path', 'pretrained_cfg_options',
    'register_checkpoint_loader', 'save_checkpoint'
]
