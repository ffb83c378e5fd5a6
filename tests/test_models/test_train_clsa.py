"""The CLSA configs through tools/train.py and tools/dist_train.sh on tiny
images (CPU), and the first iteration of a real run against the loss of
docs/method.md."""
import math
import os.path as osp
import re

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from clsa_helpers import spec_losses
from clsa_mm.checkpoint import load_local_checkpoint
from clsa_mm.utils import register_all_modules
from cli_helpers import REPO, free_port, run_tool

SIZES = (32, 28, 24, 20, 16)


def config(name):
    return osp.join(REPO, 'configs', 'clsa', name)


def shrink(data_root, weak=(32, ), strong=(16, ), batch=4, queue_len=16):
    """--cfg-options that shrink a CLSA config to tiny images on the CPU."""
    views = 'train_dataloader.dataset.pipeline.1'
    opts = [
        f'model.queue_len={queue_len}',
        f'train_dataloader.batch_size={batch}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_dataloader.dataset.data_root={data_root}',
        f'{views}.key_view.size=32',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
    ]
    opts += [f'{views}.weak_views.{i}.size={s}' for i, s in enumerate(weak)]
    opts += [f'{views}.strong_views.{i}.size={s}'
             for i, s in enumerate(strong)]
    return opts


def logged(text, name):
    return [float(v) for v in re.findall(rf'\b{name}: ([-\d.e+naif]+)', text)]


def test_configs_differ_only_where_they_should():
    single = Config.fromfile(config('r50_8xb32_200e.py'))
    assert single.model.type == 'CLSA' and single.model.num_weak_views == 1
    assert single.model.num_strong_views == 1
    assert single.model.backbone.depth == 50
    assert single.model.queue_len == 65536
    assert (single.model.head.temperature, single.model.head.ddm_temperature,
            single.model.head.loss_weight) == (0.2, 0.2, 1.0)
    assert single.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9)
    assert single.auto_scale_lr.base_batch_size == 256
    assert single.train_dataloader.batch_size == 32
    assert [h.type for h in single.custom_hooks] == ['MomentumQueueHook']
    for name, epochs, weak in [('r50_8xb32_800e.py', 800, 1),
                               ('r50_8xb32-mcrop_200e.py', 200, 5),
                               ('r50_8xb32-mcrop_800e.py', 800, 5)]:
        cfg = Config.fromfile(config(name))
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.param_scheduler[0].T_max == epochs
        assert cfg.param_scheduler[0].end == epochs
        assert cfg.model.num_weak_views == cfg.model.num_strong_views == weak
        views = cfg.train_dataloader.dataset.pipeline[1]
        assert len(views.weak_views) == len(views.strong_views) == weak
        cfg.model.num_weak_views = cfg.model.num_strong_views = 1
        assert cfg.model == single.model
        assert cfg.optim_wrapper == single.optim_wrapper
    tiny = Config.fromfile(config('r18_tiny_cpu.py'))
    assert tiny.model.backbone.depth == 18
    assert tiny.train_dataloader.dataset.pipeline == \
        single.train_dataloader.dataset.pipeline


def test_single_crop_config_trains(tiny_imagenet, tmp_path):
    work_dir = tmp_path / 'work'
    proc = run_tool(['tools/train.py', config('r50_8xb32_200e.py'),
                     '--work-dir', str(work_dir), '--cfg-options',
                     *shrink(tiny_imagenet)])
    log = proc.stdout + proc.stderr
    assert 'Epoch(train) [1][3/3]' in log  # 12 images, batch 4
    assert logged(log, 'queue_ptr') == [4, 8, 12]
    for name in ('loss_contrastive', 'loss_ddm', 'pos_sim', 'neg_sim',
                 'ddm_entropy'):
        values = logged(log, name)
        assert len(values) == 3 and all(map(math.isfinite, values)), name
    state = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))['state_dict']
    assert int(state['queue_ptr']) == 12
    assert int(state['encoder_k.steps']) == 3
    assert state['queue'].shape == (128, 16)
    assert state['backbone.layer4.2.conv3.weight'].shape[0] == 2048
    assert 'encoder_k.module.1.mlp.2.weight' in state


def test_multi_crop_config_trains(tiny_imagenet, tmp_path):
    proc = run_tool([
        'tools/train.py', config('r50_8xb32-mcrop_200e.py'), '--work-dir',
        str(tmp_path), '--cfg-options',
        *shrink(tiny_imagenet, weak=SIZES, strong=SIZES)
    ])
    log = proc.stdout + proc.stderr
    assert logged(log, 'queue_ptr') == [4, 8, 12]
    for name in ('loss_contrastive', 'loss_ddm'):
        values = logged(log, name)
        assert len(values) == 3 and all(
            math.isfinite(v) and v > 0 for v in values), name


