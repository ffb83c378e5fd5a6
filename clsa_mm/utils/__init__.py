from .config import check_cfg_options, load_config, set_work_dir
from .cpu_distributed import prepare_cpu_distributed
from .setup_env import register_all_modules
from .split_bn import check_split_bn

__all__ = [
    'check_cfg_options', 'check_split_bn', 'load_config',
    'prepare_cpu_distributed', 'register_all_modules', 'set_work_dir'
]
