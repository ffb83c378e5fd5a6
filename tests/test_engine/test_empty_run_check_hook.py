"""EmptyRunCheckHook: a run that would train nothing stops before epoch 1."""
import glob
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from clsa_mm.engine import EmptyRunCheckHook
from clsa_mm.registry import HOOKS
from clsa_mm.utils import load_config
from cli_helpers import REPO, free_port, run_tool, stderr_tail
from test_models.clsa_helpers import tiny_clsa

TINY = osp.join(REPO, 'configs/clsa/r18_tiny_cpu.py')
# Every pretraining config; the linear-probe demo configs train a classifier.
PRETRAINING_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs/clsa/*.py')) + [
        path for path in glob.glob(osp.join(REPO, 'configs/demo/*.py'))
        if '_linear_' not in osp.basename(path)
    ])


def fake_runner(num_images, batch_size, model=None, lr=0.1):
    model = model or torch.nn.Linear(2, 2)
    loader = DataLoader(list(range(num_images)), batch_size=batch_size,
                        drop_last=True)
    warnings = []
    return SimpleNamespace(
        train_loop=SimpleNamespace(dataloader=loader, max_iters=10),
        model=model,
        optim_wrapper=OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=lr)),
        logger=SimpleNamespace(warning=warnings.append),
        warnings=warnings)


def test_registered():
    assert HOOKS.get('EmptyRunCheckHook') is EmptyRunCheckHook


@pytest.mark.parametrize('config', PRETRAINING_CONFIGS,
                         ids=lambda path: osp.basename(path))
def test_every_pretraining_config_checks(config):
    hooks = load_config(config).default_hooks
    assert any(hook and hook.get('type') == 'EmptyRunCheckHook'
               for hook in hooks.values()), config


@pytest.fixture(scope='module')
def twenty_images(tmp_path_factory):
    """A data root with 20 small images under ``train/``."""
    root = tmp_path_factory.mktemp('twenty')
    (root / 'train').mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), np.uint8)).save(
            root / 'train' / f'{i}.png')
    return str(root)


@pytest.mark.parametrize('processes', [1, 2])
def test_twenty_images_stop_before_the_first_epoch(tmp_path, twenty_images,
                                                    processes):
    """The 800-epoch config on 20 images (batch 32): no iteration could
    run, so the run stops with an error and writes no checkpoint."""
    work_dir = tmp_path / 'work'
    proc = run_tool([
        'tools/dist_train.sh', 'configs/clsa/r50_8xb32_800e.py',
        str(processes), '--work-dir', str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={twenty_images}/',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False'
    ], check=False, timeout=120, PORT=free_port())
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'The training data set has 20 images' in proc.stderr, \
        stderr_tail(proc.stderr)
    assert (f'with {processes} process(es) and train_dataloader.batch_size '
            f'32 per process (a global batch of {32 * processes} images), '
            f'each process draws {20 // processes} images') in proc.stderr
    assert (f'Use at least {32 * processes} images or set '
            f'train_dataloader.batch_size to at most {20 // processes}'
            ) in proc.stderr
    assert 'Epoch(train)' not in out
    assert not glob.glob(str(work_dir / '*.pth'))


def test_no_batch_is_an_error_naming_the_numbers():
    runner = fake_runner(num_images=20, batch_size=32)
    with pytest.raises(ValueError) as error:
        EmptyRunCheckHook().before_train(runner)
    message = str(error.value)
    assert 'has 20 images' in message
    assert 'with 1 process(es)' in message
    assert 'train_dataloader.batch_size 32 per process' in message
    assert 'at least 32 images' in message
    assert 'batch_size to at most 20' in message
    EmptyRunCheckHook().before_train(fake_runner(num_images=32,
                                                 batch_size=32))


def test_warns_when_more_than_a_quarter_is_dropped():
    runner = fake_runner(num_images=50, batch_size=32)
    EmptyRunCheckHook().before_train(runner)
    assert len(runner.warnings) == 1
    warning = runner.warnings[0]
    assert 'leaves out 18 of the 50 images' in warning
    assert '(36%)' in warning and 'batch 32 per process' in warning
    assert '1 batch(es) per epoch' in warning
    # A fifth dropped is not worth a word.
    runner = fake_runner(num_images=40, batch_size=32)
    EmptyRunCheckHook().before_train(runner)
    assert runner.warnings == []


def test_nothing_trainable_is_an_error():
    model = torch.nn.Linear(2, 2)
    model.requires_grad_(False)
    with pytest.raises(ValueError, match=r'No parameter of Linear would '
                       r'train: each of the 2 parameters'):
        EmptyRunCheckHook().before_train(fake_runner(8, 4, model))
    with pytest.raises(ValueError, match='learning rate of 0'):
        EmptyRunCheckHook().before_train(fake_runner(8, 4, lr=0.))


def test_frozen_backbone_of_a_self_supervised_model_is_an_error():
    model = tiny_clsa(queue_len=8)
    model.backbone.requires_grad_(False)  # the neck still trains
    with pytest.raises(ValueError, match='The backbone of CLSA would not '
                       'train'):
        EmptyRunCheckHook().before_train(fake_runner(8, 4, model))


def run_tiny(tmp_path, data_root, **options):
    """Train configs/clsa/r18_tiny_cpu.py with ``--cfg-options``."""
    cfg = load_config(TINY, {'train_dataloader.dataset.data_root': data_root})
    cfg.merge_from_dict(options)
    cfg.work_dir = str(tmp_path / 'work')
    Runner.from_cfg(cfg).train()


@pytest.mark.parametrize('options, message', [
    ({'train_cfg.max_epochs': 0},
     'train_cfg.max_epochs is 0: the schedule makes no training step'),
    ({'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop',
                        max_iters=0)},
     'train_cfg.max_iters is 0: the schedule makes no training step'),
    ({'optim_wrapper.optimizer.lr': 0.},
     'No parameter of CLSA would train'),
    ({'model.backbone.frozen_stages': 4},
     'The backbone of CLSA would not train'),
    ({'optim_wrapper.paramwise_cfg': dict(
        custom_keys=dict(backbone=dict(lr_mult=0.)))},
     'The backbone of CLSA would not train'),
])
def test_config_that_trains_nothing_stops_before_epoch_1(
        tmp_path, tiny_imagenet, options, message):
    with pytest.raises(ValueError, match=message):
        run_tiny(tmp_path, tiny_imagenet, **options)
    assert not glob.glob(str(tmp_path / 'work' / '*.pth'))


def test_data_set_of_only_skipped_images_is_an_error(tmp_path):
    """ignore_corrupt=True skips unreadable files; when none is readable,
    MMEngine's refetching gives up with an error instead of training."""
    (tmp_path / 'data' / 'train').mkdir(parents=True)
    for i in range(12):
        (tmp_path / 'data' / 'train' / f'{i}.jpg').write_text('not an image')
    with pytest.raises(Exception, match='Cannot find valid image after'):
        run_tiny(tmp_path, str(tmp_path / 'data'), **{
            'train_dataloader.dataset.pipeline.0.ignore_corrupt': True})
    assert not glob.glob(str(tmp_path / 'work' / '*.pth'))
