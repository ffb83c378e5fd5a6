"""One CLSA step recomputed outside the model, in float64.

From fixed, distinct views ``[x_k, x_q[0], x_q[1], x_s[0], x_s[1]]`` the
reference redoes the whole step with copies of the weights: the EMA update
of the key encoder, the keys of ``x_k`` only, each weak query against the
bank ``[Kall; Q]`` and each strong view against the same bank. Losses,
parameter gradients, the enqueued keys and the logged statistics must match
``CLSA.loss``. T != T2, beta != 1 and an EMA momentum far from 0 make each
of these choices visible; a model that swaps two roles of the views fails
(``test_role_swaps_are_detected``).
"""
import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from clsa_mm.engine import MomentumQueueHook
from clsa_mm.models import CLSA

T, T2, BETA, MOMENTUM = 0.15, 0.35, 0.7, 0.3
N, QUEUE_LEN = 4, 12
KEY, WEAK, STRONG = 32, (32, 24), (16, 24)
# The model casts the keys to fp32 (for autocast), so the float64 step
# agrees with the reference to fp32 precision only: measured over 3 seeds,
# losses within 6e-8 and gradients within 1.1e-6 (of entries up to 26).
# TOL leaves a margin of 10x; the smallest role swap moves a loss by 4e-4
# and a gradient by > 9 (test_role_swaps_are_detected).
TOL = 1e-5


def make_model(dtype=torch.float64, seed=0, **kwargs):
    """A tiny CLSA whose key encoder already differs from the online one."""
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
        **kwargs).to(dtype)
    # One step makes the EMA copy the online encoder and fills part of the
    # queue; moving the online weights then separates the two encoders.
    model.loss(make_views(dtype, seed=100 + seed), None)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in online(model).parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen, dtype=dtype))
    model.zero_grad()
    return model


