"""Runs of a test's worker in two CPU processes (gloo)."""
import os
import os.path as osp

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from cli_helpers import free_port

WORLD = 2


def init_gloo(rank, port):
    """Join the gloo group of :func:`run_gloo`, in a worker."""
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)


def run_gloo(worker, out_dir, *args):
    """Run ``worker(rank, port, out_dir, *args)`` in WORLD processes and
    return what each rank saved as ``out_dir/rank<r>.pth``."""
    mp.start_processes(worker, args=(free_port(), str(out_dir), *args),
                       nprocs=WORLD, join=True, start_method='spawn')
    return [torch.load(osp.join(out_dir, f'rank{r}.pth'), weights_only=False)
            for r in range(WORLD)]
