import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from clsa_mm.checkpoint import pretrained_cfg_options
from clsa_mm.checkpoint import load_local_checkpoint
from cli_helpers import REPO, run_tool

TINY = ('configs/benchmarks/mmdetection/tiny_coco/'
        'mask-rcnn_{}_ms-1x_tiny-coco.py')
COCO = 'configs/benchmarks/mmdetection/coco/mask-rcnn_{}_ms-{}x_coco.py'


def data_options(root):
    options = {}
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.data_root'] = root + '/'
    for split in ('val', 'test'):
        options[f'{split}_evaluator.ann_file'] = (
            f'{root}/annotations/instances_val.json')
    return options


@pytest.mark.parametrize('arch', ['r50-c4', 'r50_fpn'])
@pytest.mark.parametrize('schedule', [1, 2])
def test_coco_configs_follow_the_recipe(arch, schedule):
    cfg = Config.fromfile(osp.join(REPO, COCO.format(arch, schedule)))
    assert cfg.default_scope == 'mmdet'
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.train_cfg.max_epochs == 12 * schedule
    assert cfg.param_scheduler[1].milestones == (
        [8, 11] if schedule == 1 else [16, 22])
    backbone = cfg.model.backbone
    assert backbone.norm_cfg.type == 'SyncBN' and not backbone.norm_eval
    assert backbone.frozen_stages == -1
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint='<PRETRAIN>')
    resize = cfg.train_dataloader.dataset.pipeline[2]
    assert resize.type == 'RandomChoiceResize' and len(resize.scales) == 6
    if arch == 'r50-c4':
        shared_head = cfg.model.roi_head.shared_head
        assert shared_head.norm_cfg.type == 'SyncBN'
        assert shared_head.init_cfg.type == 'Pretrained'


@pytest.mark.parametrize('arch', ['r50-c4', 'r50_fpn'])
def test_mask_rcnn_transfer_from_exported_backbone(tmp_path, clsa_r50,
                                                   tiny_coco, arch):
    _, exported = clsa_r50
    config = osp.join(REPO, TINY.format(arch))
    weights = load_local_checkpoint(exported)['state_dict']

    # The encoder f initialises the backbone (C4: stem..res4) and, for C4,
    # the res5 RoI head: together exactly the exported tensors.
    cfg = Config.fromfile(config)
    options = pretrained_cfg_options(cfg, exported)
    cfg.merge_from_dict(options)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    loaded = dict(model.backbone.state_dict())
    if arch == 'r50-c4':
        res5 = model.roi_head.shared_head.state_dict()
        loaded.update((k, v) for k, v in res5.items()
                      if k.startswith('layer4.'))
        assert set(res5) - set(loaded) == {
            'norm.weight', 'norm.bias', 'norm.running_mean',
            'norm.running_var', 'norm.num_batches_tracked'
        }
    assert loaded.keys() == weights.keys()
    for key, value in weights.items():
        assert torch.equal(loaded[key], value), key

    # 2 iterations (4 images, batch 2) and bbox + segm mAP on the val split;
    # FPN trains 2 epochs without the 500-iteration warm-up (lr 1e-5 here)
    # to show that it learns.
    work_dir = tmp_path / 'work'
    cfg_options = [f'{k}={v}' for k, v in data_options(tiny_coco).items()]
    epochs = 2 if arch == 'r50_fpn' else 1
    if epochs == 2:
        cfg_options += [
            'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
            'param_scheduler.0.start_factor=1.0',
            'optim_wrapper.optimizer.lr=0.01'
        ]
    proc = run_tool([
        'tools/benchmarks/mmdetection/train_det.sh', config, exported, '1',
        '--cfg-options', *cfg_options
    ], WORK_DIR=work_dir)
    log = proc.stdout + proc.stderr
    assert log.count(f'load model from: {exported}') == (
        2 if arch == 'r50-c4' else 1)
    # The one-line summary of each init counts the tensors that now equal
    # the file's: C4 backbone = stem..res4, head = res5 + a new norm.
    summaries = {
        'r50-c4': [
            f'{exported}: 258 tensors into ResNet (all of its 258), '
            '0 missing', f'{exported}: 60 tensors into ResLayerExtraNorm '
            '(60 of its 65; 5 new: norm.weight, norm.bias, '
            'norm.running_mean, norm.running_var, norm.num_batches_tracked)'
            ', 0 missing'
        ],
        'r50_fpn': [
            f'{exported}: 318 tensors into ResNet (all of its 318), 0 missing'
        ],
    }[arch]
    for summary in summaries:
        assert summary in log
    (scalars, ) = glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))
    with open(scalars) as f:
        logs = [json.loads(line) for line in f]
    losses = [log['loss'] for log in logs if 'loss' in log]
    assert [log['iter'] for log in logs if 'loss' in log] == list(
        range(1, 2 * epochs + 1))
    if epochs == 2:
        # The same 4 images twice. Measured: the second epoch's loss sum is
        # 23 % lower (6.83 + 5.63 -> 5.01 + 4.54); with lr 0 (weights that
        # do not change) 0.7 % lower (6.92 + 6.72 -> 6.81 + 6.73). C4 is not
        # checked: it fell 5 % when training and 3 % with lr 0.
        assert sum(losses[2:]) < 0.9 * sum(losses[:2]), losses
    (metrics, ) = [log for log in logs if 'coco/bbox_mAP' in log]
    for task in ('bbox', 'segm'):
        assert 0 <= metrics[f'coco/{task}_mAP'] <= 1
        assert 0 <= metrics[f'coco/{task}_mAP_50'] <= 1
    assert (work_dir / f'epoch_{epochs}.pth').exists()
