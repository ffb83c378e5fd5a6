"""Modules that the crash-safety tests load into training subprocesses.

Imported through ``custom_imports`` (the test puts this folder on
``PYTHONPATH``). Environment variables steer :class:`CrashTestHook`:

- ``CRASH_AT_ITER=N``: after iteration N, touch ``CRASH_MARKER`` and hang,
  so that the test can SIGKILL the run at a known point mid-epoch.
- ``CRASH_IN_WRITE=NAME``: a file whose name contains NAME is opened for
  writing by a local file backend: write half of it, flush it to disk,
  touch ``CRASH_MARKER`` and hang (a kill in the middle of a checkpoint
  write, whichever backend writes it).
- ``DUMP_RESUMED_STATE=PATH``: when training starts (after resuming and
  after every other hook's ``before_train``) save the runner's model,
  optimizer, scheduler and RNG states to PATH (``PATH.rank<r>`` in a
  distributed run) for comparison.
"""
import builtins
import os
import os.path as osp
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import BaseModel, ExponentialMovingAverage
from torch.utils.data import Dataset

from clsa_mm.engine.hooks.rng_state_hook import get_rng_state
from clsa_mm.registry import DATASETS, HOOKS, MODELS

HANG_SECONDS = 3600


@DATASETS.register_module(force=True)
class CrashTestVectors(Dataset):
    """``num`` fixed random vectors of length ``dim``."""

    def __init__(self, num=16, dim=8):
        self.data = torch.from_numpy(
            np.random.default_rng(0).normal(size=(num, dim))).float()
        self.metainfo = dict(classes=('vector', ))

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return dict(inputs=self.data[idx])


@MODELS.register_module(force=True)
class CrashTestQueueModel(BaseModel):
    """A MoCo-like toy: encoder, EMA encoder, a queue and its pointer.

    Its forward draws from the torch, numpy and python RNGs, so a resumed
    run only continues exactly when all three are restored. With
    ``nan_at_call=k`` the ``loss_queue`` term is NaN from the k-th call on.
    """

    def __init__(self, dim=8, queue_len=12, nan_at_call=None):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim))
        self.momentum_encoder = ExponentialMovingAverage(
            self.encoder, momentum=0.1)
        self.register_buffer('queue',
                             F.normalize(torch.randn(dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
        self.nan_at_call = nan_at_call
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.calls += 1
        noise = (0.1 * torch.randn_like(inputs) + 0.01 * np.random.randn() +
                 0.01 * random.random())
        q = F.normalize(self.encoder(inputs + noise), dim=1)
        self.momentum_encoder.update_parameters(self.encoder)
        with torch.no_grad():
            perm = torch.randperm(len(inputs))
            k = F.normalize(self.momentum_encoder(inputs[perm]), dim=1)
            k = k[torch.argsort(perm)]
        loss_pos = -(q * k).sum(1).mean()
        loss_queue = torch.logsumexp(
            q @ self.queue.clone() / 0.2, dim=1).mean()
        if self.nan_at_call is not None and self.calls >= self.nan_at_call:
            loss_queue = loss_queue * float('nan')
        with torch.no_grad():
            ptr = int(self.queue_ptr)
            self.queue[:, ptr:ptr + len(k)] = k.t()
            self.queue_ptr[0] = (ptr + len(k)) % self.queue.shape[1]
        return dict(loss_pos=loss_pos, loss_queue=loss_queue)


class _HalfWrittenFile:
    """Writes half of the first write, then signals the test and hangs."""

    def __init__(self, file, marker):
        self._file = file
        self._marker = marker

    def write(self, data):
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        os.fsync(self._file.fileno())
        _touch(self._marker)
        time.sleep(HANG_SECONDS)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


def _touch(path):
    with builtins.open(path, 'w') as f:
        f.write(str(os.getpid()))


def _stall_writes_of(name, marker):
    """Make the local file backends hang half-way through writing ``name``.

    Both backends look ``open`` up in their module's globals first.
    """
    from mmengine.fileio.backends import local_backend

    from clsa_mm.checkpoint import atomic

    def stalling_open(path, mode='r', *args, **kwargs):
        file = builtins.open(path, mode, *args, **kwargs)
        if 'w' in mode and name in osp.basename(str(path)):
            return _HalfWrittenFile(file, marker)
        return file

    local_backend.open = stalling_open
    atomic.open = stalling_open


def dump_runner_state(runner, path):
    """Save what a resumed run must have restored, for comparison."""
    model = runner.model.module if hasattr(runner.model,
                                           'module') else runner.model
    torch.save(
        dict(
            epoch=runner.epoch,
            iter=runner.iter,
            state_dict=model.state_dict(),
            optimizer=runner.optim_wrapper.state_dict(),
            param_schedulers=[s.state_dict() for s in runner.param_schedulers],
            rng_state=get_rng_state()), path)


@HOOKS.register_module(force=True)
class CrashTestHook(Hook):
    """Crash or dump state as the environment variables ask (see module)."""

    priority = 'LOWEST'

    def __init__(self):
        env = os.environ
        self.crash_at_iter = int(env.get('CRASH_AT_ITER', 0))
        self.marker = env.get('CRASH_MARKER')
        self.dump_path = env.get('DUMP_RESUMED_STATE')
        if env.get('CRASH_IN_WRITE'):
            _stall_writes_of(env['CRASH_IN_WRITE'], self.marker)

    def before_train(self, runner):
        if self.dump_path:
            suffix = f'.rank{get_rank()}' if get_world_size() > 1 else ''
            dump_runner_state(runner, self.dump_path + suffix)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.crash_at_iter:
            _touch(self.marker)
            time.sleep(HANG_SECONDS)
