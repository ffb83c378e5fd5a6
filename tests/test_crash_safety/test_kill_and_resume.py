"""SIGKILL a training run mid-epoch or mid-checkpoint-write, then resume.

The toy model of ``crash_safety_plugin`` has what CLSA's resume depends on
(an EMA encoder, a queue and its pointer, SGD momentum, a cosine schedule
and randomness from torch, numpy and python in every step) at a fraction of
the cost; the mid-epoch kill is also run with the real CLSA model of
``configs/clsa/r18_tiny_cpu.py``.
"""
import os
import os.path as osp
import signal
import subprocess
import time

import pytest
import torch
from cli_helpers import (PYTHON, REPO, free_port, run_tool, stderr_tail,
                         tool_env)

from clsa_mm.checkpoint import load_local_checkpoint

HERE = osp.dirname(osp.abspath(__file__))
# model kind: (iterations per epoch, the EMA encoder's state_dict prefix)
MODELS = {
    'toy': (4, 'momentum_encoder.'),  # 16 vectors, batch 4
    'clsa': (3, 'encoder_k.'),  # 12 tiny_imagenet images, batch 4
}


def write_clsa_config(path, data_root, max_epochs=3):
    """The tiny CLSA config on ``data_root`` with 32/16-pixel views."""
    path.write_text(f'''
_base_ = [{osp.join(REPO, 'configs/clsa/r18_tiny_cpu.py')!r}]
custom_imports = dict(imports=['crash_safety_plugin'],
                      allow_failed_imports=False)
train_dataloader = dict(dataset=dict(
    data_root={data_root!r},
    pipeline=[
        dict(type='LoadRGBImageFromFile'),
        dict(type='CLSAViews',
             key_view=dict(size=32, scale=(0.2, 1.0)),
             weak_views=[dict(size=32, scale=(0.2, 1.0))],
             strong_views=[dict(size=16, scale=(0.086, 0.429))],
             weak_augment=dict(type='WeakAugment'),
             strong_augment=dict(type='StrongAugment')),
        dict(type='PackInputs'),
    ]))
param_scheduler = [dict(type='CosineAnnealingLR', T_max={max_epochs},
                        by_epoch=True, begin=0, end={max_epochs})]
train_cfg = dict(max_epochs={max_epochs})
custom_hooks = [dict(type='MomentumQueueHook'), dict(type='CrashTestHook')]
''')
    return str(path)


def write_config(path, max_keep_ckpts=-1, max_epochs=3):
    """The toy model's config."""
    path.write_text(f'''
_base_ = [{osp.join(REPO, 'configs/_base_/default_runtime.py')!r}]
custom_imports = dict(imports=['crash_safety_plugin'],
                      allow_failed_imports=False)
model = dict(type='CrashTestQueueModel')
train_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(type='CrashTestVectors', num=16),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max={max_epochs}, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs={max_epochs})
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts={max_keep_ckpts}))
custom_hooks = [dict(type='CrashTestHook')]
''')
    return str(path)


def train(config, work_dir, *extra, **env):
    return subprocess.run(
        [PYTHON, 'tools/train.py', config, '--work-dir', str(work_dir),
         *extra],
        cwd=REPO, env=tool_env(PYTHONPATH=HERE, **env), capture_output=True,
        text=True, timeout=600)


