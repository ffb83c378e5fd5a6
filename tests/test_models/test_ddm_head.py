"""DDMHead against a row-by-row, view-by-view implementation of the loss
(docs/method.md).
"""
import re

import pytest
import torch
import torch.nn.functional as F

from clsa_helpers import spec_losses
from clsa_mm.models import DDMHead
from clsa_mm.models.heads import ddm_head


def random_inputs(num_weak, num_strong, n=4, world=2, d=8, k=12, seed=0,
                  dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)

    def unit(*shape, dim=1):
        x = torch.randn(*shape, generator=gen, dtype=dtype)
        return F.normalize(x, dim=dim)

    raw_q = [torch.randn(n, d, generator=gen, dtype=dtype).requires_grad_()
             for _ in range(num_weak)]
    raw_s = [torch.randn(n, d, generator=gen, dtype=dtype).requires_grad_()
             for _ in range(num_strong)]
    keys = unit(n * world, d).requires_grad_()
    queue = unit(d, k, dim=0).requires_grad_()
    return raw_q, raw_s, keys, queue


def normed(raw):
    return [F.normalize(x, dim=1) for x in raw]


@pytest.mark.parametrize('num_weak,num_strong,rank,t,t2,beta', [
    (1, 1, 0, 0.2, 0.2, 1.0),
    (1, 1, 1, 0.2, 0.2, 1.0),
    (2, 3, 1, 0.2, 0.5, 0.7),
    (5, 5, 0, 0.1, 0.2, 1.0),
])
def test_losses_and_gradients_match_spec(num_weak, num_strong, rank, t, t2,
                                         beta):
    raw_q, raw_s, keys, queue = random_inputs(num_weak, num_strong)
    head = DDMHead(temperature=t, ddm_temperature=t2, loss_weight=beta)
    losses = head.loss(normed(raw_q), normed(raw_s), keys, queue, rank)
    ref_c, ref_d = spec_losses(normed(raw_q), normed(raw_s), keys, queue,
                               rank, t, t2, beta)
    assert set(losses) == {'loss_contrastive', 'loss_ddm', 'pos_sim',
                           'neg_sim', 'ddm_entropy'}
    assert abs(losses['loss_contrastive'].item() - ref_c.item()) < 1e-5
    assert abs(losses['loss_ddm'].item() - ref_d.item()) < 1e-5

    grads = torch.autograd.grad(
        losses['loss_contrastive'] + losses['loss_ddm'], raw_q + raw_s)
    ref_grads = torch.autograd.grad(ref_c + ref_d, raw_q + raw_s)
    for g, ref in zip(grads, ref_grads):
        assert g.abs().sum() > 0
        torch.testing.assert_close(g, ref, rtol=1e-6, atol=1e-8)


def test_no_gradient_to_keys_and_queue():
    raw_q, raw_s, keys, queue = random_inputs(2, 2)
    losses = DDMHead().loss(normed(raw_q), normed(raw_s), keys, queue, 0)
    sum(losses.values()).backward()
    assert keys.grad is None and queue.grad is None
    assert all(x.grad is not None and x.grad.abs().sum() > 0
               for x in raw_q + raw_s)


