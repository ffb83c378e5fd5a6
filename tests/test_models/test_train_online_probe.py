"""The online probe and the k-NN monitor in a real (tiny) run of
configs/clsa/r50_8xb32_200e_online-probe.py: the probe learns, both are
logged and plotted, unlabeled data is refused before training."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from cli_helpers import REPO
from clsa_mm.visualization import curve_panels, load_scalar_logs

CLASSES = 3
COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
EPOCHS = 12


def make_folder(root, per_class, seed):
    """``root/class<c>/<i>.png``: class c is a colour; each image has its
    own noise."""
    rng = np.random.default_rng(seed)
    for c, colour in enumerate(COLOURS):
        os.makedirs(osp.join(root, f'class{c}'), exist_ok=True)
        for i in range(per_class):
            img = np.array(colour) + rng.integers(-40, 41, (32, 32, 3))
            cv2.imwrite(osp.join(root, f'class{c}', f'{i}.png'),
                        np.clip(img, 0, 255).astype(np.uint8))


@pytest.fixture(scope='module')
def separable(tmp_path_factory):
    root = tmp_path_factory.mktemp('separable')
    make_folder(str(root / 'train'), per_class=16, seed=0)
    make_folder(str(root / 'val'), per_class=4, seed=1)
    return str(root)


def tiny_config(data_root, work_dir):
    """The online-probe config shrunk to a 1/8-width ResNet-18 on 32-pixel
    images: 12 epochs of 6 steps of 8, probe val and k-NN every 2 epochs."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/clsa/r50_8xb32_200e_online-probe.py'))
    cfg.work_dir = str(work_dir)
    cfg.model.online_probe.num_classes = CLASSES
    cfg.model.queue_len = 16
    cfg.model.backbone.update(depth=18, base_channels=8, stem_channels=8)
    cfg.model.neck.update(in_channels=64, hid_channels=64)
    train = cfg.train_dataloader
    train.update(batch_size=8, num_workers=0, persistent_workers=False)
    train.dataset.update(data_root=data_root, ann_file='')
    views = train.dataset.pipeline[1]
    views.key_view.size = views.weak_views[0].size = 32
    views.strong_views[0].size = 16
    val = cfg.val_dataloader
    val.update(batch_size=4, num_workers=0, persistent_workers=False)
    val.dataset.update(data_root=data_root, ann_file='')
    val.dataset.pipeline[1].scale = 32
    val.dataset.pipeline[2].crop_size = 32
    knn = cfg.custom_hooks[-1]
    assert knn.type == 'KNNMonitorHook'
    knn.update(interval=2, k=5, val_dataloader=val,
               train_dataloader=dict(
                   val, dataset=dict(val.dataset, data_prefix='train')))
    # 72 steps instead of thousands: a slowly moving encoder (lr 0.003)
    # and the probe's lr 0.3.
    cfg.optim_wrapper.optimizer.lr = 0.003
    cfg.optim_wrapper.paramwise_cfg.custom_keys.online_probe.lr_mult = 100
    cfg.train_cfg.update(max_epochs=EPOCHS, val_interval=2)
    cfg.param_scheduler[0].update(T_max=EPOCHS, end=EPOCHS)
    cfg.default_hooks.logger.interval = 3
    cfg.default_hooks.checkpoint.interval = EPOCHS
    return cfg


def test_probe_learns_and_both_monitors_are_logged(separable, tmp_path):
    runner = Runner.from_cfg(tiny_config(separable, tmp_path))
    runner.train()
    train, val = load_scalar_logs(str(tmp_path))
    probe_val = [r['online_probe/val_top1'] for r in val
                 if 'online_probe/val_top1' in r]
    knn = [r for r in val if 'knn/top1' in r]
    assert len(probe_val) == len(knn) == EPOCHS // 2
    assert [r['step'] for r in knn] == list(range(2, EPOCHS + 1, 2))
    assert all(r['knn/seconds'] > 0 for r in knn)
    assert any('online_probe/top1' in r for r in train)
    # Chance is 33.3 %; measured: 66.7 % after epoch 2, 100 % from epoch 6
    # on (12 val images); a probe that does not learn stays at 33.3 %.
    assert probe_val[-1] >= 100 / CLASSES + 40
    assert all(0 <= r['knn/top1'] <= 100 for r in knn)
    titles = [panel[0] for panel in curve_panels(train, val)]
    assert 'top-1 (%)' in titles and 'online probe loss' in titles


def test_unlabeled_data_is_refused_before_training(separable, tmp_path):
    cfg = tiny_config(separable, tmp_path)
    cfg.train_dataloader.dataset.type = 'UnlabeledImageDataset'
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='no labels') as error:
        runner.train()
    message = str(error.value)
    for fact in ('model.online_probe', 'UnlabeledImageDataset', separable,
                 'CustomDataset'):
        assert fact in message
    assert runner.iter == 0


def test_more_classes_than_the_probe_is_refused(separable, tmp_path):
    cfg = tiny_config(separable, tmp_path)
    cfg.model.online_probe.num_classes = 2
    with pytest.raises(ValueError, match='num_classes=3'):
        Runner.from_cfg(cfg).train()
