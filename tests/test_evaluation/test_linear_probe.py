import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch.nn.modules.batchnorm import _BatchNorm

from clsa_mm.checkpoint import (backbone_checkpoint, backbone_state_dict,
                                pretrained_cfg_options)
from clsa_mm.registry import MODELS
from clsa_mm.checkpoint import load_local_checkpoint
from clsa_mm.utils import register_all_modules
from cli_helpers import REPO, free_port, run_tool
from clsa_mm.testing import clsa_checkpoint, reference_checkpoint
from eval_helpers import linear_probe_config

IN1K = 'configs/benchmarks/classification/imagenet/' \
    'r50_linear-8xb32-coslr-100e_in1k.py'
VOC07 = 'configs/benchmarks/classification/voc07/' \
    'r50_linear-8xb32-coslr-100e_voc07.py'


def assert_same_tensors(actual, expected):
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


@pytest.mark.parametrize('config', [IN1K, VOC07])
def test_linear_probe_configs_follow_the_recipe(config):
    cfg = Config.fromfile(osp.join(REPO, config))
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == ('SGD', 10., 0.9, 0.)
    assert cfg.param_scheduler.type == 'CosineAnnealingLR'
    assert cfg.param_scheduler.T_max == cfg.train_cfg.max_epochs == 100
    assert cfg.train_dataloader.batch_size * 8 == 256
    backbone = cfg.model.backbone
    assert (backbone.depth, backbone.frozen_stages, backbone.norm_eval) == (
        50, 4, True)
    assert backbone.init_cfg.type == 'Pretrained'


def build_probe(config, options):
    register_all_modules(init_default_scope=False)
    init_default_scope('clsa_mm')
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('exported', [False, True])
def test_probe_backbone_starts_from_the_pretrained_encoder(
        tmp_path, tiny_imagenet, exported):
    checkpoint = clsa_checkpoint(18)
    path = tmp_path / 'pretrain.pth'
    torch.save(
        backbone_checkpoint(checkpoint, 'x') if exported else checkpoint,
        path)
    config = linear_probe_config(tmp_path / 'cfg.py', tiny_imagenet)
    options = pretrained_cfg_options(Config.fromfile(config), str(path))
    assert options['model.backbone.init_cfg.prefix'] == (
        None if exported else 'backbone.')
    model = build_probe(config, options)
    model.init_weights()
    assert_same_tensors(model.backbone.state_dict(),
                        backbone_state_dict(checkpoint))
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    norms = [m for m in model.backbone.modules() if isinstance(m, _BatchNorm)]
    assert norms and not any(m.training for m in norms)
    assert all(p.requires_grad for p in model.head.parameters())


def test_linear_eval_trains_only_the_head(tmp_path, tiny_imagenet, clsa_r18):
    # GPUS=2 runs tools/dist_train.sh and dist_test.sh (gloo on the CPU).
    gpus = 1 if torch.cuda.is_available() else 2
    config = linear_probe_config(tmp_path / 'cfg.py', tiny_imagenet)
    work_dir = tmp_path / 'work'
    proc = run_tool([
        'tools/benchmarks/linear_eval.sh', config, clsa_r18,
        str(gpus), '--cfg-options', 'optim_wrapper.optimizer.lr=0.1'
    ], WORK_DIR=work_dir, PORT=free_port())
    result = json.loads((work_dir / 'linear_eval.json').read_text())
    assert 0 <= result['accuracy/top1'] <= 100
    assert f'Linear probe of {clsa_r18}' in proc.stdout
    assert 'Epoch(test) [' in proc.stdout + proc.stderr

    pretrained = load_local_checkpoint(clsa_r18)['state_dict']
    head_weights = []
    for epoch in (1, 2):
        state = load_local_checkpoint(
            str(work_dir / f'epoch_{epoch}.pth'))['state_dict']
        backbone = {k: v for k, v in state.items()
                    if k.startswith('backbone.')}
        pretrained_backbone = {k: v for k, v in pretrained.items()
                               if k.startswith('backbone.')}
        # weights and BN statistics: all frozen
        assert_same_tensors(backbone, pretrained_backbone)
        head_weights.append(state['head.fc.weight'])
    assert not torch.equal(head_weights[0], head_weights[1])


def test_linear_eval_refuses_an_unconverted_reference_checkpoint(
        tmp_path, tiny_imagenet):
    path = tmp_path / 'reference.pth'
    torch.save(reference_checkpoint(18), path)
    config = linear_probe_config(tmp_path / 'cfg.py', tiny_imagenet)
    proc = run_tool(
        ['tools/benchmarks/linear_eval.sh', config,
         str(path), '1'],
        check=False,
        WORK_DIR=tmp_path / 'work')
    assert proc.returncode != 0
    assert str(path) in proc.stderr
    assert 'convert_reference_clsa.py' in proc.stderr
    assert not (tmp_path / 'work').exists()


def make_tiny_voc(root, names=('train', 'test'), per_split=4):
    """A VOC2007-style folder with single-object annotations."""
    import cv2
    import numpy as np
    classes = ['aeroplane', 'bicycle', 'bird', 'boat']
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    rng = np.random.default_rng(0)
    for split in names:
        ids = [f'{split}{i:03d}' for i in range(per_split)]
        for i, img_id in enumerate(ids):
            image = rng.integers(0, 256, (40, 48, 3)).astype(np.uint8)
            cv2.imwrite(osp.join(root, 'JPEGImages', f'{img_id}.jpg'), image)
            objects = ''.join(
                f'<object><name>{name}</name><difficult>{d}</difficult>'
                '</object>'
                for name, d in ((classes[i % 4], 0), (classes[(i + 1) % 4],
                                                      i % 2)))
            with open(osp.join(root, 'Annotations', f'{img_id}.xml'),
                      'w') as f:
                f.write(f'<annotation>{objects}</annotation>')
        split_name = 'trainval' if split == 'train' else split
        with open(osp.join(root, 'ImageSets/Main', f'{split_name}.txt'),
                  'w') as f:
            f.write('\n'.join(ids) + '\n')
    return root


def test_voc07_linear_probe_reports_map(tmp_path, clsa_r18):
    root = make_tiny_voc(str(tmp_path / 'VOC2007'))
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, VOC07))
    small = dict(batch_size=4, num_workers=0, dataset=dict(data_root=root))
    cfg.merge_from_dict(
        dict(
            model=dict(
                backbone=dict(depth=18),
                head=dict(in_channels=512)),
            train_dataloader=small,
            val_dataloader=small,
            train_cfg=dict(max_epochs=1, val_interval=1),
            work_dir=str(tmp_path / 'work')))
    cfg.merge_from_dict(pretrained_cfg_options(cfg, clsa_r18))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.pipeline[1].scale = 32
        if loader is cfg.val_dataloader:
            loader.dataset.pipeline[1].scale = 36
            loader.dataset.pipeline[2].crop_size = 32
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert 0 <= metrics['multi-label/mAP'] <= 100
    assert {'multi-label/precision', 'multi-label/recall_micro'} <= set(
        metrics)
    assert_same_tensors(
        {k: v for k, v in runner.model.backbone.state_dict().items()},
        backbone_state_dict(load_local_checkpoint(clsa_r18)))
