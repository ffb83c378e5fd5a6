from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule

from clsa_mm.registry import MODELS


def _fp32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in fp32, or in its own dtype if that is wider (fp64)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


@MODELS.register_module()
class DDMHead(BaseModule):
    """Contrastive loss and distributional divergence minimisation (DDM).

    The losses of one CLSA step (CLSA_SPEC §4). Every view is scored
    against the bank ``[Kall; Qᵀ]`` (gathered keys, then the queue) with one
    matrix product per view set (all weak queries together, all strong views
    together). The logits are turned to fp32 (fp64 stays) before
    ``log_softmax``, so the DDM targets and log-probabilities are fp32 also
    under autocast.

    - ``L_C = Σ_i CE([q_i·Kallᵀ, q_i·Q] / T, rank·N + n)``: the row's own
      key is the target, the other ``B - 1`` gathered keys are negatives.
    - ``L_D = Σ_i Σ_j mean_n(-Σ_c p_i · log_softmax(slogits_j))`` with
      ``p_i = softmax(stopgrad(logits_i) · T / T2)`` and
      ``slogits_j = [s_j·Kallᵀ, s_j·Q] / T2``. The double sum is evaluated
      as ``-mean_n Σ_c (Σ_i p_i)(Σ_j log_softmax(slogits_j))``, which is the
      same sum of ``I × J`` terms without ``I × J`` products.

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
        self.temperature = temperature
        self.ddm_temperature = ddm_temperature
        self.loss_weight = loss_weight

    def loss(self, queries: List[torch.Tensor], strongs: List[torch.Tensor],
             keys: torch.Tensor, queue: torch.Tensor, rank: int
             ) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
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
            tuple[dict, dict]: The losses ``loss_contrastive`` and
            ``loss_ddm`` (β applied), and the statistics ``pos_sim`` (mean
            cosine similarity of a weak query and its key), ``neg_sim``
            (mean over all other bank entries) and ``ddm_entropy`` (mean
            entropy of the DDM targets ``p_i``), detached.
        """
        num_weak, num_strong = len(queries), len(strongs)
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
        sim_s = torch.cat(strongs) @ bank  # (J·N) × (B + K)

        target = torch.arange(
            rank * n, (rank + 1) * n, device=sim_q.device).repeat(num_weak)
        logp_q = (_fp32(sim_q) / self.temperature).log_softmax(dim=1)
        loss_contrastive = -logp_q.gather(1, target[:, None]).sum() / n

        with torch.no_grad():
            if self.ddm_temperature == self.temperature:
                logp_target = logp_q.detach()
            else:
                logp_target = (_fp32(sim_q.detach()) /
                               self.ddm_temperature).log_softmax(dim=1)
            p = logp_target.exp()
            entropy = -(p * logp_target).sum(dim=1).mean()
            sim = _fp32(sim_q.detach())
            pos = sim.gather(1, target[:, None]).squeeze(1)
            neg = (sim.sum(dim=1) - pos) / (num_cols - 1)
            p_sum = p.view(num_weak, n, num_cols).sum(dim=0)

        logp_s = (_fp32(sim_s) / self.ddm_temperature).log_softmax(dim=1)
        logp_s_sum = logp_s.view(num_strong, n, num_cols).sum(dim=0)
        loss_ddm = -(p_sum * logp_s_sum).sum() / n

        losses = dict(
            loss_contrastive=loss_contrastive,
            loss_ddm=self.loss_weight * loss_ddm)
        stats = dict(
            pos_sim=pos.mean(), neg_sim=neg.mean(), ddm_entropy=entropy)
        return losses, stats
