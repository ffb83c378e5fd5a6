"""Helpers shared by the CLSA variants built on mmpretrain's methods."""
from contextlib import contextmanager
from typing import Iterator, List, Sequence, Tuple

import torch
import torch.nn as nn


def check_ddm_settings(ddm_temperature: float, ddm_weight: float,
                       num_strong_views: int) -> None:
    """Raise a ValueError naming the model key of a bad DDM setting.

    Args:
        ddm_temperature (float): ``model.ddm_temperature`` (T2), > 0.
        ddm_weight (float): ``model.ddm_weight`` (β), >= 0.
        num_strong_views (int): ``model.num_strong_views`` (J), >= 0.
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