def train_until_marker_then_kill(config, work_dir, **env):
    """Start training, wait for the plugin's marker file, SIGKILL it."""
    marker = work_dir.parent / f'{work_dir.name}.marker'
    log = open(work_dir.parent / f'{work_dir.name}.killed.log', 'w+')
    proc = subprocess.Popen(
        [PYTHON, 'tools/train.py', config, '--work-dir', str(work_dir)],
        cwd=REPO, env=tool_env(PYTHONPATH=HERE, CRASH_MARKER=marker, **env),
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while not marker.exists():
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError('training ended before the crash point:\n' +
                                 log.read()[-4000:])
        assert time.monotonic() < deadline, 'crash point not reached'
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.close()
    assert proc.returncode == -signal.SIGKILL


def assert_same(expected, actual, where='checkpoint'):
    """Compare nested dicts/lists of tensors and plain values exactly."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), where
        assert expected.dtype == actual.dtype, where
        assert torch.equal(expected, actual), f'{where} differs'
    elif isinstance(expected, dict):
        assert set(expected) == set(actual), (
            f'{where}: keys {sorted(map(str, expected))} vs '
            f'{sorted(map(str, actual))}')
        for key in expected:
            assert_same(expected[key], actual[key], f'{where}[{key!r}]')
    elif isinstance(expected, (list, tuple)):
        assert len(expected) == len(actual), where
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f'{where}[{i}]')
    else:
        assert expected == actual, f'{where}: {expected!r} vs {actual!r}'


def assert_resumed_from(saved, dump_path, ema_prefix='momentum_encoder.'):
    """The resumed runner state equals the checkpoint, tensor by tensor."""
    resumed = torch.load(dump_path, weights_only=True)
    assert (resumed['epoch'], resumed['iter']) == (saved['meta']['epoch'],
                                                   saved['meta']['iter'])
    state = resumed['state_dict']
    # What CLSA needs back: queue, pointer and EMA encoder are in the model.
    assert {'queue', 'queue_ptr', f'{ema_prefix}steps'} <= set(state)
    assert any(k.startswith(f'{ema_prefix}module.') for k in state)
    assert int(saved['state_dict']['queue_ptr']) > 0
    assert_same(saved['state_dict'], state, 'state_dict')
    assert_same(saved['optimizer'], resumed['optimizer'], 'optimizer')
    assert_same(saved['param_schedulers'], resumed['param_schedulers'],
                'param_schedulers')
    assert_same(saved['rng_states'][0], resumed['rng_state'], 'rng_state')


def last_checkpoint(work_dir):
    return (work_dir / 'last_checkpoint').read_text().strip()


@pytest.mark.parametrize('kind', ['toy', 'clsa'])
def test_sigkill_mid_epoch_resumes_exactly(tmp_path, tiny_imagenet, kind):
    iters_per_epoch, ema_prefix = MODELS[kind]
    if kind == 'clsa':
        config = write_clsa_config(tmp_path / 'cfg.py', tiny_imagenet)
    else:
        config = write_config(tmp_path / 'cfg.py')

    # Reference: three epochs without interruption.
    reference = train(config, tmp_path / 'reference')
    assert reference.returncode == 0, stderr_tail(reference.stderr)

    # Killed in the middle of epoch 2.
    work_dir = tmp_path / 'work'
    train_until_marker_then_kill(
        config, work_dir, CRASH_AT_ITER=iters_per_epoch + 2)
    assert last_checkpoint(work_dir) == str(work_dir / 'epoch_1.pth')
    assert not (work_dir / 'epoch_2.pth').exists()

    saved = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))
    assert saved['meta']['iter'] == iters_per_epoch

    dump = tmp_path / 'resumed_state.pth'
    resumed = train(config, work_dir, '--resume',
                    DUMP_RESUMED_STATE=dump)
    assert resumed.returncode == 0, stderr_tail(resumed.stderr)
    assert 'Restored the RNG states of the checkpoint' in resumed.stdout
    assert_resumed_from(saved, dump, ema_prefix)

    # With every state restored, the interrupted run ends exactly where the
    # uninterrupted one does (different torch/numpy/python draws after the
    # resume would change the weights).
    expected = load_local_checkpoint(str(tmp_path / 'reference/epoch_3.pth'))
    final = load_local_checkpoint(str(work_dir / 'epoch_3.pth'))
    assert_same(expected['state_dict'], final['state_dict'], 'final weights')
    assert_same(expected['optimizer'], final['optimizer'], 'final optimizer')


def test_sigkill_while_writing_checkpoint_keeps_last_complete_one(tmp_path):
    # max_keep_ckpts=1: MMEngine's CheckpointHook would delete epoch_1.pth
    # before writing epoch_2.pth and leave nothing complete to resume from.
    config = write_config(tmp_path / 'cfg.py', max_keep_ckpts=1)
    work_dir = tmp_path / 'work'
    train_until_marker_then_kill(config, work_dir, CRASH_IN_WRITE='epoch_2')

    # Killed with half of epoch_2's bytes on disk, in a hidden part file.
    part = work_dir / '.epoch_2.pth.part'
    assert part.exists() and part.stat().st_size > 0
    assert not (work_dir / 'epoch_2.pth').exists()
    assert last_checkpoint(work_dir) == str(work_dir / 'epoch_1.pth')
    saved = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))  # complete

    dump = tmp_path / 'resumed_state.pth'
    resumed = train(config, work_dir, '--resume',
                    DUMP_RESUMED_STATE=dump)
    assert resumed.returncode == 0, stderr_tail(resumed.stderr)
    assert_resumed_from(saved, dump)
    assert not part.exists()  # the stale part file was cleaned up
    ckpts = sorted(p.name for p in work_dir.iterdir()
                   if p.name.endswith('.pth') or '.part' in p.name)
    assert ckpts == ['epoch_3.pth']
    assert last_checkpoint(work_dir) == str(work_dir / 'epoch_3.pth')
    final = load_local_checkpoint(str(work_dir / 'epoch_3.pth'))
    assert final['meta']['epoch'] == 3


def test_resume_from_checkpoint_without_rng_states_warns(tmp_path):
    config = write_config(tmp_path / 'cfg.py', max_epochs=1)
    work_dir = tmp_path / 'work'
    assert train(config, work_dir).returncode == 0
    ckpt = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))
    del ckpt['rng_states']
    torch.save(ckpt, work_dir / 'epoch_1.pth')
    proc = train(config, work_dir, '--resume', '--cfg-options',
                 'train_cfg.max_epochs=2')
    assert proc.returncode == 0, stderr_tail(proc.stderr)
    assert 'holds no RNG states' in proc.stdout
    assert os.path.exists(work_dir / 'epoch_2.pth')


def test_distributed_checkpoint_restores_each_ranks_rng(tmp_path):
    config = write_config(tmp_path / 'cfg.py', max_epochs=2)
    work_dir = tmp_path / 'work'

    def dist_train(*extra, **env):
        return run_tool(['tools/dist_train.sh', config, '2', '--work-dir',
                         str(work_dir), *extra], PORT=free_port(),
                        PYTHONPATH=HERE, **env)

    dist_train('--cfg-options', 'train_cfg.max_epochs=1')
    saved = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))
    states = saved['rng_states']
    assert len(states) == 2  # gathered from both ranks at the epoch end
    assert not torch.equal(states[0]['torch'], states[1]['torch'])

    dump = tmp_path / 'resumed_state.pth'
    dist_train('--resume', DUMP_RESUMED_STATE=dump)
    for rank in range(2):
        resumed = torch.load(f'{dump}.rank{rank}', weights_only=True)
        assert_same(states[rank], resumed['rng_state'], f'rank {rank}')
        assert_same(saved['state_dict'], resumed['state_dict'], 'weights')