def test_symmetric_config_trains(tiny_imagenet, tmp_path):
    cfg = Config.fromfile(config('r50_8xb32_200e-sym.py'))
    assert cfg.model.pop('symmetric') is True
    assert cfg.model == Config.fromfile(config('r50_8xb32_200e.py')).model
    proc = run_tool(['tools/train.py', config('r50_8xb32_200e-sym.py'),
                     '--work-dir', str(tmp_path), '--cfg-options',
                     *shrink(tiny_imagenet), 'model.backbone.depth=18',
                     'model.neck.in_channels=512',
                     'model.neck.hid_channels=512',
                     'train_dataloader.dataset.indices=8'])
    log = proc.stdout + proc.stderr
    assert 'Epoch(train) [1][2/2]' in log
    assert logged(log, 'queue_ptr') == [4, 8]
    for name in ('loss_contrastive', 'loss_ddm', 'pos_sim', 'neg_sim',
                 'ddm_entropy'):
        values = logged(log, name)
        assert len(values) == 2 and all(map(math.isfinite, values)), name


def test_bad_queue_length_fails_before_training(tiny_imagenet, tmp_path):
    proc = run_tool(['tools/train.py', config('r18_tiny_cpu.py'),
                     '--work-dir', str(tmp_path), '--cfg-options',
                     *shrink(tiny_imagenet, queue_len=10)], check=False)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert 'model.queue_len=10 is not a multiple of the 4 embeddings ' \
        'enqueued per step' in log
    assert 'in before_train' in log  # MomentumQueueHook, before iteration 1
    assert 'Epoch(train)' not in log


def test_first_iteration_matches_spec(tiny_imagenet, tmp_path, monkeypatch):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config('r18_tiny_cpu.py'))
    cfg.merge_from_dict({
        'work_dir': str(tmp_path),
        'train_dataloader.dataset.data_root': tiny_imagenet,
        'model.queue_len': 16,
        'train_dataloader.num_workers': 0,
        'train_dataloader.batch_size': 4,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.indices': 4,
        'train_dataloader.dataset.pipeline.1.key_view.size': 32,
        'train_dataloader.dataset.pipeline.1.weak_views.0.size': 32,
        'train_dataloader.dataset.pipeline.1.strong_views.0.size': 16,
        'train_cfg.max_epochs': 1,
        'default_hooks.checkpoint': None,
    })
    runner = Runner.from_cfg(cfg)
    model = runner.model
    queue0 = model.queue.clone()
    head_loss = model.head.loss
    seen = []

    def spy(queries, strongs, keys, queue, rank):
        out = head_loss(queries, strongs, keys, queue, rank)
        seen.append(([q.detach() for q in queries],
                     [s.detach() for s in strongs], keys, queue.clone(),
                     rank, out))
        return out

    monkeypatch.setattr(model.head, 'loss', spy)
    runner.train()
    assert len(seen) == 1
    queries, strongs, keys, queue, rank, losses = seen[0]
    assert [q.shape for q in queries + strongs] == [(4, 128)] * 2
    assert keys.shape == (4, 128) and rank == 0
    torch.testing.assert_close(queue, queue0)
    ref_c, ref_d = spec_losses(
        [q.double() for q in queries], [s.double() for s in strongs],
        keys.double(), queue.double(), rank)
    assert abs(losses['loss_contrastive'].item() - ref_c.item()) < 1e-5
    assert abs(losses['loss_ddm'].item() - ref_d.item()) < 1e-5
    torch.testing.assert_close(model.queue[:, :4], keys.t())
    torch.testing.assert_close(model.queue[:, 4:], queue0[:, 4:])


def test_dist_train_two_processes(tiny_imagenet, tmp_path):
    # 12 images: 6 per process, batch 3, global batch 6, queue 12.
    proc = run_tool(
        ['tools/dist_train.sh', config('r18_tiny_cpu.py'), '2',
         '--work-dir', str(tmp_path), '--cfg-options',
         *shrink(tiny_imagenet, batch=3, queue_len=12)],
        PORT=free_port())
    log = proc.stdout + proc.stderr
    assert 'Epoch(train) [1][2/2]' in log
    assert logged(log, 'queue_ptr') == [6, 0]
    state = load_local_checkpoint(str(tmp_path / 'epoch_1.pth'))['state_dict']
    assert int(state['queue_ptr']) == 0
