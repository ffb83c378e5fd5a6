"""Split BN on one process is shuffle-BN of that many ranks: one process with
``num_splits=2`` against two gloo processes, for CLSA (single-crop,
symmetric multi-crop) and mmpretrain's MoCo (the MoCo v2 baseline)."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import MMDistributedDataParallel

from clsa_helpers import views
from clsa_mm.registry import MODELS
from gloo_helpers import WORLD, init_gloo, run_gloo

N = 4  # per rank; the one process holds WORLD * N
STEPS = 2
SEED = 4321
VARIANTS = {
    'clsa': dict(type='CLSA', head=dict(type='DDMHead')),
    'clsa-sym-mcrop': dict(type='CLSA', head=dict(type='DDMHead'),
                           num_weak_views=2, symmetric=True),
    'mocov2': dict(type='MoCo', head=dict(
        type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
        temperature=0.2)),
}


def build(variant, norm_cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(
        VARIANTS[variant],
        backbone=dict(
            type='ResNet', depth=18, base_channels=8, stem_channels=8,
            norm_cfg=norm_cfg, zero_init_residual=False),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                  out_channels=128, with_avg_pool=True),
        queue_len=3 * N * WORLD, momentum=0.2))


def rank_views(variant, step, rank):
    if variant == 'mocov2':  # [query, key]
        return views(batch=N, weak_sizes=(), strong_sizes=(64, ),
                     key_size=64, seed=10 * step + rank)
    weak = (64, 32) if 'mcrop' in variant else (64, )
    return views(batch=N, weak_sizes=weak, strong_sizes=(32, ) * len(weak),
                 key_size=64, seed=10 * step + rank)


def train(model, variant, ranks, forward):
    """Two SGD steps of ``forward`` (the model or its DDP wrapper) on the
    views of ``ranks``; what each step gave."""
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    for step in range(STEPS):
        per_rank = [rank_views(variant, step, r) for r in ranks]
        x = [torch.cat(v) for v in zip(*per_rank)]
        torch.manual_seed(SEED + step)  # the key batch permutation
        losses = forward(x, None, mode='loss')
        optim.zero_grad()
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        steps.append(dict(
            losses={k: v.detach() for k, v in losses.items()
                    if k.startswith('loss')},
            grads=[p.grad.clone() for p in model.parameters()
                   if p.requires_grad],
            queue=model.queue.clone()))
        optim.step()
    return steps


def worker(rank, port, out_dir):
    init_gloo(rank, port)
    out = {}
    for variant in VARIANTS:
        model = build(variant, dict(type='BN'))
        ddp = MMDistributedDataParallel(model, broadcast_buffers=False)
        steps = train(model, variant, [rank], ddp)
        out[variant] = dict(steps=steps, state=model.state_dict())
    torch.save(out, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.fixture(scope='module')
def gloo_runs(tmp_path_factory):
    return run_gloo(worker, tmp_path_factory.mktemp('gloo'))


def close(a, b):
    """Equal up to float32 rounding (amplified by BN over 4 samples in the
    second step), relative to the tensor's scale."""
    torch.testing.assert_close(a, b, rtol=1e-3,
                               atol=1e-3 * (1 + float(b.abs().max())))


@pytest.mark.parametrize('variant', list(VARIANTS))
def test_one_process_split_bn_equals_two_ranks(variant, gloo_runs):
    model = build(variant, dict(type='SplitBN', num_splits=WORLD))
    steps = train(model, variant, range(WORLD), model)
    ranks = [run[variant] for run in gloo_runs]
    for step, rank_steps in zip(steps, zip(*(r['steps'] for r in ranks))):
        # each rank's loss is the mean over its rows, the one process's the
        # mean over all rows; DDP averages the ranks' gradients
        for name, value in step['losses'].items():
            close(value, sum(s['losses'][name] for s in rank_steps) / WORLD)
        for grad, grad0 in zip(step['grads'], rank_steps[0]['grads']):
            close(grad, grad0)
        close(step['queue'], rank_steps[0]['queue'])
    state = model.state_dict()
    for key, value in state.items():
        if not value.is_floating_point():  # counters, queue pointer
            assert torch.equal(value, ranks[0]['state'][key])
        else:  # parameters agree; running stats are the ranks' mean
            close(value, sum(r['state'][key] for r in ranks) / WORLD)
    assert any(k.startswith('encoder_k') and 'running_mean' in k
               for k in state)


def test_one_process_keys_are_shuffle_bn_keys():
    """The queue holds the keys of random splits: the key encoder's BN
    batches are the permuted chunks, not the process's own halves."""
    model = build('clsa', dict(type='SplitBN', num_splits=WORLD))
    x = [torch.cat(v) for v in zip(*(rank_views('clsa', 0, r)
                                     for r in range(WORLD)))]
    torch.manual_seed(SEED)
    model(x, None, mode='loss')
    plain = build('clsa', dict(type='BN'))
    plain.encoder_k.module.load_state_dict(model.encoder_k.module.state_dict())
    torch.manual_seed(SEED)
    idx = torch.randperm(N * WORLD)
    with torch.no_grad():
        chunks = [F.normalize(plain.encoder_k(x[0][i])[0], dim=1)
                  for i in idx.view(WORLD, N)]
    keys = torch.cat(chunks)[torch.argsort(idx)]
    close(model.queue[:, :N * WORLD], keys.t())
