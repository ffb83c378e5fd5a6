from typing import List, Sequence, Tuple

import torch


def check_num_strong_views(num_strong: int) -> int:
    """``model.num_strong_views`` of a two-crop method, checked (>= 0)."""
    if not (isinstance(num_strong, int) and num_strong >= 0):
        raise ValueError(f'model.num_strong_views must be an int >= 0, got '
                         f'{num_strong!r}')
    return num_strong


def split_views(inputs: Sequence[torch.Tensor], num_strong: int,
                method: str) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """Split ``[x_1, x_2, x_s[0], ..., x_s[J-1]]`` of a two-crop method.

    Args:
        inputs (Sequence[Tensor]): The views, each N×3×h×w.
        num_strong (int): J, ``model.num_strong_views``.
        method (str): The model's name, for the error message.

    Returns:
        tuple[list, list]: The two crops and the strong views.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f'{method} expects a list of views, got '
                        f'{type(inputs).__name__}')
    if len(inputs) != 2 + num_strong:
        raise ValueError(
            f'{method} expects {2 + num_strong} views per sample (2 crops '
            f'of the base method, then model.num_strong_views={num_strong} '
            f'strong views), but the data pipeline gave {len(inputs)}. Make '
            'the pipeline\'s views and model.num_strong_views agree.')
    sizes = [x.shape[0] for x in inputs]
    if len(set(sizes)) != 1:
        raise ValueError(
            f'All views must hold the same samples; batch sizes {sizes}')
    return list(inputs[:2]), list(inputs[2:])
