"""StrongContrastiveHead (the naive row of docs/demo.md) against a
row-by-row InfoNCE written from its formula."""
import math

import pytest
import torch
import torch.nn.functional as F

from clsa_helpers import tiny_clsa, views
from clsa_mm.models import DDMHead, StrongContrastiveHead


def inputs(num_weak=1, num_strong=2, n=3, world=2, d=4, k=5, seed=0):
    gen = torch.Generator().manual_seed(seed)

    def unit(*shape, dim=1):
        return F.normalize(
            torch.randn(*shape, generator=gen, dtype=torch.float64), dim=dim)

    queries = [unit(n, d).requires_grad_() for _ in range(num_weak)]
    strongs = [unit(n, d).requires_grad_() for _ in range(num_strong)]
    return queries, strongs, unit(n * world, d), unit(d, k, dim=0)


def info_nce(x, positive, negatives, t):
    """-log(exp(x·positive/t) / Σ_c exp(x·c/t)) of one row."""
    x = x.detach()
    logits = [float(x @ positive) / t] + [float(x @ c) / t for c in negatives]
    return -(logits[0] - math.log(sum(math.exp(v) for v in logits)))


def reference(queries, strongs, keys, queue, rank, t, beta):
    """L_C + β·L_S, one view and one row at a time."""
    n = queries[0].shape[0]

    def row_loss(x, i):
        own = rank * n + i
        negatives = [keys[c] for c in range(keys.shape[0]) if c != own]
        negatives += [queue[:, c] for c in range(queue.shape[1])]
        return info_nce(x[i], keys[own], negatives, t)

    loss_c = sum(row_loss(q, i) for q in queries for i in range(n)) / n
    loss_s = sum(row_loss(s, i) for s in strongs
                 for i in range(n)) / n / len(strongs)
    return loss_c, beta * loss_s


@pytest.mark.parametrize('num_weak,num_strong,rank,t,beta', [
    (1, 1, 0, 0.2, 1.0),
    (1, 2, 1, 0.2, 1.0),
    (2, 3, 0, 0.5, 0.7),
])
def test_loss_equals_hand_written_info_nce(num_weak, num_strong, rank, t,
                                           beta):
    queries, strongs, keys, queue = inputs(num_weak, num_strong)
    losses = StrongContrastiveHead(temperature=t, loss_weight=beta).loss(
        queries, strongs, keys, queue, rank)
    ref_c, ref_s = reference(queries, strongs, keys, queue, rank, t, beta)
    assert set(losses) == {'loss_contrastive', 'loss_strong', 'pos_sim',
                           'neg_sim'}
    assert losses['loss_contrastive'].item() == pytest.approx(ref_c, abs=1e-9)
    assert losses['loss_strong'].item() == pytest.approx(ref_s, abs=1e-9)


def test_strong_positive_is_own_samples_key():
    """Strong row n is pulled towards key n: the loss is the reference's,
    and moving s_n onto its own key lowers it."""
    queries, strongs, keys, queue = inputs(num_strong=1, world=1)
    head = StrongContrastiveHead()
    ref = reference(queries, strongs, keys, queue, 0, 0.2, 1.0)[1]
    loss = head.loss(queries, strongs, keys, queue, 0)['loss_strong']
    assert loss.item() == pytest.approx(ref, abs=1e-9)
    on_key = head.loss(queries, [keys.clone()], keys, queue, 0)
    assert on_key['loss_strong'] < loss


def test_beta_scales_only_the_strong_term():
    queries, strongs, keys, queue = inputs()
    one = StrongContrastiveHead(loss_weight=1.0).loss(
        queries, strongs, keys, queue, 1)
    three = StrongContrastiveHead(loss_weight=3.0).loss(
        queries, strongs, keys, queue, 1)
    assert three['loss_contrastive'].item() == one['loss_contrastive'].item()
    assert three['loss_strong'].item() == pytest.approx(
        3 * one['loss_strong'].item(), rel=1e-12)
    assert three['pos_sim'] == one['pos_sim']
    assert three['neg_sim'] == one['neg_sim']


