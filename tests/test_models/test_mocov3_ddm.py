"""MoCoV3DDM: mmpretrain's MoCo v3 loss untouched, plus DDM over its banks.

The reference step redoes one training step from the formulas in float64
with copies of the weights: the CosineEMA update first, the keys of both
crops, mmpretrain's MoCo v3 loss ``2T·Σ_c CE(a_c·K_{c'}ᵀ/T, n)`` and the DDM
term of every crop's anchor over the other crop's keys for every strong
view. Losses and gradients must match; swapping a crop and a strong view
must not.
"""
import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models import MoCoV3

from clsa_mm.models import MoCoV3DDM
from clsa_mm.models.algorithms import mocov3_ddm
from clsa_mm.registry import MODELS
from mocov3_helpers import current_hub, tiny_mocov3, views

T, T2, BETA, M0, MAX_ITERS = 0.3, 0.15, 0.6, 0.4, 5
N = 4
TOL = 1e-6


def loss_sum(losses):
    return sum(v for k, v in losses.items() if k.startswith('loss'))


def test_registered():
    assert MODELS.get('MoCoV3DDM') is MoCoV3DDM


@pytest.mark.parametrize('num_strong', [0, 2])
def test_base_loss_equals_mmpretrain_mocov3(num_strong):
    """β = 0 (or no strong views): exactly mmpretrain's MoCoV3, over two
    steps (the second one with a cosine-annealed momentum update)."""
    current_hub(MAX_ITERS)
    ref = tiny_mocov3(MoCoV3, momentum=M0)
    model = tiny_mocov3(momentum=M0, num_strong_views=num_strong,
                        beta=0.)
    model.load_state_dict(ref.state_dict())
    for step in range(2):
        x = views(2 + num_strong, seed=step)
        ref.zero_grad()
        model.zero_grad()
        expected = ref.loss(x[:2], None)
        losses = model.loss(x, None)
        base = 'loss_contrastive' if num_strong else 'loss'
        assert torch.equal(losses[base], expected['loss'])
        if num_strong:
            assert losses['loss_ddm'].item() == 0.
            assert losses['loss_ddm'].requires_grad
        else:
            assert set(losses) == {'loss'}
        loss_sum(losses).backward()
        expected['loss'].backward()
        for (name, p), p_ref in zip(model.named_parameters(),
                                    ref.parameters()):
            if p_ref.grad is not None:
                assert torch.equal(p.grad, p_ref.grad), name
        for (name, p), p_ref in zip(
                model.momentum_encoder.named_parameters(),
                ref.momentum_encoder.parameters()):
            assert torch.equal(p, p_ref), name


def make_model(num_strong=2):
    """A float64 MoCoV3DDM after one step, its online weights moved away
    from the momentum encoder."""
    current_hub(MAX_ITERS)
    model = tiny_mocov3(temperature=T, momentum=M0,
                        num_strong_views=num_strong, t2=T2,
                        beta=BETA).double()
    model.loss(views(2 + num_strong, seed=100, dtype=torch.float64), None)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn(p.shape, generator=gen,
                                          dtype=torch.float64))
    model.zero_grad()
    return model


def online(model):
    return nn.ModuleDict(dict(backbone=model.backbone, neck=model.neck,
                              predictor=model.head.predictor))


def reference_step(model, x):
    """DDM on MoCo v3 (docs/method_ddm.md), one crop, strong view and row at
    a time."""
    enc = copy.deepcopy(online(model))
    enc_k = copy.deepcopy(model.momentum_encoder.module)
    # CosineEMA: m = m0 · (cos(π·steps/K) + 1) / 2, the angle in fp32 as
    # mmpretrain computes it (steps is an integer tensor).
    steps = model.momentum_encoder.steps.clone()
    angle = float(math.pi * steps / float(MAX_ITERS))
    momentum = M0 * (math.cos(angle) + 1) / 2
    with torch.no_grad():
        params = dict(nn.Sequential(enc['backbone'],
                                    enc['neck']).named_parameters())
        for name, p_k in enc_k.named_parameters():
            p_k.copy_((1 - momentum) * p_k + momentum * params[name])
        keys = [F.normalize(enc_k(v)[0], dim=1) for v in x[:2]]

    def anchor(v):
        z = enc['neck'](enc['backbone'](v))[0]
        return F.normalize(enc['predictor']([z])[0], dim=1)

    anchors = [anchor(v) for v in x[:2]]
    strongs = [anchor(v) for v in x[2:]]
    loss_base, loss_d = 0., 0.
    for c in range(2):
        bank = keys[1 - c]  # the other crop's keys, row n = sample n
        logits = anchors[c] @ bank.t()
        for row in range(N):
            loss_base = loss_base - 2 * T * (
                logits[row] / T).log_softmax(0)[row] / N
        p = (logits.detach() / T2).softmax(dim=1)
        for s in strongs:
            slogits = s @ bank.t() / T2
            for row in range(N):
                loss_d = loss_d - (p[row] * slogits[row].log_softmax(0)
                                   ).sum() / N
    loss_d = BETA * loss_d
    (loss_base + loss_d).backward()
    return dict(loss_contrastive=loss_base.detach(),
                loss_ddm=loss_d.detach(),
                grads={k: p.grad for k, p in enc.named_parameters()
                       if p.grad is not None})