def test_fp32_matches_spec():
    raw_q, raw_s, keys, queue = random_inputs(2, 2, dtype=torch.float32)
    losses = DDMHead().loss(normed(raw_q), normed(raw_s), keys, queue, 1)
    ref_c, ref_d = spec_losses(normed(raw_q), normed(raw_s), keys, queue, 1)
    torch.testing.assert_close(losses['loss_contrastive'], ref_c,
                               rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(losses['loss_ddm'], ref_d, rtol=1e-5,
                               atol=1e-5)


def test_multi_crop_term_counts():
    """5 identical weak views and 5 identical strong views: 5 contrastive
    and 5 x 5 DDM terms, each equal to the single-crop loss."""
    raw_q, raw_s, keys, queue = random_inputs(1, 1)
    head = DDMHead()
    single = head.loss(normed(raw_q), normed(raw_s), keys, queue, 0)
    multi = head.loss(normed(raw_q) * 5, normed(raw_s) * 5, keys, queue, 0)
    torch.testing.assert_close(multi['loss_contrastive'],
                               5 * single['loss_contrastive'])
    torch.testing.assert_close(multi['loss_ddm'], 25 * single['loss_ddm'])


def test_statistics():
    raw_q, raw_s, keys, queue = random_inputs(2, 1, n=3, world=2, k=5)
    q = normed(raw_q)
    t, t2 = 0.2, 0.5
    stats = DDMHead(temperature=t, ddm_temperature=t2).loss(
        q, normed(raw_s), keys, queue, rank=1)
    pos, neg, ent = [], [], []
    for qi in q:
        bank = torch.cat([keys.t(), queue], dim=1)
        sim = qi @ bank
        p = (sim / t * t / t2).softmax(dim=1)
        for row in range(3):
            target = 3 + row
            pos.append(sim[row, target])
            others = torch.cat([sim[row, :target], sim[row, target + 1:]])
            neg.append(others.mean())
            ent.append(-(p[row] * p[row].log()).sum())
    expected = dict(pos_sim=torch.stack(pos).mean(),
                    neg_sim=torch.stack(neg).mean(),
                    ddm_entropy=torch.stack(ent).mean())
    assert set(stats) == set(expected) | {'loss_contrastive', 'loss_ddm'}
    for name, value in expected.items():
        assert not stats[name].requires_grad
        torch.testing.assert_close(stats[name], value.detach())


def test_keys_must_cover_rank():
    raw_q, raw_s, keys, queue = random_inputs(1, 1, n=4, world=1, d=6)
    with pytest.raises(ValueError, match=re.escape(
            '4 gathered keys cannot hold the keys of rank 1 with 4 samples '
            'per rank')):
        DDMHead().loss(normed(raw_q), normed(raw_s), keys, queue, rank=1)
    # Enough keys (8 of dimension 2 < 8) for rank 1: no error.
    raw_q, raw_s, keys, queue = random_inputs(1, 1, n=4, world=2, d=2)
    DDMHead().loss(normed(raw_q), normed(raw_s), keys, queue, rank=1)


def test_bank_takes_the_queue_dtype():
    """fp64 keys with an fp32 queue and fp32 queries: the bank is fp32."""
    raw_q, raw_s, keys, queue = random_inputs(2, 2, dtype=torch.float32)
    head = DDMHead()
    ref = head.loss(normed(raw_q), normed(raw_s), keys, queue, 1)
    out = head.loss(normed(raw_q), normed(raw_s), keys.double(), queue, 1)
    for name in ref:
        assert out[name].dtype == torch.float32
        torch.testing.assert_close(out[name], ref[name], rtol=0, atol=0)


@pytest.mark.parametrize('t,t2', [(0.2, 0.2), (0.2, 0.5)])
def test_ddm_targets_reuse_the_contrastive_log_probabilities(monkeypatch, t,
                                                             t2):
    """With T == T2 ddm_loss gets the contrastive log-probabilities as its
    targets (one softmax less); otherwise it computes them at T2."""
    raw_q, raw_s, keys, queue = random_inputs(2, 1)
    q = normed(raw_q)
    seen = []
    ddm_loss = ddm_head.ddm_loss

    def spy(*args, **kwargs):
        seen.append(kwargs['anchor_log_probs'])
        return ddm_loss(*args, **kwargs)

    monkeypatch.setattr(ddm_head, 'ddm_loss', spy)
    spec_c, spec_d = spec_losses(q, normed(raw_s), keys, queue, 1, t, t2)
    out = ddm_head.DDMHead(temperature=t, ddm_temperature=t2).loss(
        q, normed(raw_s), keys, queue, 1)
    monkeypatch.undo()
    torch.testing.assert_close(out['loss_ddm'], spec_d.detach())
    logp = seen[0]
    if t != t2:
        assert logp is None
        return
    bank = torch.cat([keys.t(), queue], dim=1)
    expected = (torch.cat(q) @ bank / t).log_softmax(dim=1)
    assert not logp.requires_grad
    torch.testing.assert_close(logp, expected.detach())


def test_init_cfg_is_kept():
    init_cfg = dict(type='Constant', val=1., layer='Linear')
    assert DDMHead(init_cfg=init_cfg).init_cfg == init_cfg


def test_bf16_autocast_close_to_fp32():
    raw_q, raw_s, keys, queue = random_inputs(
        2, 2, n=8, d=128, k=256, dtype=torch.float32)
    head = DDMHead()
    ref = head.loss(normed(raw_q), normed(raw_s), keys, queue, 0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp = head.loss(normed(raw_q), normed(raw_s), keys, queue, 0)
    for name in ref:
        assert amp[name].dtype == torch.float32
        assert torch.isfinite(amp[name])
        # Measured |amp - fp32| on these inputs: 1.2e-4 (loss_contrastive,
        # ~11), 1.3e-4 (loss_ddm), <= 2e-5 (statistics); at most 1.6e-3 over
        # 20 other draws. 5e-4 is a margin of ~4x; a DDM log-softmax taken
        # in bf16 moves loss_ddm by 7.5e-3.
        torch.testing.assert_close(amp[name], ref[name], rtol=0, atol=5e-4)
    sum(amp.values()).backward()
    assert all(torch.isfinite(x.grad).all() for x in raw_q + raw_s)


@pytest.mark.parametrize('kwargs,message', [
    (dict(loss_weight=-1.),
     'model.head.loss_weight (beta) must be >= 0, got -1.0'),
    (dict(ddm_temperature=0.),
     'model.head.ddm_temperature must be > 0, got 0.0'),
    (dict(ddm_temperature=-0.2),
     'model.head.ddm_temperature must be > 0, got -0.2'),
    (dict(temperature=0.), 'model.head.temperature must be > 0, got 0.0'),
])
def test_bad_settings_name_the_key(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        DDMHead(**kwargs)
    DDMHead(loss_weight=0.)  # beta = 0: contrastive loss only
