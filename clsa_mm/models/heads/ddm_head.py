from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModule

from clsa_mm.registry import MODELS
from ..losses import ddm_loss
from ..losses.ddm_loss import _fp32


@MODELS.register_module()
class DDMHead(BaseModule):
    """Contrastive loss and distributional divergence minimisation (DDM).

    The losses of one CLSA step (``docs/method.md``). Every view is scored
    against the bank ``[Kall; Qᵀ]`` (gathered keys, then the queue) with one
    matrix product per view set (all weak queries together, all strong views
    together). The logits are turned to fp32 (fp64 stays) before
    ``log_softmax``, so the DDM targets and log-probabilities are fp32 also
    under autocast.

    - ``L_C = Σ_i CE([q_i·Kallᵀ, q_i·Q] / T, rank·N + n)``: the row's own
      key is the target, the other ``B - 1`` gathered keys are negatives.
    - ``L_D = Σ_i Σ_j mean_n(-Σ_c p_i · log_softmax(slogits_j))`` with
      ``p_i = softmax(stopgrad(logits_i) · T / T2)`` and
      ``slogits_j = [s_j·Kallᵀ, s_j·Q] / T2``, computed by
      :func:`~clsa_mm.models.losses.ddm_loss` with the weak log-probabilities
      of the contrastive loss as targets when ``T == T2``.

    :meth:`loss` also returns the detached statistics ``pos_sim`` (mean
    cosine similarity of a weak query and its key), ``neg_sim`` (mean over
    all other bank entries) and ``ddm_entropy`` (mean entropy of ``p_i``):
    MMEngine logs them and sums only the ``loss*`` entries.

    Args:
        temperature (float): Contrastive temperature T. Defaults to 0.2.
        ddm_temperature (float): DDM temperature T2. Defaults to 0.2.
        loss_weight (float): Weight β of the DDM loss. Defaults to 1.0.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 temperature: float = 0.2,
                 ddm_temperature: float = 0.2,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for key, value in (('temperature', temperature),
                           ('ddm_temperature', ddm_temperature)):
            if not value > 0:
                raise ValueError(
                    f'model.head.{key} must be > 0, got {value!r}')
        if not loss_weight >= 0:
            raise ValueError('model.head.loss_weight (beta) must be >= 0, '
                             f'got {loss_weight!r}')
        self.temperature = temperature
        self.ddm_temperature = ddm_temperature
        self.loss_weight = loss_weight

    def loss(self, queries: List[torch.Tensor], strongs: List[torch.Tensor],
             keys: torch.Tensor, queue: torch.Tensor,
             rank: int) -> Dict[str, torch.Tensor]:
        """Compute the losses and the statistics of one step.

        Args:
            queries (list[Tensor]): The I weak query embeddings ``q_i``,
                each N×d and L2-normalised.
            strongs (list[Tensor]): The J strong embeddings ``s_j``, each
                N×d and L2-normalised.
            keys (Tensor): The keys of all ranks ``Kall``, B×d. No gradient.
            queue (Tensor): The queue ``Q``, d×K. No gradient.
            rank (int): The rank of this process; row n of a query has its
                key at ``rank·N + n``.

        Returns:
            dict[str, Tensor]: ``loss_contrastive``, ``loss_ddm`` (β
            applied) and the statistics ``pos_sim``, ``neg_sim`` and
            ``ddm_entropy``.
        """
        num_weak = len(queries)
        n = queries[0].shape[0]
        if keys.shape[0] < (rank + 1) * n:
            raise ValueError(
                f'{keys.shape[0]} gathered keys cannot hold the keys of rank '
                f'{rank} with {n} samples per rank')
        # d × (B + K); a new tensor, so the queue may be updated in place
        # before the backward pass.
        bank = torch.cat([keys.detach().t().to(queue.dtype), queue.detach()],
                         dim=1)
        num_cols = bank.shape[1]
        sim_q = torch.cat(queries) @ bank  # (I·N) × (B + K)

        target = torch.arange(
            rank * n, (rank + 1) * n, device=sim_q.device).repeat(num_weak)
        logp_q = (_fp32(sim_q) / self.temperature).log_softmax(dim=1)
        loss_contrastive = -logp_q.gather(1, target[:, None]).sum() / n

        with torch.no_grad():
            sim = _fp32(sim_q.detach())
            pos = sim.gather(1, target[:, None]).squeeze(1)
            neg = (sim.sum(dim=1) - pos) / (num_cols - 1)

        # The DDM targets reuse the contrastive log-probabilities when
        # T == T2 (the default): one softmax over (I·N) × (B + K) less.
        # Otherwise ddm_loss computes them.
        reuse = self.ddm_temperature == self.temperature
        loss_ddm, ddm_stats = ddm_loss(
            queries, strongs, bank, self.ddm_temperature,
            anchor_log_probs=logp_q.detach() if reuse else None)
        return dict(
            loss_contrastive=loss_contrastive,
            loss_ddm=self.loss_weight * loss_ddm,
            pos_sim=pos.mean(),
            neg_sim=neg.mean(),
            ddm_entropy=ddm_stats['ddm_entropy'])
