"""The symmetric CLSA step (``symmetric=True``) recomputed outside the model.

From fixed, distinct views ``[x_k, x_q[0], x_q[1], x_s[0], x_s[1]]`` the
reference redoes the step in float64 with copies of the weights: the EMA
update first, then the keys of ``x_k`` (Kall) and of ``x_q[0]`` (K2all, row
n = sample n), the weak queries ``q_0, q_1`` against ``[Kall; Q]``, the
online embedding of ``x_k`` and ``q_1`` against ``[K2all; Q]``, every one of
them supervising every strong view over its own bank, and K2all enqueued.
Losses, gradients and the queue must match; giving two views each other's
role must not.
"""
import copy
import inspect

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from clsa_mm.models import CLSA

T, T2, BETA, MOMENTUM = 0.15, 0.35, 0.7, 0.3
N, QUEUE_LEN = 4, 12
KEY, WEAK, STRONG = 32, (32, 24), (16, 24)
TOL = 1e-6  # float64 apart from the fp32 keys (see the reference step test)


def online(model):
    return nn.Sequential(model.backbone, model.neck)


def make_views(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(N, 3, s, s, generator=gen, dtype=torch.float64)
            for s in (KEY, *WEAK, *STRONG)]


def make_model(seed=0):
    """A float64 symmetric CLSA whose key encoder differs from the online
    one and whose queue is partly filled."""
    torch.manual_seed(seed)
    model = CLSA(
        backbone=dict(
            type='ResNet', depth=18, base_channels=8, stem_channels=8,
            norm_cfg=dict(type='BN'), zero_init_residual=False),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                  out_channels=128, with_avg_pool=True),
        head=dict(type='DDMHead', temperature=T, ddm_temperature=T2,
                  loss_weight=BETA),
        num_weak_views=len(WEAK),
        queue_len=QUEUE_LEN,
        momentum=MOMENTUM,
        symmetric=True).double()
    model.loss(make_views(seed=100 + seed), None)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in online(model).parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen,
                                      dtype=torch.float64))
    model.zero_grad()
    return model


def embed(encoder, x):
    return F.normalize(encoder(x)[0], dim=1)


def reference_step(model, x):
    """The symmetric loss written out, one query, strong view and row at a
    time."""
    enc = copy.deepcopy(online(model))
    enc_k = copy.deepcopy(model.encoder_k.module)
    queue = model.queue.detach().clone()
    x_k, x_q, x_s = x[0], x[1:1 + len(WEAK)], x[1 + len(WEAK):]
    with torch.no_grad():
        params = dict(enc.named_parameters())
        for name, p_k in enc_k.named_parameters():
            p_k.copy_((1 - MOMENTUM) * p_k + MOMENTUM * params[name])
        keys = embed(enc_k, x_k)
        keys2 = embed(enc_k, x_q[0])
    q = [embed(enc, v) for v in x_q]
    groups = [(q, keys), ([embed(enc, x_k)] + q[1:], keys2)]
    strongs = [embed(enc, v) for v in x_s]
    loss_c, loss_d = 0., 0.
    for queries, k in groups:
        bank = torch.cat([k.t(), queue], dim=1)
        for query in queries:
            logits = query @ bank / T
            for row in range(N):  # the row's own key: column row (rank 0)
                loss_c = loss_c - logits[row].log_softmax(0)[row] / N
            p = (logits.detach() * T / T2).softmax(dim=1)
            for s in strongs:
                slogits = s @ bank / T2
                for row in range(N):
                    loss_d = loss_d - (p[row] * slogits[row].log_softmax(0)
                                       ).sum() / N
    loss_d = BETA * loss_d
    (loss_c + loss_d).backward()
    return dict(loss_contrastive=loss_c.detach(), loss_ddm=loss_d.detach(),
                keys=keys2,
                grads={k: p.grad for k, p in enc.named_parameters()})


def model_step(model, x):
    model.zero_grad()
    losses = model.loss(x, None)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    return losses, {k: p.grad for k, p in online(model).named_parameters()}


def rel_gap(actual, expected):
    """max |a - e| / (1 + |e|): below TOL where assert_close(rtol=atol=TOL)
    passes."""
    return ((actual - expected).abs() / (1 + expected.abs())).max().item()


def gaps(model, x, ref, ptr):
    losses, grads = model_step(model, x)
    cols = [(ptr + i) % QUEUE_LEN for i in range(N)]
    out = {name: (losses[name] - ref[name]).abs().item()
           for name in ('loss_contrastive', 'loss_ddm')}
    out['grads'] = max(rel_gap(grads[k], g) for k, g in ref['grads'].items())
    out['queue'] = (model.queue[:, cols] - ref['keys'].t()).abs().max().item()
    return out


def test_symmetric_step_matches_reference():
    model = make_model()
    x = make_views()
    ptr = int(model.queue_ptr)
    ref = reference_step(model, x)
    assert max(gaps(model, x, ref, ptr).values()) < TOL
    assert int(model.queue_ptr) == (ptr + N) % QUEUE_LEN


def test_symmetric_default_off_and_statistics():
    assert inspect.signature(CLSA).parameters['symmetric'].default is False
    model = make_model()
    losses = model.loss(make_views(), None)
    assert set(losses) == {'loss_contrastive', 'loss_ddm', 'pos_sim',
                           'neg_sim', 'ddm_entropy'}
    assert all(not v.requires_grad for k, v in losses.items()
               if not k.startswith('loss'))


SWAPS = {
    'key<->weak0': (0, 1),  # same losses, other keys enqueued
    'weak0<->weak1': (1, 2),
    'key<->strong': (0, 3),
    'weak1<->strong': (2, 4),
}


@pytest.mark.parametrize('swap', SWAPS)
def test_role_swaps_are_detected(swap):
    model = make_model()
    x = make_views()
    ptr = int(model.queue_ptr)
    ref = reference_step(model, x)
    i, j = SWAPS[swap]
    swapped = list(x)
    swapped[i], swapped[j] = x[j], x[i]
    found = gaps(model, swapped, ref, ptr)
    assert max(found.values()) > 1e3 * TOL, (swap, found)
