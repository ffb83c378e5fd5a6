"""tools/benchmarks/bench_step.py: every ``--method`` builds X from
mmpretrain's recipe and CLSA-X from this repository's config, shrunk to
``--arch``, with the views each expects; one step of each runs on tiny
images."""
import argparse

import pytest
import torch

from cli_helpers import load_tool

bench_step = load_tool('tools/benchmarks/bench_step.py')

# X of each --method: mmpretrain's own class.
BASES = dict(mocov2='MoCo', mocov3='MoCoV3', simclr='SimCLR', byol='BYOL')
BASES['mocov2-sym'] = 'MoCo'
CLSA_X = dict(mocov2='CLSA', mocov3='MoCoV3DDM', simclr='SimCLRDDM',
              byol='BYOLDDM')
CLSA_X['mocov2-sym'] = 'CLSA'


def bench_args(name, multi_crop=False, batch=2):
    return argparse.Namespace(arch='resnet18', batch=batch,
                              multi_crop=multi_crop, channels_last=False,
                              amp=False, device='cpu', iters=1, warmup=0,
                              runs=1, method=name, online_probe=False)


@pytest.mark.parametrize('name', sorted(bench_step.METHODS))
def test_method_builds_both_models(name):
    args = bench_args(name)
    base_label, clsa_label = bench_step.METHODS[name][:2]
    assert clsa_label != base_label
    losses = {}
    for ddm in (False, True):
        torch.manual_seed(0)
        model, sizes = bench_step.build_model(args, ddm)
        assert type(model).__name__ == (CLSA_X if ddm else BASES)[name]
        assert model.backbone.depth == 18  # --arch resnet18
        first = next(m for m in model.neck.modules()
                     if isinstance(m, torch.nn.Linear))
        assert first.in_features == 512  # the neck takes ResNet-18's output
        # 224 -> 32, 96 -> 16: the same views, small.
        inputs = [torch.randn(2, 3, 32 if s > 96 else 16, 32 if s > 96
                              else 16) for s in sizes]
        losses[ddm] = model.train().loss(inputs, None)
        assert all(torch.isfinite(v) for v in losses[ddm].values())
    assert len(sizes) > 2  # CLSA-X gets strong view(s) on top
    assert 'loss_ddm' in losses[True] and 'loss_ddm' not in losses[False]
    assert getattr(model, 'symmetric', False) == (name == 'mocov2-sym')


@pytest.mark.parametrize('name', sorted(bench_step.METHODS))
def test_multi_crop_gives_clsa_x_five_strong_views(name):
    model, sizes = bench_step.build_model(bench_args(name, True), True)
    assert model.num_strong_views == 5
    crops = [224, 192, 160, 128, 96]
    if name.startswith('mocov2'):  # CLSA: key, 5 weak and 5 strong views
        assert model.num_weak_views == 5
        assert sizes == [224, *crops, *crops]
    else:
        assert sizes == [224, 224, *crops]


@pytest.mark.parametrize('name', ['byol', 'mocov2'])
def test_queue_holds_whole_steps_of_any_batch(name):
    # BYOL-DDM enqueues 2 x 6 target projections per step, CLSA 6 keys.
    model, _ = bench_step.build_model(bench_args(name, batch=6), True)
    assert model.queue_len % 12 == 0 and model.queue_len > 65536 - 12


def test_online_probe_times_clsa_with_the_probe_against_clsa():
    args = argparse.Namespace(arch='resnet18', batch=2, multi_crop=False,
                              channels_last=False, amp=False, device='cpu',
                              method='simclr', online_probe=True)
    probed, plain = (bench_step.Stepper(name, args)
                     for name in ('clsa', 'base'))
    assert type(probed.model) is type(plain.model)  # both SimCLR-DDM
    assert probed.model.online_probe.num_classes == 1000
    assert plain.model.online_probe is None
    assert probed.step() > 0  # the probe's loss takes the labels
    assert probed.model.online_probe.fc.weight.abs().sum() > 0
