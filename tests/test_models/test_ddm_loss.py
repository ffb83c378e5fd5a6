"""ddm_loss against a row-by-row, anchor-by-strong-view loop of the formula
(docs/method_ddm.md): one shared bank, a bank per anchor, support masks,
given anchor log-probabilities, dtypes and the argument errors."""
import re

import pytest
import torch
import torch.nn.functional as F

from clsa_mm.models.losses import ddm_loss

N, D, C = 3, 6, 7


def unit(gen, *shape, dtype=torch.float64):
    return F.normalize(torch.randn(*shape, generator=gen, dtype=dtype),
                       dim=-1)


def make(num_anchors, num_strongs, num_banks=1, masked=False, seed=0,
         dtype=torch.float64):
    """Anchors, strong views (with gradient), banks and supports. A support
    keeps column n (the row's own) and drops at least one other column."""
    gen = torch.Generator().manual_seed(seed)
    anchors = [unit(gen, N, D, dtype=dtype) for _ in range(num_anchors)]
    strongs = [unit(gen, N, D, dtype=dtype).requires_grad_()
               for _ in range(num_strongs)]
    banks = [unit(gen, C, D, dtype=dtype).t() for _ in range(num_banks)]
    supports = None
    if masked:
        supports = []
        for _ in range(num_anchors):
            keep = torch.rand(N, C, generator=gen) > 0.4
            keep[torch.arange(N), torch.arange(N)] = True
            keep[torch.arange(N), N] = False
            supports.append(keep)
    return anchors, strongs, banks, supports


def loop_reference(anchors, strongs, banks, t, supports=None, targets=None):
    """L_D and the mean target entropy, one anchor, strong view and row at a
    time; ``targets`` replaces the anchors' log-probabilities."""
    loss, entropies = 0., []
    for i, anchor in enumerate(anchors):
        bank = banks[i % len(banks)]
        for row in range(N):
            cols = (torch.arange(C) if supports is None else
                    supports[i][row].nonzero().squeeze(1))
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
@pytest.mark.parametrize('layout', ['shared', 'shared_list', 'per_anchor'])
@pytest.mark.parametrize('masked', [False, True])
def test_matches_loop_reference(num_anchors, num_strongs, layout, masked):
    num_banks = num_anchors if layout == 'per_anchor' else 1
    anchors, strongs, banks, supports = make(
        num_anchors, num_strongs, num_banks, masked)
    arg = banks[0] if layout == 'shared' else banks * (num_anchors //
                                                       num_banks)
    out = ddm_loss(anchors, strongs, arg, 0.3, supports=supports)
    check(out, loop_reference(anchors, strongs, banks, 0.3, supports),
          strongs)


def test_support_masks_drop_columns():
    """A masked column takes part in no softmax: the loss and entropy equal
    those over the support's columns only, and they differ from unmasked."""
    anchors, strongs, banks, supports = make(2, 2, 2, masked=True, seed=1)
    masked = ddm_loss(anchors, strongs, banks, 0.3, supports=supports)
    full = ddm_loss(anchors, strongs, banks, 0.3,
                    supports=[None, torch.ones(N, C, dtype=torch.bool)])
    check(masked, loop_reference(anchors, strongs, banks, 0.3, supports),
          strongs)
    check(full, loop_reference(anchors, strongs, banks, 0.3), strongs)
    assert abs(masked[0].item() - full[0].item()) > 1e-3
    assert abs(masked[1]['ddm_entropy'].item() -
               full[1]['ddm_entropy'].item()) > 1e-3


def test_anchor_log_probs_are_the_targets():
    """Given anchor log-probabilities replace the anchors' softmax."""
    anchors, strongs, banks, _ = make(2, 3, seed=2)
    gen = torch.Generator().manual_seed(3)
    targets = torch.randn(2 * N, C, generator=gen,
                          dtype=torch.float64).log_softmax(dim=1)
    out = ddm_loss(anchors, strongs, banks[0], 0.3, anchor_log_probs=targets)
    check(out, loop_reference(anchors, strongs, banks, 0.3, targets=targets),
          strongs)
    # Consistent targets give the loss the anchors give.
    own = torch.cat(anchors) @ banks[0] / 0.3
    check(ddm_loss(anchors, strongs, banks[0], 0.3,
                   anchor_log_probs=own.log_softmax(dim=1)),
          loop_reference(anchors, strongs, banks, 0.3), strongs)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('masked', [False, True])
def test_low_precision_inputs_give_fp32(dtype, masked):
    anchors, strongs, banks, supports = make(2, 2, 2, masked, seed=4,
                                             dtype=dtype)
    loss, stats = ddm_loss(anchors, strongs, banks, 0.3, supports=supports)
    assert loss.dtype == stats['ddm_entropy'].dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(stats['ddm_entropy'])


@pytest.mark.parametrize('temperature', [0., -0.5])
def test_temperature_must_be_positive(temperature):
    anchors, strongs, banks, _ = make(1, 1)
    with pytest.raises(ValueError, match=re.escape(
            f'The DDM temperature must be > 0, got {temperature}')):
        ddm_loss(anchors, strongs, banks[0], temperature)


@pytest.mark.parametrize('num_anchors,num_strongs', [(1, 0), (0, 1)])
def test_needs_an_anchor_and_a_strong_view(num_anchors, num_strongs):
    anchors, strongs, banks, _ = make(1, 1)
    with pytest.raises(ValueError, match=re.escape(
            'DDM needs at least one anchor and one strong view, got '
            f'{num_anchors} and {num_strongs}')):
        ddm_loss(anchors[:num_anchors], strongs[:num_strongs], banks[0], 0.3)


@pytest.mark.parametrize('with_supports', [False, True])
def test_anchor_log_probs_need_one_shared_bank_without_masks(with_supports):
    anchors, strongs, banks, supports = make(2, 1, 2, masked=True)
    if with_supports:
        banks = banks[0]
    else:
        supports = None
    targets = torch.zeros(2 * N, C, dtype=torch.float64)
    with pytest.raises(ValueError, match=re.escape(
            'anchor_log_probs is only for one shared bank without support '
            'masks')):
        ddm_loss(anchors, strongs, banks, 0.3, supports=supports,
                 anchor_log_probs=targets)


def test_one_bank_and_support_per_anchor():
    anchors, strongs, banks, supports = make(2, 1, 2, masked=True)
    with pytest.raises(ValueError, match=re.escape(
            '2 anchors need as many banks and supports, got 1 and 2')):
        ddm_loss(anchors, strongs, banks[:1], 0.3, supports=supports)
    with pytest.raises(ValueError, match=re.escape(
            '2 anchors need as many banks and supports, got 2 and 1')):
        ddm_loss(anchors, strongs, banks, 0.3, supports=supports[:1])
