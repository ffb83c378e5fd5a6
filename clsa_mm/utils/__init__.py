from .checkpoint import (SAFE_CHECKPOINT_GLOBALS, load_local_checkpoint,
                         register_checkpoint_loader)
from .config import check_cfg_options
from .cpu_distributed import prepare_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'SAFE_CHECKPOINT_GLOBALS', 'check_cfg_options', 'load_local_checkpoint',
    'prepare_cpu_distributed', 'register_all_modules',
    'register_checkpoint_loader'
]
