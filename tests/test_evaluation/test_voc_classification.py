"""The VOC07 classification protocol of the authors' release."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import PARAM_SCHEDULERS
from mmengine.runner import Runner

from clsa_mm.checkpoint import (backbone_state_dict, load_local_checkpoint,
                                pretrained_cfg_options)
from clsa_mm.testing import make_tiny_voc
from clsa_mm.utils import register_all_modules
from cli_helpers import REPO

RELEASE = osp.join(
    REPO, 'configs/benchmarks/classification/voc07/'
    'r50_linear-1xb16-cos12e-100e_voc07-release.py')


@pytest.fixture(scope='module')
def tiny_voc(tmp_path_factory):
    return make_tiny_voc(str(tmp_path_factory.mktemp('tiny_voc')))


def test_release_config_follows_the_authors_protocol():
    cfg = Config.fromfile(RELEASE)
    backbone = cfg.model.backbone
    assert (backbone.depth, backbone.frozen_stages, backbone.norm_eval) == (
        50, 4, True)
    assert backbone.init_cfg.type == 'Pretrained'
    head = cfg.model.head
    assert head.type == 'MultiLabelLinearClsHead' and head.num_classes == 20
    assert head.loss.use_sigmoid
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == ('SGD', 0.05, 0.9, 0.)
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_cfg.max_epochs == 100
    # trained on VOC2007 train, mAP on VOC2007 val
    assert cfg.train_dataloader.dataset.split == 'train'
    assert cfg.val_dataloader.dataset.split == 'val'
    assert cfg.test_dataloader.dataset.split == 'val'
    assert any(e.type == 'VOCAveragePrecision' for e in cfg.val_evaluator)
    train = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert train == ['LoadImageFromFile', 'Resize', 'RandomChoice',
                     'RandomFlip', 'Rotate', 'PackInputs']
    test = cfg.test_dataloader.dataset.pipeline
    assert (test[1].type, test[1].scale, test[2].crop_size) == (
        'ResizeEdge', 330, 300)


def test_release_lr_is_torch_cosine_with_period_12_epochs():
    cfg = Config.fromfile(RELEASE)
    lr = cfg.optim_wrapper.optimizer.lr
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = PARAM_SCHEDULERS.build(
        cfg.param_scheduler, default_args=dict(optimizer=optimizer))
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.05)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, T_max=12)
    lrs, ref_lrs = [], []
    for _ in range(cfg.train_cfg.max_epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        ref_lrs.append(ref_opt.param_groups[0]['lr'])
        scheduler.step()
        reference.step()
    np.testing.assert_allclose(lrs, ref_lrs, atol=1e-9)
    # the lr falls to 0 at epoch 12 and is back at 0.05 at epoch 24
    assert lrs[12] < 1e-9 and abs(lrs[24] - 0.05) < 1e-9


def test_release_head_is_mean_bce_with_normal_init():
    register_all_modules(init_default_scope=True)
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cfg = Config.fromfile(RELEASE)
    head = MODELS.build(cfg.model.head)
    head.init_weights()
    weight = head.fc.weight
    assert abs(weight.std().item() - 0.01) < 0.001
    assert torch.equal(head.fc.bias, torch.zeros(20))

    # the loss is torch's BCEWithLogitsLoss (mean over all 20 x N outputs)
    feats = (torch.randn(6, 2048), )
    labels = [[0, 3], [5], [19], [1, 2, 7], [4], [0]]
    samples = [DataSample().set_gt_label(label) for label in labels]
    targets = torch.zeros(6, 20)
    for i, label in enumerate(labels):
        targets[i, label] = 1
    loss = head.loss(feats, samples)['loss']
    expected = F.binary_cross_entropy_with_logits(head(feats), targets)
    torch.testing.assert_close(loss, expected)


def test_release_train_pipeline_draws_torchvision_rotations(
        monkeypatch, tmp_path):
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(RELEASE)
    angles = []
    rotate = mmcv.imrotate

    def recording_rotate(img, angle, *args, **kwargs):
        angles.append(angle)
        return rotate(img, angle, *args, **kwargs)

    monkeypatch.setattr(mmcv, 'imrotate', recording_rotate)
    image = tmp_path / 'x.jpg'
    mmcv.imwrite(np.full((40, 50, 3), 128, np.uint8), str(image))
    train = Compose(cfg.train_dataloader.dataset.pipeline[:-1])
    test = Compose(cfg.test_dataloader.dataset.pipeline[:-1])
    for _ in range(300):
        out = train(dict(img_path=str(image)))
        assert out['img'].shape == (300, 300, 3)
    assert test(dict(img_path=str(image)))['img'].shape == (300, 300, 3)
    # RandomRotation(25): every image, uniform in [-25, 25] degrees
    assert len(angles) == 300
    assert max(np.abs(angles)) <= 25
    assert min(angles) < -20 and max(angles) > 20


def test_release_probe_on_tiny_voc(tmp_path, tiny_voc, clsa_r18):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(RELEASE)
    root = osp.join(tiny_voc, 'VOC2007')
    small = dict(batch_size=2, num_workers=0, dataset=dict(data_root=root))
    cfg.merge_from_dict(
        dict(
            model=dict(backbone=dict(depth=18), head=dict(in_channels=512)),
            train_dataloader=small,
            val_dataloader=small,
            train_cfg=dict(max_epochs=2, val_interval=2),
            default_hooks=dict(checkpoint=dict(interval=1)),
            work_dir=str(tmp_path / 'work')))
    cfg.merge_from_dict(pretrained_cfg_options(cfg, clsa_r18))
    cfg.train_dataloader.dataset.pipeline[1].scale = (32, 32)
    cfg.val_dataloader.dataset.pipeline[1].scale = 36
    cfg.val_dataloader.dataset.pipeline[2].crop_size = 32
    runner = Runner.from_cfg(cfg)
    # the train split (4 images) for training, the val split (2) for mAP
    with open(osp.join(root, 'ImageSets/Main/train.txt')) as f:
        train_ids = f.read().split()
    dataset = runner.train_dataloader.dataset
    assert [osp.basename(dataset.get_data_info(i)['img_path'])
            for i in range(len(dataset))] == [f'{i}.jpg' for i in train_ids]
    assert len(runner.val_dataloader.dataset) == 2
    runner.train()
    metrics = runner.val_loop.run()
    assert 0 <= metrics['multi-label/mAP'] <= 100
    state = runner.model.state_dict()
    assert torch.equal(
        state['backbone.conv1.weight'],
        backbone_state_dict(load_local_checkpoint(clsa_r18))['conv1.weight'])
    first = load_local_checkpoint(str(tmp_path / 'work' / 'epoch_1.pth'))
    assert not torch.equal(first['state_dict']['head.fc.weight'],
                           state['head.fc.weight'].cpu())


@pytest.mark.parametrize('missing', ['ImageSets/Main/val.txt',
                                     'Annotations/000005.xml'])
def test_voc_folder_missing_a_file_names_it(tmp_path, missing):
    root = osp.join(make_tiny_voc(str(tmp_path)), 'VOC2007')
    os.remove(osp.join(root, missing))
    register_all_modules(init_default_scope=True)
    from mmpretrain.registry import DATASETS
    cfg = Config.fromfile(RELEASE)
    dataset = cfg.val_dataloader.dataset
    dataset.data_root = root
    with pytest.raises(FileNotFoundError, match=missing):
        DATASETS.build(dataset)
