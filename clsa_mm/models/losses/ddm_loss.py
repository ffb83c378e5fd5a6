from typing import Dict, Optional, Sequence, Tuple

import torch


def _fp32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in fp32, or in its own dtype if that is wider (fp64)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def ddm_loss(anchors: Sequence[torch.Tensor],
             strongs: Sequence[torch.Tensor],
             bank: torch.Tensor,
             temperature: float,
             excluded: Optional[Sequence[torch.Tensor]] = None,
             anchor_log_probs: Optional[torch.Tensor] = None
             ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Distributional divergence minimisation (DDM) over a base method's bank.

    Every weak anchor ``a_i`` spreads over its support ``S_i`` of the bank
    ``R`` as ``p_i = softmax(stopgrad(a_i·R_{S_i}) / T2)``; every strong
    view ``s_j`` is scored against the same columns and pulled towards
    ``p_i``::

        L_D = Σ_i Σ_j mean_n(-Σ_c p_i[n, c] · log_softmax(s_j·R / T2)[n, c])

    A row's support is the whole bank but the columns its anchor leaves out
    (``excluded``). The logits are fp32 (fp64 stays), also under autocast.
    ``s_j·R`` is computed once for all anchors, and the sum is evaluated as
    ``(1/N) Σ_i Σ_j Σ_n (lse_ij[n] - Σ_c p_i[n, c] · s_j[n]·R_c / T2)``
    (``Σ_c p_i = 1``), where ``lse_ij`` is the log-sum-exp over ``S_i``: the
    one over the columns no anchor leaves out is taken once, and each anchor
    adds the columns only the others leave out.

    Args:
        anchors (Sequence[Tensor]): The I weak anchors, each N×d. They only
            give targets: no gradient flows through them.
        strongs (Sequence[Tensor]): The J strong embeddings, each N×d.
        bank (Tensor): The d×C bank. No gradient flows through it.
        temperature (float): The DDM temperature T2.
        excluded (Sequence[Tensor], optional): Per anchor, the columns each
            row leaves out, an N or N×E index tensor; different anchors
            leave out different columns. Defaults to None (none).
        anchor_log_probs (Tensor, optional): ``log p`` of the anchors stacked
            as (I·N)×C, when the caller has it already (nothing excluded).
            Defaults to None.

    Returns:
        tuple[Tensor, dict]: ``L_D`` (unweighted) and ``ddm_entropy``, the
        mean entropy of the targets ``p_i`` (detached).
    """
    if temperature <= 0:
        raise ValueError(f'The DDM temperature must be > 0, got {temperature}')
    num_anchors, num_strongs = len(anchors), len(strongs)
    if num_anchors == 0 or num_strongs == 0:
        raise ValueError(f'DDM needs at least one anchor and one strong view, '
                         f'got {num_anchors} and {num_strongs}')
    if excluded is not None and len(excluded) != num_anchors:
        raise ValueError(f'{num_anchors} anchors need as many sets of '
                         f'excluded columns, got {len(excluded)}')
    if excluded is not None and anchor_log_probs is not None:
        raise ValueError('anchor_log_probs is only for a bank without '
                         'excluded columns')
    n = anchors[0].shape[0]
    bank = bank.detach()
    if excluded is not None:
        # N×E: every anchor's left-out columns; owner: whose they are.
        cols = torch.cat([e.reshape(n, -1) for e in excluded], dim=1)
        owner = torch.cat([
            e.new_full((e.numel() // n, ), i) for i, e in enumerate(excluded)
        ])
    with torch.no_grad():
        if anchor_log_probs is None:
            logits_a = _fp32(torch.cat(anchors).detach() @ bank) / temperature
            logits_a = logits_a.view(num_anchors, n, -1)
            if excluded is not None:
                for i in range(num_anchors):
                    logits_a[i].scatter_(1, cols[:, owner == i], -torch.inf)
            anchor_log_probs = logits_a.log_softmax(dim=2)
        logp = anchor_log_probs.detach().view(num_anchors, n, -1)
        p = logp.exp()
        # 0 · log 0 is 0 outside the support.
        entropy = -torch.where(p > 0, p * logp, 0).sum(dim=2).mean()
        mass = p.sum(dim=2)  # I×N: Σ_c p_i, 1 up to rounding
    logits = _fp32(torch.cat(strongs) @ bank) / temperature  # (J·N)×C
    if excluded is None:
        lse = logits.logsumexp(dim=1).view(num_strongs, n)
    else:
        cols = cols.repeat(num_strongs, 1)
        low = torch.finfo(logits.dtype).min  # finite: no NaN gradient
        shared = logits.scatter(1, cols, low).logsumexp(dim=1, keepdim=True)
        left_out = logits.gather(1, cols)
        lse = torch.stack([
            torch.cat([shared, left_out.masked_fill(owner == i, -torch.inf)],
                      dim=1).logsumexp(dim=1) for i in range(num_anchors)
        ]).view(num_anchors, num_strongs, n)
    logits_sum = logits.view(num_strongs, n, -1).sum(dim=0)
    loss = ((mass[:, None] * lse).sum() -
            (p.sum(dim=0) * logits_sum).sum()) / n
    return loss, dict(ddm_entropy=entropy)