def rel_gap(actual, expected):
    """max |a - e| / (1 + |e|): below TOL where assert_close(rtol=atol=TOL)
    passes."""
    return ((actual - expected).abs() / (1 + expected.abs())).max().item()


def gaps(model, x, ref):
    model.zero_grad()
    losses = model.loss(x, None)
    loss_sum(losses).backward()
    grads = dict(online(model).named_parameters())
    out = {name: (losses[name] - ref[name]).abs().item()
           for name in ('loss_contrastive', 'loss_ddm')}
    out['grads'] = max(rel_gap(grads[k].grad, g)
                       for k, g in ref['grads'].items())
    return out


def test_step_matches_plain_loop_reference():
    model = make_model()
    x = views(4, sizes=(32, 28, 16, 24), seed=3, dtype=torch.float64)
    ref = reference_step(model, x)
    assert len(ref['grads']) == len(
        [p for p in online(model).parameters() if p.requires_grad])
    found = gaps(model, x, ref)
    assert max(found.values()) < TOL, found


@pytest.mark.parametrize('swap', [(0, 2), (1, 3)])
def test_role_swaps_are_detected(swap):
    """A crop given a strong view's role (and back) fails the reference."""
    model = make_model()
    x = views(4, sizes=(32, 28, 16, 24), seed=3, dtype=torch.float64)
    ref = reference_step(model, x)
    swapped = list(x)
    i, j = swap
    swapped[i], swapped[j] = x[j], x[i]
    found = gaps(model, swapped, ref)
    assert max(found.values()) > 1e3 * TOL, (swap, found)


def test_statistics_are_logged_not_summed():
    current_hub(MAX_ITERS)
    model = tiny_mocov3()
    losses = model.loss(views(3), None)
    assert set(losses) == {'loss_contrastive', 'loss_ddm', 'pos_sim',
                           'neg_sim', 'ddm_entropy'}
    total, log_vars = model.parse_losses(losses)
    torch.testing.assert_close(
        total, losses['loss_contrastive'] + losses['loss_ddm'])
    # The log shows the total under ``loss`` and each term on its own.
    torch.testing.assert_close(log_vars['loss'], total.detach())
    torch.testing.assert_close(log_vars['loss_contrastive'],
                               losses['loss_contrastive'].detach())
    for name in ('pos_sim', 'neg_sim', 'ddm_entropy'):
        assert not losses[name].requires_grad and name in log_vars
    assert 0 < losses['ddm_entropy'] <= math.log(N) + 1e-6


@pytest.mark.parametrize('kwargs,match', [
    (dict(beta=-0.5), r'must be >= 0, got -0.5 \(model.ddm_head.loss_weight'),
    (dict(t2=0.), r'must be > 0, got 0.0 \(model.ddm_head.ddm_temperature'),
    (dict(t2=-1.), r'must be > 0, got -1.0 \(model.ddm_head.ddm_temperature'),
    (dict(num_strong_views=-1), 'model.num_strong_views must be an int >= 0, '
     'got -1'),
])
def test_bad_settings_name_the_key(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny_mocov3(**kwargs)


def test_view_count_must_fit_the_model():
    current_hub(MAX_ITERS)
    model = tiny_mocov3(num_strong_views=2)
    with pytest.raises(ValueError, match=r'4 views per sample .*'
                       r'model.num_strong_views=2.* gave 3'):
        model.loss(views(3), None)


def test_banks_and_statistics_span_every_rank(monkeypatch):
    """Rank 1 of 2 (gather mocked; rank 0's keys are this rank's with their
    dimensions rolled): bank R_c holds rank 0's keys of the other crop, then
    this rank's, so row n's own key is column N + n. At the first step the
    momentum encoder equals the online one."""
    current_hub(MAX_ITERS)
    monkeypatch.setattr(mocov3_ddm, 'get_rank', lambda: 1)
    monkeypatch.setattr(mocov3_ddm, 'all_gather',
                        lambda k: [k.roll(1, dims=1), k])
    model = tiny_mocov3(num_strong_views=2, t2=T2,
                        beta=BETA).double()
    ref = copy.deepcopy(model)
    x = views(4, sizes=(32, 28, 16, 24), seed=3, dtype=torch.float64)
    losses = model.loss(x, None)
    with torch.no_grad():
        proj = [ref.neck(ref.backbone(v))[0] for v in x]
        embed = [F.normalize(ref.head.predictor([p])[0], dim=1)
                 for p in proj]
        keys = [F.normalize(p, dim=1) for p in proj[:2]]
    loss_d, pos, neg = 0., [], []
    for c in range(2):
        bank = torch.cat([keys[1 - c].roll(1, dims=1), keys[1 - c]])
        for row in range(N):
            sim = bank @ embed[c][row]
            pos.append(sim[N + row])
            neg.append((sim.sum() - sim[N + row]) / (2 * N - 1))
            p = (sim / T2).softmax(0)
            for s in embed[2:]:
                log_q = (bank @ s[row] / T2).log_softmax(0)
                loss_d = loss_d - (p * log_q).sum() / N
    assert abs(losses['loss_ddm'].item() - BETA * loss_d.item()) < TOL
    assert abs(losses['pos_sim'].item() - sum(pos).item() / 2 / N) < TOL
    assert abs(losses['neg_sim'].item() - sum(neg).item() / 2 / N) < TOL
