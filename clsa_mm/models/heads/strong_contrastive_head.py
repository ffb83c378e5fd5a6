from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModule

from clsa_mm.registry import MODELS
from ..losses.ddm_loss import _fp32
from .ddm_head import DDMHead


@MODELS.register_module()
class StrongContrastiveHead(BaseModule):
    """MoCo v2 with the strong views as extra contrastive queries.

    The "naive" use of stronger augmentations that CLSA's DDM replaces
    (``docs/demo.md``). It has :class:`DDMHead`'s call interface, so
    :class:`CLSA` trains it with the same views, keys, queue and EMA. Every
    view, weak or strong, is scored against the bank ``[Kall; Qᵀ]``
    (gathered keys, then the queue) at the temperature T, and row n's
    positive is its own sample's key, at column ``rank·N + n``:

    - ``L_C = Σ_i CE([q_i·Kallᵀ, q_i·Q] / T, rank·N + n)`` (as
      :class:`DDMHead`'s contrastive loss),
    - ``L_S = (1/J) Σ_j CE([s_j·Kallᵀ, s_j·Q] / T, rank·N + n)``,
    - ``L = L_C + β·L_S``.

    Each CE is the mean over the N rows. With β = 0 the loss is the
    contrastive loss of MoCo v2 as CLSA computes it.

    Args:
        temperature (float): Temperature T of both terms. Defaults to 0.2.
        loss_weight (float): Weight β of the strong queries' loss.
            Defaults to 1.0.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 temperature: float = 0.2,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not temperature > 0:
            raise ValueError(
                f'model.head.temperature must be > 0, got {temperature!r}')
        if not loss_weight >= 0:
            raise ValueError('model.head.loss_weight (beta) must be >= 0, '
                             f'got {loss_weight!r}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def _nce(self, views: List[torch.Tensor], bank: torch.Tensor,
             target: torch.Tensor) -> torch.Tensor:
        """The summed InfoNCE of ``views`` over ``bank``, / N."""
        logp = (_fp32(torch.cat(views) @ bank) /
                self.temperature).log_softmax(dim=1)
        rows = target.repeat(len(views))[:, None]
        return -logp.gather(1, rows).sum() / target.shape[0]

    def loss(self, queries: List[torch.Tensor], strongs: List[torch.Tensor],
             keys: torch.Tensor, queue: torch.Tensor,
             rank: int) -> Dict[str, torch.Tensor]:
        """The losses and statistics of one step; the arguments are those of
        :meth:`DDMHead.loss`. Returns ``loss_contrastive``, ``loss_strong``
        (β applied) and the weak queries' ``pos_sim`` and ``neg_sim``."""
        n = queries[0].shape[0]
        bank = DDMHead.bank(keys, queue, rank, n)
        target = torch.arange(rank * n, (rank + 1) * n, device=bank.device)
        loss_strong = self._nce(strongs, bank, target) / len(strongs)
        with torch.no_grad():
            sim = _fp32(torch.cat(queries).detach() @ bank)
            pos = sim.gather(1, target.repeat(len(queries))[:, None])
            neg = (sim.sum(dim=1) - pos.squeeze(1)) / (bank.shape[1] - 1)
        return dict(
            loss_contrastive=self._nce(queries, bank, target),
            loss_strong=self.loss_weight * loss_strong,
            pos_sim=pos.mean(),
            neg_sim=neg.mean())
