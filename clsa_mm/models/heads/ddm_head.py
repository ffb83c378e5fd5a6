from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule

from clsa_mm.registry import MODELS
from ..losses import ddm_loss
from ..losses.ddm_loss import _fp32


@MODELS.register_module()
class DDMHead(BaseModule):
    """CLSA's distributional divergence minimisation (DDM), for any method.

    The one DDM component of CLSA (``docs/method_ddm.md``); it holds and
    checks β and T2. :meth:`ddm` gives ``loss_ddm = β · L_D`` over a base
    method's anchors and bank (:func:`~clsa_mm.models.losses.ddm_loss`):
    MoCoV3DDM, SimCLRDDM and BYOLDDM call it beside their base method's
    head (``model.ddm_head``). In CLSA on MoCo v2 it is the whole head
    (``model.head``): :meth:`loss` scores all weak queries against the bank
    ``[Kall; Qᵀ]`` (gathered keys, then the queue) in one matrix product,
    in fp32 (fp64 stays, also under autocast), and gives

    - ``L_C = Σ_i CE([q_i·Kallᵀ, q_i·Q] / T, rank·N + n)``: the row's own
      key is the target, the other ``B - 1`` gathered keys are negatives;
    - ``L_D = Σ_i Σ_j mean_n(-Σ_c p_i · log_softmax([s_j·Kallᵀ, s_j·Q] /
      T2))`` with ``p_i = softmax(stopgrad(logits_i) · T / T2)``: :meth:`ddm`
      on that bank, the targets being the contrastive log-probabilities
      when ``T == T2``;
    - the detached statistics ``pos_sim`` (mean cosine similarity of a weak
      query and its key), ``neg_sim`` (over all other bank columns) and
      ``ddm_entropy`` (of ``p_i``), logged but not summed by MMEngine.

    Args:
        temperature (float): Contrastive temperature T of :meth:`loss`; the
            other methods keep theirs in their own head. Defaults to 0.2.
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
        for key, value, ok, rule in (
                ('temperature', temperature, temperature > 0, '> 0'),
                ('ddm_temperature', ddm_temperature, ddm_temperature > 0,
                 '> 0'),
                ('loss_weight (beta)', loss_weight, loss_weight >= 0, '>= 0')):
            if not ok:
                raise ValueError(
                    f'model.head.{key} must be {rule}, got {value!r} '
                    f'(model.ddm_head.{key.split()[0]} beside a base '
                    'method\'s head: MoCoV3DDM, SimCLRDDM, BYOLDDM)')
        self.temperature = temperature
        self.ddm_temperature = ddm_temperature
        self.loss_weight = loss_weight

    def ddm(self, anchors: Sequence[torch.Tensor],
            strongs: Sequence[torch.Tensor], bank: torch.Tensor,
            **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_ddm`` (β applied) and ``ddm_entropy``: ``ddm_loss`` at T2
        (``kwargs``: its ``excluded`` or ``anchor_log_probs``)."""
        loss, stats = ddm_loss(anchors, strongs, bank, self.ddm_temperature,
                               **kwargs)
        return dict(loss_ddm=self.loss_weight * loss, **stats)

    @staticmethod
    def bank(keys: torch.Tensor, queue: torch.Tensor, rank: int,
             n: int) -> torch.Tensor:
        """``[Kall; Qᵀ]``, d × (B + K): a new tensor, so the queue may be
        updated in place before the backward pass. Refuses ``keys`` that do
        not hold rank ``rank``'s ``n`` rows."""
        if keys.shape[0] < (rank + 1) * n:
            raise ValueError(
                f'{keys.shape[0]} gathered keys cannot hold the keys of rank '
                f'{rank} with {n} samples per rank')
        return torch.cat([keys.detach().t().to(queue.dtype), queue.detach()],
                         dim=1)

    def loss(self, queries: List[torch.Tensor], strongs: List[torch.Tensor],
             keys: torch.Tensor, queue: torch.Tensor,
             rank: int) -> Dict[str, torch.Tensor]:
        """The losses and the statistics of one CLSA step on MoCo v2.

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
            dict[str, Tensor]: ``loss_contrastive``, ``loss_ddm`` (β applied)
            and the statistics.
        """
        n = queries[0].shape[0]
        bank = self.bank(keys, queue, rank, n)
        sim_q = torch.cat(queries) @ bank  # (I·N) × (B + K)
        target = torch.arange(rank * n, (rank + 1) * n,
                              device=sim_q.device).repeat(len(queries))
        logp_q = (_fp32(sim_q) / self.temperature).log_softmax(dim=1)
        loss_contrastive = -logp_q.gather(1, target[:, None]).sum() / n
        with torch.no_grad():
            sim = _fp32(sim_q.detach())
            pos = sim.gather(1, target[:, None]).squeeze(1)
            neg = (sim.sum(dim=1) - pos) / (bank.shape[1] - 1)
        # T == T2 (the default): the targets are the contrastive
        # log-probabilities, one softmax over (I·N) × (B + K) less.
        reuse = self.ddm_temperature == self.temperature
        losses = self.ddm(queries, strongs, bank,
                          anchor_log_probs=logp_q.detach() if reuse else None)
        return dict(loss_contrastive=loss_contrastive, pos_sim=pos.mean(),
                    neg_sim=neg.mean(), **losses)
