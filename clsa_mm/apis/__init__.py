from .runner import build_runner, destroy_process_group, parse_runner_args

__all__ = ['build_runner', 'destroy_process_group', 'parse_runner_args']
