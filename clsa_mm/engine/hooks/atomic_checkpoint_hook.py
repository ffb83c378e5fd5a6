import glob
import os
import os.path as osp
from collections import deque
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from clsa_mm.registry import HOOKS

from clsa_mm.checkpoint.atomic import PARTIAL_SUFFIX, atomic_write


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """A :class:`CheckpointHook` that a killed run cannot leave inconsistent.

    MMEngine's hook writes checkpoints and ``last_checkpoint`` in place and
    deletes the outdated checkpoint *before* writing the new one, so a run
    killed while saving can leave a truncated checkpoint, an empty
    ``last_checkpoint`` or (with ``max_keep_ckpts=1``) no checkpoint at all.
    This hook

    - writes local checkpoints through the ``atomic_local`` file backend
      (temporary file, fsync, ``os.replace``) unless ``backend_args`` names
      another backend,
    - replaces ``last_checkpoint`` atomically, only after the checkpoint it
      names is complete,
    - deletes outdated checkpoints only after that, and
    - removes ``.part`` files left by a killed run before training starts.

    ``--resume`` therefore always finds the last complete checkpoint.

    Args:
        backend_args (dict, optional): Arguments of the file backend. Defaults
            to ``dict(backend='atomic_local')`` for a local ``out_dir``.
        **kwargs: The other arguments of :class:`CheckpointHook`.
    """

    def __init__(self, backend_args: Optional[dict] = None, **kwargs):
        out_dir = kwargs.get('out_dir')
        if (backend_args is None and kwargs.get('file_client_args') is None
                and (out_dir is None or '://' not in str(out_dir))):
            backend_args = dict(backend='atomic_local')
        super().__init__(backend_args=backend_args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not (is_main_process() and osp.isdir(self.out_dir)):
            return
        for stale in glob.glob(osp.join(self.out_dir, f'.*{PARTIAL_SUFFIX}')):
            runner.logger.info(
                f'Removing {stale}, a checkpoint write that was interrupted.')
            os.remove(stale)

    def _save_checkpoint_with_step(self, runner, step, meta):
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        # The bookkeeping stored in the checkpoint already lists `step`; the
        # files it drops are removed once the new checkpoint is complete.
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            keep = list(self.keep_ckpt_ids) + [step]
            outdated = keep[:-self.max_keep_ckpts]
            keep = keep[-self.max_keep_ckpts:]
            self.keep_ckpt_ids = deque(keep, self.max_keep_ckpts)
            runner.message_hub.update_info('keep_ckpt_ids', keep)

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

        if not is_main_process():
            return
        atomic_write(
            self.last_ckpt.encode(), osp.join(runner.work_dir,
                                              'last_checkpoint'))
        for old_step in outdated:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                # checkpoints saved by DeepSpeed are directories
                self.file_backend.rmtree(path)
