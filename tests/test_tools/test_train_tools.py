import os
import os.path as osp
import re
import signal
import subprocess
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from clsa_mm.checkpoint import load_local_checkpoint
from clsa_mm.utils import register_all_modules
from cli_helpers import (PYTHON, REPO, free_port, run_tool, tool_env,
                                 write_classifier_config)


def test_resume_after_kill_continues_with_saved_state(tmp_path,
                                                      tiny_imagenet):
    config = write_classifier_config(
        tmp_path / 'cfg.py', tiny_imagenet, max_epochs=40)
    work_dir = tmp_path / 'work'
    proc = subprocess.Popen(
        [PYTHON, 'tools/train.py', config, '--work-dir', str(work_dir)],
        cwd=REPO, env=tool_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    # CheckpointHook writes `last_checkpoint` after the checkpoint itself.
    while not (work_dir / 'last_checkpoint').exists():
        assert proc.poll() is None, 'training exited before epoch 1'
        assert time.time() < deadline, 'no checkpoint after 300 s'
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # --resume without a path continues from `last_checkpoint`, which only
    # ever names completely written checkpoints.
    latest = (work_dir / 'last_checkpoint').read_text().strip()
    saved = load_local_checkpoint(latest)
    epoch, it = saved['meta']['epoch'], saved['meta']['iter']
    assert epoch >= 1 and it == epoch * 6  # 12 images / batch 2

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.work_dir, cfg.resume = str(work_dir), True
    runner = Runner.from_cfg(cfg)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(
        runner.param_schedulers)
    runner.load_or_resume()
    assert (runner.epoch, runner.iter) == (epoch, it)
    state = runner.optim_wrapper.state_dict()['state']
    assert state.keys() == saved['optimizer']['state'].keys()
    for idx, param_state in saved['optimizer']['state'].items():
        assert torch.equal(param_state['momentum_buffer'],
                           state[idx]['momentum_buffer'])
    scheduler_state = saved['param_schedulers'][0]
    assert runner.param_schedulers[0].state_dict() == scheduler_state

    proc = run_tool([
        'tools/train.py', config, '--work-dir',
        str(work_dir), '--resume', '--cfg-options',
        f'train_cfg.max_epochs={epoch + 1}'
    ])
    out = proc.stdout
    assert f'resumed epoch: {epoch}, iter: {it}' in out
    trained = set(re.findall(r'Epoch\(train\) \[(\d+)\]', out))
    assert trained == {str(epoch + 1)}
    assert (work_dir / f'epoch_{epoch + 1}.pth').exists()


def test_dist_train_runs_two_cpu_ranks(tmp_path, tiny_imagenet):
    if torch.cuda.is_available():
        pytest.fail('this test exercises the CPU (gloo) fallback; run the '
                    'suite on a machine without CUDA or CUDA_VISIBLE_DEVICES=')
    config = write_classifier_config(
        tmp_path / 'cfg.py', tiny_imagenet, max_epochs=1)
    work_dir = tmp_path / 'work'
    proc = run_tool(
        ['tools/dist_train.sh', config, '2', '--work-dir',
         str(work_dir)],
        PORT=free_port())
    out = proc.stdout + proc.stderr
    assert '[rank 0/2] no CUDA: joined the gloo process group' in out
    assert '[rank 1/2] no CUDA: joined the gloo process group' in out
    # 12 images over 2 ranks with batch 2: 3 iterations per epoch.
    assert 'Epoch(train) [1][3/3]' in out
    ckpt = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 3
    # SyncBN became BN, so no SyncBatchNorm state is special; weights exist.
    assert 'backbone.bn1.running_mean' in ckpt['state_dict']


def test_cfg_options_key_that_does_not_exist(tmp_path, tiny_imagenet):
    config = write_classifier_config(tmp_path / 'cfg.py', tiny_imagenet)
    proc = run_tool(
        ['tools/train.py', config, '--cfg-options', 'trian_cfg.max_epochs=1'],
        check=False)
    assert proc.returncode != 0
    assert '"trian_cfg" does not exist in the config' in proc.stderr
    assert 'Did you mean: train_cfg' in proc.stderr
    assert not os.path.exists(osp.join(REPO, 'work_dirs', 'cfg'))


@pytest.mark.parametrize('gpus,message', [
    ('999', 'GPUS=999 but this machine has'),
    ('two', "GPUS must be a positive integer, got 'two'"),
])
def test_dist_train_rejects_bad_gpus(tmp_path, tiny_imagenet, gpus, message):
    config = write_classifier_config(tmp_path / 'cfg.py', tiny_imagenet)
    proc = run_tool(['tools/dist_train.sh', config, gpus], check=False)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_amp_without_gpu_is_a_clear_error(tmp_path, tiny_imagenet):
    if torch.cuda.is_available():
        pytest.fail('this test checks the CPU-only message')
    config = write_classifier_config(tmp_path / 'cfg.py', tiny_imagenet)
    proc = run_tool(['tools/train.py', config, '--amp'], check=False)
    assert proc.returncode != 0
    assert '--amp needs a GPU' in proc.stderr
