"""ddm_loss against a row-by-row, anchor-by-strong-view loop of the formula
(docs/method_ddm.md): the whole bank, columns left out per anchor (one per
row as SimCLR's, a block as MoCo v3's and BYOL's), given anchor
log-probabilities, dtypes and the argument errors."""
import re

import pytest
import torch
import torch.nn.functional as F

from clsa_mm.models.losses import ddm_loss

N, D, C = 3, 6, 7


def unit(gen, *shape, dtype=torch.float64):
    return F.normalize(torch.randn(*shape, generator=gen, dtype=dtype),
                       dim=-1)


def make(num_anchors, num_strongs, excluded=None, seed=0,
         dtype=torch.float64):
    """Anchors, strong views (with gradient), a bank and the columns each
    anchor leaves out: ``'own'``: anchor i leaves out column 2n + i of row n
    (a different one per row, as SimCLR's own column); ``'block'``: anchor i
    leaves out columns 2i and 2i + 1 of every row (as MoCo v3's and BYOL's
    own crop)."""
    gen = torch.Generator().manual_seed(seed)
    anchors = [unit(gen, N, D, dtype=dtype) for _ in range(num_anchors)]
    strongs = [unit(gen, N, D, dtype=dtype).requires_grad_()
               for _ in range(num_strongs)]
    bank = unit(gen, C, D, dtype=dtype).t()
    if excluded == 'own':
        excluded = [torch.arange(N) * 2 + i for i in range(num_anchors)]
    elif excluded == 'block':
        excluded = [torch.tensor([2 * i, 2 * i + 1]).expand(N, 2)
                    for i in range(num_anchors)]
    return anchors, strongs, bank, excluded


def loop_reference(anchors, strongs, bank, t, excluded=None, targets=None):
    """L_D and the mean target entropy, one anchor, strong view and row at a
    time; ``targets`` replaces the anchors' log-probabilities."""
    loss, entropies = 0., []
    for i, anchor in enumerate(anchors):
        for row in range(N):
            left_out = [] if excluded is None else excluded[i].reshape(
                N, -1)[row].tolist()
            cols = torch.tensor([c for c in range(C) if c not in left_out])
            if targets is None:
                logp = (anchor[row] @ bank[:, cols] / t).log_softmax(0)
            else:
                logp = targets[i * N + row][cols]
            p = logp.exp()
            entropies.append(-(p * logp).sum())
            for s in strongs:
                logq = (s[row] @ bank[:, cols] / t).log_softmax(0)
                loss = loss - (p * logq).sum() / N
    return loss, torch.stack(entropies).mean()


