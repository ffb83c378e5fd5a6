"""Checkpoint files: safe loading, kinds, fit checks, conversion, saving."""
from .atomic import atomic_write, partial_path, save_checkpoint
from .checked_pretrained import CheckedPretrainedInit
from .conversion import (backbone_checkpoint, check_resnet50,
                         convert_reference_clsa, detectron2_checkpoint,
                         detectron2_name, pretrained_cfg_options,
                         save_detectron2_checkpoint)
from .fit import (check_fit, check_pretrained_config, check_pretrained_model,
                  describe_weights)
from .kinds import (BACKBONE, BACKBONE_PREFIX, CLSA_MM, KIND_DESCRIPTIONS,
                    REFERENCE, backbone_state_dict, checkpoint_kind,
                    describe_keys, get_state_dict, load_checkpoint_of_kind)
from .loading import (SAFE_CHECKPOINT_GLOBALS, load_local_checkpoint,
                      register_checkpoint_loader)

__all__ = [
    'BACKBONE', 'BACKBONE_PREFIX', 'CLSA_MM', 'KIND_DESCRIPTIONS', 'REFERENCE',
    'SAFE_CHECKPOINT_GLOBALS', 'CheckedPretrainedInit', 'atomic_write',
    'backbone_checkpoint', 'backbone_state_dict', 'check_fit',
    'check_pretrained_config', 'check_pretrained_model', 'check_resnet50',
    'checkpoint_kind', 'convert_reference_clsa', 'describe_keys',
    'describe_weights', 'detectron2_checkpoint', 'detectron2_name',
    'get_state_dict', 'load_checkpoint_of_kind',
    'load_local_checkpoint', 'partial_path', 'pretrained_cfg_options',
    'register_checkpoint_loader', 'save_checkpoint',
    'save_detectron2_checkpoint'
]