def test_beta_zero_is_moco_v2():
    """β = 0: the loss and its gradients are CLSA's contrastive loss alone
    (MoCo v2 over [Kall; Q]); the strong views get no gradient."""
    queries, strongs, keys, queue = inputs(num_weak=2)
    losses = StrongContrastiveHead(loss_weight=0.0).loss(
        queries, strongs, keys, queue, 1)
    ddm = DDMHead().loss(queries, strongs, keys, queue, 1)
    assert losses['loss_strong'].item() == 0
    assert losses['loss_contrastive'].item() == pytest.approx(
        ddm['loss_contrastive'].item(), abs=1e-12)
    for name in ('pos_sim', 'neg_sim'):
        assert losses[name].item() == pytest.approx(ddm[name].item(),
                                                    abs=1e-12)
    total = losses['loss_contrastive'] + losses['loss_strong']
    grads = torch.autograd.grad(total, queries + strongs)
    ref = torch.autograd.grad(ddm['loss_contrastive'], queries)
    for g, r in zip(grads, ref):
        torch.testing.assert_close(g, r, rtol=1e-9, atol=1e-12)
    assert all(g.abs().sum() == 0 for g in grads[len(queries):])


def test_statistics():
    queries, strongs, keys, queue = inputs(world=1)
    stats = StrongContrastiveHead().loss(queries, strongs, keys, queue, 0)
    q = queries[0].detach()
    bank = torch.cat([keys.t(), queue], dim=1)
    sim = q @ bank
    pos = sim.diagonal()
    assert stats['pos_sim'].item() == pytest.approx(pos.mean().item())
    neg = (sim.sum(1) - pos) / (bank.shape[1] - 1)
    assert stats['neg_sim'].item() == pytest.approx(neg.mean().item())


def test_no_gradient_to_keys_and_queue():
    queries, strongs, keys, queue = inputs()
    keys.requires_grad_()
    queue.requires_grad_()
    losses = StrongContrastiveHead().loss(queries, strongs, keys, queue, 0)
    (losses['loss_contrastive'] + losses['loss_strong']).backward()
    assert keys.grad is None and queue.grad is None


@pytest.mark.parametrize('kwargs,match', [
    (dict(temperature=0.0), r'model\.head\.temperature must be > 0, got 0'),
    (dict(loss_weight=-1.0),
     r'model\.head\.loss_weight \(beta\) must be >= 0, got -1'),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StrongContrastiveHead(**kwargs)


def test_init_cfg_is_passed_on():
    init_cfg = dict(type='Constant', val=0)
    assert StrongContrastiveHead(init_cfg=init_cfg).init_cfg == init_cfg


def test_too_few_keys():
    queries, strongs, keys, queue = inputs(world=2)
    head = StrongContrastiveHead()
    head.loss(queries, strongs, keys, queue, 1)
    with pytest.raises(ValueError, match='6 gathered keys cannot hold the '
                       'keys of rank 2 with 3 samples per rank'):
        head.loss(queries, strongs, keys, queue, 2)


def test_clsa_trains_with_it():
    """CLSA takes the head in place of DDMHead; a step moves the weights."""
    model = tiny_clsa(queue_len=8)
    model.head = StrongContrastiveHead(loss_weight=0.5)
    losses = model.loss(views(), [])
    assert set(losses) == {'loss_contrastive', 'loss_strong', 'pos_sim',
                           'neg_sim'}
    total = losses['loss_contrastive'] + losses['loss_strong']
    total.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_keys_are_cast_to_the_queue_dtype():
    """fp64 keys with an fp32 queue and embeddings (the head's bank follows
    the queue) give the fp32 loss of fp32 keys."""
    queries, strongs, keys, queue = inputs()
    queries = [q.detach().float() for q in queries]
    strongs = [s.detach().float() for s in strongs]
    head = StrongContrastiveHead()
    mixed = head.loss(queries, strongs, keys, queue.float(), 1)
    same = head.loss(queries, strongs, keys.float(), queue.float(), 1)
    for name in ('loss_contrastive', 'loss_strong'):
        assert mixed[name].dtype == torch.float32
        assert mixed[name].item() == same[name].item()
