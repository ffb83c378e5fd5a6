from typing import Optional, Sequence, Union

import torch
from mmengine.dist import (all_reduce, get_comm_device, get_rank,
                           get_world_size)
from mmengine.hooks import Hook

from clsa_mm.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training at the first iteration whose loss is NaN or infinite.

    Every loss term the model returns (each output whose name contains
    ``'loss'``, as MMEngine's ``parse_losses`` counts them) is checked after
    every iteration; the flags are summed over all ranks, so all ranks stop
    together. The error names the iteration and the non-finite terms. The
    hook runs before :class:`CheckpointHook`, so no checkpoint is written
    from the diverged weights.

    Args:
        keys (Sequence[str], optional): Names of the outputs to check.
            Defaults to None, every output whose name contains ``'loss'``.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, keys: Optional[Sequence[str]] = None):
        self.keys = None if keys is None else list(keys)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Union[dict, tuple, list, None] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        names = self.keys if self.keys is not None else sorted(
            k for k in outputs if 'loss' in k)
        if not names:
            return
        values = torch.stack([
            torch.as_tensor(outputs[k], dtype=torch.float64).detach().cpu()
            .mean() for k in names
        ])
        flags = (~torch.isfinite(values)).int().to(get_comm_device())
        all_reduce(flags, op='sum')
        bad = [name for name, flag in zip(names, flags.tolist()) if flag]
        if not bad:
            return
        terms = ', '.join(f'{name}={values[names.index(name)].item()}'
                          for name in bad)
        world_size = get_world_size()
        if world_size > 1:
            ranks = max(flags.tolist())
            terms += (f' (values of rank {get_rank()}; non-finite on {ranks} '
                      f'of {world_size} ranks)')
        last = runner.message_hub.get_info('last_ckpt')
        resume = (f'; the last checkpoint, {last}, was saved before it'
                  if last else '')
        raise FloatingPointError(
            f'Non-finite loss at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}, batch {batch_idx + 1}): {terms}. Training '
            f'stopped{resume}. Lower the learning rate or check the data and '
            'the loss inputs.')