def check(out, ref, strongs):
    loss, stats = out
    ref_loss, ref_entropy = ref
    assert set(stats) == {'ddm_entropy'}
    assert not stats['ddm_entropy'].requires_grad
    torch.testing.assert_close(loss, ref_loss, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(stats['ddm_entropy'], ref_entropy,
                               rtol=1e-9, atol=1e-12)
    grads = torch.autograd.grad(loss, strongs, retain_graph=True)
    ref_grads = torch.autograd.grad(ref_loss, strongs)
    for g, ref_g in zip(grads, ref_grads):
        assert g.abs().sum() > 0
        torch.testing.assert_close(g, ref_g, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('num_anchors,num_strongs', [(1, 1), (2, 3)])
@pytest.mark.parametrize('excluded', [None, 'own', 'block'])
def test_matches_loop_reference(num_anchors, num_strongs, excluded):
    anchors, strongs, bank, left_out = make(num_anchors, num_strongs,
                                            excluded)
    out = ddm_loss(anchors, strongs, bank, 0.3, excluded=left_out)
    check(out, loop_reference(anchors, strongs, bank, 0.3, left_out),
          strongs)


@pytest.mark.parametrize('excluded', ['own', 'block'])
def test_left_out_columns_take_part_in_no_softmax(excluded):
    """The loss and entropy equal those over each anchor's own support,
    and they differ from the whole bank's."""
    anchors, strongs, bank, left_out = make(2, 2, excluded, seed=1)
    masked = ddm_loss(anchors, strongs, bank, 0.3, excluded=left_out)
    full = ddm_loss(anchors, strongs, bank, 0.3)
    check(masked, loop_reference(anchors, strongs, bank, 0.3, left_out),
          strongs)
    check(full, loop_reference(anchors, strongs, bank, 0.3), strongs)
    assert abs(masked[0].item() - full[0].item()) > 1e-3
    assert abs(masked[1]['ddm_entropy'].item() -
               full[1]['ddm_entropy'].item()) > 1e-3


def test_a_strong_view_sure_of_a_left_out_column():
    """A strong view whose mass sits almost all on a column its anchor
    leaves out (T2 = 0.01): the loss and gradient stay finite and equal the
    loop's."""
    anchors, strongs, bank, left_out = make(2, 1, 'own', seed=2)
    with torch.no_grad():
        strongs[0].copy_(bank[:, [0, 2, 4]].t())  # row n = its column 2n
    out = ddm_loss(anchors, strongs, bank, 0.01, excluded=left_out)
    assert torch.isfinite(out[0])
    check(out, loop_reference(anchors, strongs, bank, 0.01, left_out),
          strongs)


def test_anchor_log_probs_are_the_targets():
    """Given anchor log-probabilities replace the anchors' softmax."""
    anchors, strongs, bank, _ = make(2, 3, seed=2)
    gen = torch.Generator().manual_seed(3)
    targets = torch.randn(2 * N, C, generator=gen,
                          dtype=torch.float64).log_softmax(dim=1)
    out = ddm_loss(anchors, strongs, bank, 0.3, anchor_log_probs=targets)
    check(out, loop_reference(anchors, strongs, bank, 0.3, targets=targets),
          strongs)
    # Consistent targets give the loss the anchors give.
    own = torch.cat(anchors) @ bank / 0.3
    check(ddm_loss(anchors, strongs, bank, 0.3,
                   anchor_log_probs=own.log_softmax(dim=1)),
          loop_reference(anchors, strongs, bank, 0.3), strongs)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('excluded', [None, 'own'])
def test_low_precision_inputs_give_fp32(dtype, excluded):
    anchors, strongs, bank, left_out = make(2, 2, excluded, seed=4,
                                            dtype=dtype)
    loss, stats = ddm_loss(anchors, strongs, bank, 0.3, excluded=left_out)
    assert loss.dtype == stats['ddm_entropy'].dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(stats['ddm_entropy'])


@pytest.mark.parametrize('temperature', [0., -0.5])
def test_temperature_must_be_positive(temperature):
    anchors, strongs, bank, _ = make(1, 1)
    with pytest.raises(ValueError, match=re.escape(
            f'The DDM temperature must be > 0, got {temperature}')):
        ddm_loss(anchors, strongs, bank, temperature)


@pytest.mark.parametrize('num_anchors,num_strongs', [(1, 0), (0, 1)])
def test_needs_an_anchor_and_a_strong_view(num_anchors, num_strongs):
    anchors, strongs, bank, _ = make(1, 1)
    with pytest.raises(ValueError, match=re.escape(
            'DDM needs at least one anchor and one strong view, got '
            f'{num_anchors} and {num_strongs}')):
        ddm_loss(anchors[:num_anchors], strongs[:num_strongs], bank, 0.3)


def test_anchor_log_probs_need_a_bank_without_excluded_columns():
    anchors, strongs, bank, left_out = make(2, 1, 'own')
    targets = torch.zeros(2 * N, C, dtype=torch.float64)
    with pytest.raises(ValueError, match=re.escape(
            'anchor_log_probs is only for a bank without excluded columns')):
        ddm_loss(anchors, strongs, bank, 0.3, excluded=left_out,
                 anchor_log_probs=targets)


def test_one_set_of_excluded_columns_per_anchor():
    anchors, strongs, bank, left_out = make(2, 1, 'own')
    with pytest.raises(ValueError, match=re.escape(
            '2 anchors need as many sets of excluded columns, got 1')):
        ddm_loss(anchors, strongs, bank, 0.3, excluded=left_out[:1])
