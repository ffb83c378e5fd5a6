from .config import (QUICK_RECIPE, check_cfg_options, load_config,
                     scale_crops, set_work_dir, shrink_config)
from .cpu_distributed import prepare_cpu_distributed
from .online_monitors import add_online_monitors, read_online_monitors
from .setup_env import register_all_modules
from .split_bn import check_split_bn

__all__ = [
    'QUICK_RECIPE', 'add_online_monitors', 'check_cfg_options',
    'check_split_bn', 'load_config', 'prepare_cpu_distributed',
    'read_online_monitors', 'register_all_modules', 'scale_crops',
    'set_work_dir', 'shrink_config'
]
