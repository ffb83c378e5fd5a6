import gc
import os

import torch
from mmengine.config import DictAction
from mmengine.runner import Runner

from clsa_mm.registry import RUNNERS
from clsa_mm.utils import check_split_bn, prepare_cpu_distributed


def parse_runner_args(parser, args=None):
    """Add the arguments tools/train.py and tools/test.py share, and parse.

    The shared ones are ``--cfg-options`` (checked by
    :func:`clsa_mm.utils.load_config`), ``--launcher`` and ``--local-rank``,
    which also becomes ``LOCAL_RANK`` unless that is set.

    Args:
        parser (argparse.ArgumentParser): The tool's own arguments.
        args (list[str], optional): Instead of ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings, key=value; every key must exist in the '
        'config (except constructor arguments of a dict with a "type")')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(args)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_runner(cfg):
    """The runner of a merged config, as tools/train.py and test.py use it.

    A config with split BN where it cannot apply is refused
    (:func:`check_split_bn`). A launcher other than ``none`` on a machine
    without CUDA first gets a gloo process group
    (:func:`prepare_cpu_distributed`). A config with a ``runner_type`` is
    built from the registry, any other with ``Runner.from_cfg``.

    Args:
        cfg (mmengine.Config): The config, ``cfg.launcher`` set.

    Returns:
        mmengine.runner.Runner: The runner.
    """
    check_split_bn(cfg)
    launcher = cfg.get('launcher', 'none')
    if launcher != 'none' and not torch.cuda.is_available():
        prepare_cpu_distributed(cfg, launcher)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def destroy_process_group():
    """End the process group, if any: an undestroyed gloo group can abort
    the process at exit."""
    if torch.distributed.is_initialized():
        # A finished Runner sits in reference cycles, and its
        # MMDistributedDataParallel keeps the group alive past
        # destroy_process_group until the interpreter exits, when the peers
        # are gone: free it while every rank still runs.
        gc.collect()
        # Tear down together: a rank whose peers have already closed their
        # gloo connections can abort ('terminate called without an active
        # exception') while it destroys its own group.
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
