import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook

from clsa_mm.registry import HOOKS


def get_rng_state() -> dict:
    """The python, numpy, torch and CUDA RNG states of this process.

    Only tensors and plain Python types, so that the checkpoint loads with
    ``torch.load(weights_only=True)``.
    """
    version, mt_state, gauss_next = random.getstate()
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = dict(
        python=dict(
            version=version,
            state=torch.tensor(mt_state, dtype=torch.int64),
            gauss_next=gauss_next),
        numpy=dict(
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore states returned by :func:`get_rng_state`."""
    python = state['python']
    random.setstate((python['version'], tuple(python['state'].tolist()),
                     python['gauss_next']))
    numpy = state['numpy']
    np.random.set_state(
        ('MT19937', numpy['keys'].numpy().astype(np.uint32), numpy['pos'],
         numpy['has_gauss'], numpy['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        for device, cuda_state in enumerate(
                state['cuda'][:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, device)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random number generators' states in checkpoints.

    MMEngine does not save RNG states, so a resumed run draws other random
    crops, augmentations and shuffle-BN permutations than the run it
    continues. This hook stores the python, numpy, torch and CUDA RNG states
    of every rank as ``checkpoint['rng_states']`` (a list indexed by rank)
    and restores them when training resumes, right before the first resumed
    iteration. In distributed runs the states of all ranks are gathered at
    the end of each epoch; a checkpoint saved in the middle of an epoch holds
    only rank 0's state and the other ranks keep their seeded RNGs. The
    states of dataloader worker processes cannot be saved: with
    ``num_workers > 0`` the workers are re-seeded as MMEngine does.

    Args:
        restore (bool): Whether to restore the states when resuming.
            Defaults to True.
    """

    priority = 'LOW'  # gather before CheckpointHook (VERY_LOW) saves

    def __init__(self, restore: bool = True):
        self.restore = restore
        self._gathered: Optional[tuple] = None
        self._to_restore: Optional[dict] = None
        self._before_val: Optional[dict] = None

    def after_train_epoch(self, runner) -> None:
        if get_world_size() > 1:
            self._gathered = (runner.iter,
                              all_gather_object(get_rng_state()))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._gathered is not None and self._gathered[0] == runner.iter:
            checkpoint['rng_states'] = self._gathered[1]
        else:
            checkpoint['rng_states'] = [get_rng_state()]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # `load_from` initialises weights only; `resume` continues a run.
        if not (self.restore and getattr(runner, '_resume', False)):
            return
        states = checkpoint.get('rng_states')
        rank = get_rank()
        if states is None:
            runner.logger.warning(
                'The checkpoint holds no RNG states (saved without '
                'RNGStateHook): the resumed run keeps its seeded RNGs.')
        elif rank < len(states):
            self._to_restore = states[rank]
        else:
            runner.logger.warning(
                f'The checkpoint holds the RNG states of {len(states)} '
                f'rank(s); rank {rank} keeps its seeded RNGs.')

    def before_val(self, runner) -> None:
        self._before_val = get_rng_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            set_rng_state(self._before_val)
            self._before_val = None

    def before_train(self, runner) -> None:
        # Not in after_load_checkpoint: Runner.resume re-seeds after loading
        # when the checkpoint's seed differs from the config's.
        if self._to_restore is not None:
            set_rng_state(self._to_restore)
            self._to_restore = None
            runner.logger.info('Restored the RNG states of the checkpoint.')
