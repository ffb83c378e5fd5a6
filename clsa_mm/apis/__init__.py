from .ablation import Ablation
from .demo import Demo, format_table
from .demo_data import make_demo_data
from .pipeline_benchmark import compare_pipelines
from .quiet_steps import QuietSteps
from .runner import build_runner, destroy_process_group, parse_runner_args

__all__ = [
    'Ablation', 'Demo', 'QuietSteps', 'build_runner', 'compare_pipelines',
    'destroy_process_group', 'format_table', 'make_demo_data',
    'parse_runner_args'
]
