from typing import List, Optional, Sequence, Tuple

import torch

from clsa_mm.registry import MODELS, clsa_mm_scope
from .online_probe_mixin import OnlineProbeMixin


class TwoCropDDM(OnlineProbeMixin):
    """The DDM parts of a two-crop method, mixed in before its mmpretrain
    algorithm (``MoCoV3DDM``, ``SimCLRDDM``, ``BYOLDDM``).

    It builds the ``DDMHead`` as ``model.ddm_head``, checks
    ``model.num_strong_views``, builds the optional online probe
    (:class:`OnlineProbeMixin`) and hands the other arguments to the base
    method; :meth:`split_views` checks and splits a step's views.

    Args:
        ddm_head (dict): The ``DDMHead`` with T2 (``ddm_temperature``) and β
            (``loss_weight``).
        num_strong_views (int): The number J of strong views after the two
            crops. Defaults to 1.
        online_probe (dict, optional): The online linear probe on the
            detached backbone output of ``x_1``, e.g.
            ``dict(num_classes=1000)`` (:class:`OnlineProbeHead`). Defaults
            to None (none).
        **kwargs: The base method's arguments.
    """

    @clsa_mm_scope()  # mmpretrain's __init__ builds the parts
    def __init__(self,
                 ddm_head: dict,
                 num_strong_views: int = 1,
                 online_probe: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not (isinstance(num_strong_views, int) and num_strong_views >= 0):
            raise ValueError('model.num_strong_views must be an int >= 0, '
                             f'got {num_strong_views!r}')
        self.ddm_head = MODELS.build(ddm_head)
        self.num_strong_views = num_strong_views
        self.init_online_probe(online_probe)

    def split_views(
        self, inputs: Sequence[torch.Tensor]
    ) -> Tuple[List[torch.Tensor], List[torch.Tensor], int]:
        """The two crops, the strong views and the batch size N of
        ``[x_1, x_2, x_s[0], ..., x_s[J-1]]`` (each N×3×h×w)."""
        method, num_strong = type(self).__name__, self.num_strong_views
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f'{method} expects a list of views, got '
                            f'{type(inputs).__name__}')
        if len(inputs) != 2 + num_strong:
            raise ValueError(
                f'{method} expects {2 + num_strong} views per sample (2 crops '
                f'of the base method, then model.num_strong_views='
                f'{num_strong} strong views), but the data pipeline gave '
                f'{len(inputs)}. Make the pipeline\'s views and '
                'model.num_strong_views agree.')
        sizes = [x.shape[0] for x in inputs]
        batch_size, *others = set(sizes)
        if others:
            raise ValueError(
                f'All views must hold the same samples; batch sizes {sizes}')
        return list(inputs[:2]), list(inputs[2:]), batch_size
