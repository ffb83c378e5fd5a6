"""Distributed runs without CUDA.

MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and wraps the
model in DDP with ``device_ids=[LOCAL_RANK]``; neither works on a CPU-only
machine. :func:`prepare_cpu_distributed` initialises a gloo process group
itself (so the Runner skips its own initialisation), wraps the model without
``device_ids`` and turns SyncBN into BN.
"""
import datetime
import os

import torch.distributed as torch_dist


def _replace_sync_bn(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'type' and value in ('SyncBN', 'MMSyncBN',
                                           'TorchSyncBN'):
                node[key] = 'BN'
            else:
                _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _replace_sync_bn(item)


def _env_from_launcher(launcher):
    """Rank, world size and local rank from the launcher's environment."""
    if launcher == 'pytorch':
        names = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')
    elif launcher == 'slurm':
        names = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID')
    elif launcher == 'mpi':
        names = ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
                 'OMPI_COMM_WORLD_LOCAL_RANK')
    else:
        raise ValueError(f'Unknown launcher {launcher!r}')
    missing = [n for n in names if n not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher {launcher} needs the environment variables '
            f'{", ".join(missing)}; start the job with tools/dist_train.sh '
            '(torchrun), srun or mpirun.')
    return tuple(int(os.environ[n]) for n in names)


def prepare_cpu_distributed(cfg, launcher):
    """Adapt ``cfg`` and start a gloo process group for a CPU-only machine.

    Args:
        cfg (mmengine.Config): The config; changed in place.
        launcher (str): ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    rank, world_size, local_rank = _env_from_launcher(launcher)
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(local_rank))
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')
    if not torch_dist.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {}
        if timeout is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        torch_dist.init_process_group(
            backend='gloo', rank=rank, world_size=world_size, **kwargs)
        # MMEngine's logger prints only rank 0 below ERROR; say once per rank
        # that it joined, so a hung or missing rank is visible.
        print(f'[rank {rank}/{world_size}] no CUDA: joined the gloo process '
              'group on the CPU', flush=True)

    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.pop('sync_bn', None)
    _replace_sync_bn(cfg.model)

