"""tools/benchmarks/bench_step.py: every ``--method`` builds CLSA-X and X
with the views each expects; one step of each runs on tiny images."""
import argparse

import pytest
import torch

from cli_helpers import load_tool

bench_step = load_tool('tools/benchmarks/bench_step.py')


@pytest.mark.parametrize('name', sorted(bench_step.METHODS))
def test_method_builds_both_models(name):
    args = argparse.Namespace(arch='resnet18', batch=2, multi_crop=False,
                              channels_last=False, amp=False, device='cpu',
                              iters=1, warmup=0, runs=1, method=name,
                              online_probe=False)
    base_label, clsa_label, builder = bench_step.METHODS[name]
    assert clsa_label != base_label
    losses = {}
    for ddm in (False, True):
        torch.manual_seed(0)
        model, sizes = builder(args, ddm)
        # 224 -> 32, 96 -> 16: the same views, small.
        inputs = [torch.randn(2, 3, 32 if s > 96 else 16, 32 if s > 96
                              else 16) for s in sizes]
        losses[ddm] = model.train().loss(inputs, None)
        assert all(torch.isfinite(v) for v in losses[ddm].values())
    assert len(sizes) > 2  # CLSA-X gets strong view(s) on top
    assert 'loss_ddm' in losses[True] and 'loss_ddm' not in losses[False]


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
