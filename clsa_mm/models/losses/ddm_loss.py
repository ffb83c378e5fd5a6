from typing import Dict, Optional, Sequence, Tuple, Union

import torch


def _fp32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in fp32, or in its own dtype if that is wider (fp64)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _log_softmax(sim: torch.Tensor, temperature: float,
                 support: Optional[torch.Tensor]) -> torch.Tensor:
    logits = _fp32(sim) / temperature
    if support is not None:
        logits = logits.masked_fill(~support, -torch.inf)
    return logits.log_softmax(dim=1)


def ddm_loss(anchors: Sequence[torch.Tensor],
             strongs: Sequence[torch.Tensor],
             banks: Union[torch.Tensor, Sequence[torch.Tensor]],
             temperature: float,
             supports: Optional[Sequence[Optional[torch.Tensor]]] = None,
             anchor_log_probs: Optional[torch.Tensor] = None
             ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Distributional divergence minimisation (DDM) over a base method's bank.

    Every weak anchor ``a_i`` spreads over its bank ``R_i`` as
    ``p_i = softmax(stopgrad(a_i·R_i) / T2)``; every strong view ``s_j`` is
    scored against the same bank and support, and is pulled towards
    ``p_i``::

        L_D = Σ_i Σ_j mean_n(-Σ_c p_i[n, c] · log_softmax(s_j·R_i / T2)[n, c])

    Columns outside a row's support take part in neither softmax. The
    logits are fp32 (fp64 stays), also under autocast. With one bank for
    all anchors, the double sum is evaluated as
    ``-mean_n Σ_c (Σ_i p_i)(Σ_j log_softmax(s_j·R / T2))``: the same
    ``I × J`` terms without ``I × J`` products.

    Args:
        anchors (Sequence[Tensor]): The I weak anchors, each N×d. They only
            give targets: no gradient flows through them.
        strongs (Sequence[Tensor]): The J strong embeddings, each N×d.
        banks (Tensor | Sequence[Tensor]): One d×C bank for every anchor, or
            one d×C_i bank per anchor. No gradient flows through them.
        temperature (float): The DDM temperature T2.
        supports (Sequence[Tensor | None], optional): Per anchor, None (the
            whole bank) or a bool N×C_i mask of the columns in each row's
            support. Defaults to None.
        anchor_log_probs (Tensor, optional): ``log p`` of the anchors stacked
            as (I·N)×C, when the caller has it already (one shared bank and
            no support mask only). Defaults to None.

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
    n = anchors[0].shape[0]
    shared = isinstance(banks, torch.Tensor)
    if shared and supports is None:
        bank = banks.detach()
        with torch.no_grad():
            if anchor_log_probs is None:
                anchor_log_probs = _log_softmax(
                    torch.cat(anchors).detach() @ bank, temperature, None)
            logp_a = anchor_log_probs.detach()
            p = logp_a.exp()
            entropy = -(p * logp_a).sum(dim=1).mean()
            p_sum = p.view(num_anchors, n, -1).sum(dim=0)
        logp_s = _log_softmax(torch.cat(strongs) @ bank, temperature, None)
        logp_s_sum = logp_s.view(num_strongs, n, -1).sum(dim=0)
        loss = -(p_sum * logp_s_sum).sum() / n
        return loss, dict(ddm_entropy=entropy)

    if anchor_log_probs is not None:
        raise ValueError('anchor_log_probs is only for one shared bank '
                         'without support masks')
    if shared:
        banks = [banks] * num_anchors
    if supports is None:
        supports = [None] * num_anchors
    if not len(banks) == len(supports) == num_anchors:
        raise ValueError(f'{num_anchors} anchors need as many banks and '
                         f'supports, got {len(banks)} and {len(supports)}')
    strong = torch.cat(strongs)
    loss = 0.
    entropies = []
    for anchor, bank, support in zip(anchors, banks, supports):
        bank = bank.detach()
        with torch.no_grad():
            logp_a = _log_softmax(anchor.detach() @ bank, temperature, support)
            p = logp_a.exp()
            # 0 · log 0 is 0 outside the support.
            entropies.append(-torch.where(p > 0, p * logp_a, 0).sum(dim=1))
        rows = None if support is None else support.repeat(num_strongs, 1)
        logp_s = _log_softmax(strong @ bank, temperature, rows)
        logp_s_sum = logp_s.view(num_strongs, n, -1).sum(dim=0)
        loss = loss - torch.where(p > 0, p * logp_s_sum, 0).sum() / n
    return loss, dict(ddm_entropy=torch.cat(entropies).mean())