def make_views(dtype=torch.float64, seed=0):
    """Distinct random batches ``[x_k, x_q..., x_s...]``."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(N, 3, s, s, generator=gen, dtype=dtype)
            for s in (KEY, *WEAK, *STRONG)]


def online(model):
    """The online encoder (f, g), named like ``model.encoder_k.module``."""
    return nn.Sequential(model.backbone, model.neck)


def embed(encoder, x):
    return F.normalize(encoder(x)[0], dim=1)


def reference_step(model, x, rank=0):
    """One training step, written from the formulas, on copies of the state.

    Returns:
        dict: ``loss_contrastive``, ``loss_ddm`` (β applied), ``keys``,
        ``grads`` (name -> gradient of the online encoder's parameters),
        ``pos_sim``, ``neg_sim`` and ``ddm_entropy``.
    """
    enc = copy.deepcopy(online(model))
    enc_k = copy.deepcopy(model.encoder_k.module)
    queue = model.queue.detach().clone()
    x_k, x_q, x_s = x[0], x[1:1 + len(WEAK)], x[1 + len(WEAK):]

    with torch.no_grad():
        # EMA update (first, before any key): p_k <- (1 - m) p_k + m p.
        params = dict(enc.named_parameters())
        for name, p_k in enc_k.named_parameters():
            p_k.copy_((1 - MOMENTUM) * p_k + MOMENTUM * params[name])
        keys = embed(enc_k, x_k)  # B = N keys (one process)
    bank = torch.cat([keys.t(), queue], dim=1)  # d x (B + K)
    n = x_k.shape[0]

    loss_c = 0.
    targets = []
    pos, neg, ent = [], [], []
    for x_qi in x_q:
        q = embed(enc, x_qi)
        sim = q @ bank
        logp = (sim / T).log_softmax(dim=1)
        for row in range(n):
            loss_c = loss_c - logp[row, rank * n + row] / n
        p = (sim.detach() / T2).softmax(dim=1)
        targets.append(p)
        for row in range(n):
            col = rank * n + row
            pos.append(sim[row, col].detach())
            others = torch.cat([sim[row, :col], sim[row, col + 1:]])
            neg.append(others.detach().mean())
            ent.append(-(p[row] * p[row].log()).sum())
    loss_d = 0.
    for x_sj in x_s:
        logp_s = (embed(enc, x_sj) @ bank / T2).log_softmax(dim=1)
        for p in targets:
            loss_d = loss_d - (p * logp_s).sum() / n
    loss_d = BETA * loss_d
    (loss_c + loss_d).backward()
    return dict(
        loss_contrastive=loss_c.detach(), loss_ddm=loss_d.detach(),
        keys=keys,
        grads={name: p.grad for name, p in enc.named_parameters()},
        pos_sim=torch.stack(pos).mean(), neg_sim=torch.stack(neg).mean(),
        ddm_entropy=torch.stack(ent).mean())


def model_step(model, x):
    """``CLSA.loss`` plus backward; the losses and the online gradients."""
    model.zero_grad()
    losses = model.loss(x, None)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = {name: p.grad for name, p in online(model).named_parameters()}
    return losses, grads


def assert_close(actual, expected, name):
    torch.testing.assert_close(actual, expected, rtol=TOL, atol=TOL,
                               msg=lambda m: f'{name}: {m}')


def test_step_matches_reference():
    model = make_model()
    x = make_views()
    ptr = int(model.queue_ptr)
    queue0 = model.queue.clone()
    ref = reference_step(model, x)
    losses, grads = model_step(model, x)
    for name in ('loss_contrastive', 'loss_ddm'):
        assert losses[name].dtype == torch.float64
        assert_close(losses[name], ref[name], name)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert_close(total, ref['loss_contrastive'] + ref['loss_ddm'], 'loss')
    assert grads.keys() == ref['grads'].keys()
    for name, grad in ref['grads'].items():
        assert grads[name] is not None, name
        assert_close(grads[name], grad, name)
    # The keys of x_k are enqueued at the pointer; the rest stays.
    cols = [(ptr + i) % QUEUE_LEN for i in range(N)]
    assert_close(model.queue[:, cols], ref['keys'].t(), 'enqueued keys')
    rest = [c for c in range(QUEUE_LEN) if c not in cols]
    assert torch.equal(model.queue[:, rest], queue0[:, rest])
    assert all(p.grad is None for p in model.encoder_k.parameters())


SWAPS = {
    'key<->weak': (0, 1),
    'key<->strong': (0, 3),
    'weak<->strong': (1, 3),
    'weak<->strong (second pair)': (2, 4),
}


@pytest.mark.parametrize('swap', SWAPS)
def test_role_swaps_are_detected(swap):
    """A model that gave two views each other's role fails the reference."""
    model = make_model()
    x = make_views()
    ref = reference_step(model, x)
    i, j = SWAPS[swap]
    swapped = list(x)
    swapped[i], swapped[j] = x[j], x[i]
    losses, grads = model_step(model, swapped)
    gaps = [(losses[name] - ref[name]).abs().item()
            for name in ('loss_contrastive', 'loss_ddm')]
    gaps.append(max((grads[k] - g).abs().max().item()
                    for k, g in ref['grads'].items()))
    assert max(gaps) > 1e3 * TOL, (swap, gaps)


def _collate(batch):
    views = [torch.stack([sample[i] for sample in batch])
             for i in range(len(batch[0]))]
    return dict(inputs=views, data_samples=None)


def test_logged_statistics_match_the_embeddings(tmp_path):
    """pos_sim/neg_sim/ddm_entropy in the runner's log, recomputed here."""
    model = make_model(
        dtype=torch.float32,
        data_preprocessor=dict(
            type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], to_rgb=False))
    gen = torch.Generator().manual_seed(0)
    samples = [[torch.randint(0, 256, (3, s, s), generator=gen,
                              dtype=torch.uint8)
                for s in (KEY, *WEAK, *STRONG)] for _ in range(N)]
    refs = []
    loss = model.loss

    def spy(inputs, data_samples, **kwargs):
        # The state right before the step: the reference starts from it.
        refs.append(reference_step(model, [v.detach() for v in inputs]))
        return loss(inputs, data_samples, **kwargs)

    model.loss = spy
    # The Runner makes its scope the current one; give the previous back.
    with DefaultScope.overwrite_default_scope('mmengine'):
        hub = run_one_step(model, samples, tmp_path)
    (ref, ) = refs
    for name in ('pos_sim', 'neg_sim', 'ddm_entropy', 'loss_contrastive',
                 'loss_ddm'):
        logged = hub.get_scalar(f'train/{name}').current()
        assert math.isclose(logged, ref[name].item(), rel_tol=1e-5,
                            abs_tol=1e-5), (name, logged, ref[name].item())


def run_one_step(model, samples, tmp_path):
    """One iteration in a Runner; returns its message hub."""
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(samples, batch_size=N,
                                    collate_fn=_collate),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=1),
        log_processor=dict(by_epoch=False),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=None),
        custom_hooks=[MomentumQueueHook()],
        experiment_name=f'clsa_reference_step_{id(tmp_path)}')
    runner.train()
    return runner.message_hub
