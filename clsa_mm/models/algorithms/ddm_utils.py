"""Helpers shared by the CLSA variants built on mmpretrain's methods."""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence, Tuple

import torch
import torch.nn as nn


def init_ddm(model: nn.Module, num_strong_views: int,
             ddm_temperature: float, ddm_weight: float) -> None:
    """Check a CLSA variant's DDM settings and set them on ``model``.

    Raises a ValueError naming the model key of a bad setting.

    Args:
        model (nn.Module): The variant, after its base ``__init__``.
        num_strong_views (int): ``model.num_strong_views`` (J), >= 0.
        ddm_temperature (float): ``model.ddm_temperature`` (T2), > 0.
        ddm_weight (float): ``model.ddm_weight`` (β), >= 0.
    """
    if not ddm_temperature > 0:
        raise ValueError(f'model.ddm_temperature (T2) must be > 0, got '
                         f'{ddm_temperature!r}')
    if not ddm_weight >= 0:
        raise ValueError(f'model.ddm_weight (beta) must be >= 0, got '
                         f'{ddm_weight!r}')
    if not (isinstance(num_strong_views, int) and num_strong_views >= 0):
        raise ValueError(f'model.num_strong_views must be an int >= 0, got '
                         f'{num_strong_views!r}')
    model.num_strong_views = num_strong_views
    model.ddm_temperature = ddm_temperature
    model.ddm_weight = ddm_weight


def add_ddm_loss(losses: Dict[str, torch.Tensor], base_name: str,
                 loss_ddm: torch.Tensor, ddm_weight: float,
                 **stats: torch.Tensor) -> Dict[str, torch.Tensor]:
    """The base method's losses with the DDM loss and statistics added.

    The base method's ``loss`` is renamed ``base_name``: MMEngine's
    ``parse_losses`` logs the total under ``loss``, which would otherwise
    hide the base term.

    Args:
        losses (dict[str, Tensor]): What the base method's ``loss()``
            returned, with its term under ``loss``.
        base_name (str): The new name of that term, e.g.
            ``'loss_contrastive'``.
        loss_ddm (Tensor): L_D, before β.
        ddm_weight (float): β.
        **stats (Tensor): Detached statistics to log.

    Returns:
        dict[str, Tensor]: ``base_name``, ``loss_ddm`` (β applied), the
        statistics, and any other key of ``losses``.
    """
    losses = dict(losses)
    losses[base_name] = losses.pop('loss')
    losses.update(loss_ddm=ddm_weight * loss_ddm, **stats)
    return losses


def split_views(inputs: Sequence[torch.Tensor], num_weak: int,
                num_strong: int, method: str
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """Split ``[weak_0, ..., weak_{I-1}, strong_0, ..., strong_{J-1}]``.

    Args:
        inputs (Sequence[Tensor]): The views, each N×3×h×w.
        num_weak (int): I, the views of the base method.
        num_strong (int): J, ``model.num_strong_views``.
        method (str): The model's name, for the error message.

    Returns:
        tuple[list, list]: The weak and the strong views.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f'{method} expects a list of views, got '
                        f'{type(inputs).__name__}')
    if len(inputs) != num_weak + num_strong:
        raise ValueError(
            f'{method} expects {num_weak + num_strong} views per sample '
            f'({num_weak} crops of the base method, then '
            f'model.num_strong_views={num_strong} strong views), but the '
            f'data pipeline gave {len(inputs)}. Make the pipeline\'s views '
            'and model.num_strong_views agree.')
    sizes = [x.shape[0] for x in inputs]
    if len(set(sizes)) != 1:
        raise ValueError(
            f'All views must hold the same samples; batch sizes {sizes}')
    return list(inputs[:num_weak]), list(inputs[num_weak:])


@contextmanager
def recorded_outputs(module: nn.Module) -> Iterator[List[torch.Tensor]]:
    """Record the first output of every call of ``module`` inside the block.

    Lets a CLSA variant reuse the embeddings that a base method's own
    ``loss()`` computes (mmpretrain's ``SimCLR``/``BYOL`` keep them local)
    without computing them twice. The outputs are detached: DDM only reads
    them as targets and bank entries. The hook is removed on exit.

    Args:
        module (nn.Module): The module to watch; its output is a tensor or
            a tuple/list whose first item is one.

    Yields:
        list[Tensor]: The outputs, in call order.
    """
    outputs: List[torch.Tensor] = []

    def hook(_module, _args, output):
        if isinstance(output, (tuple, list)):
            output = output[0]
        outputs.append(output.detach())

    handle = module.register_forward_hook(hook)
    try:
        yield outputs
    finally:
        handle.remove()
