"""Faster R-CNN R50-C4 on VOC07+12 (the authors' detectron2 protocol)."""
import glob
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from clsa_mm.testing import make_tiny_voc
from cli_helpers import REPO, run_tool

VOC0712 = osp.join(
    REPO, 'configs/benchmarks/mmdetection/voc0712/'
    'faster-rcnn_r50-c4_ms-24k_voc0712.py')
TINY = osp.join(
    REPO, 'configs/benchmarks/mmdetection/tiny_voc/'
    'faster-rcnn_r50-c4_ms-24k_tiny-voc.py')


def data_options(root):
    root = root + '/'
    return {
        'train_dataloader.dataset.datasets.0.data_root': root,
        'train_dataloader.dataset.datasets.1.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
    }


def tiny_voc_config(root, **sizes):
    """TINY reading a tiny VOCdevkit written to ``root`` (make_tiny_voc's
    ``sizes``), with mmdet's registry scope set."""
    from mmengine.registry import init_default_scope
    make_tiny_voc(root, **sizes)
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict(data_options(root))
    init_default_scope('mmdet')
    return cfg


def test_voc0712_config_follows_the_protocol():
    cfg = Config.fromfile(VOC0712)
    assert cfg.default_scope == 'mmdet'
    assert cfg.model.type == 'FasterRCNN'
    assert cfg.model.roi_head.bbox_head.num_classes == 20
    # batch 16 = 8 GPUs x 2, lr 0.02, 24k iterations, steps 18k/22k,
    # linear warm-up over 100 iterations
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 24000
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.end) == ('LinearLR', False,
                                                          100)
    assert (steps.type, steps.by_epoch, steps.milestones, steps.end) == (
        'MultiStepLR', False, [18000, 22000], 24000)
    # SyncBN everywhere, nothing frozen, both initialised from <PRETRAIN>
    for module in (cfg.model.backbone, cfg.model.roi_head.shared_head):
        assert module.norm_cfg.type == 'SyncBN' and not module.norm_eval
        assert module.style == 'pytorch'
        assert module.init_cfg == dict(
            type='Pretrained', checkpoint='<PRETRAIN>')
    assert cfg.model.backbone.frozen_stages == -1
    assert cfg.model.roi_head.shared_head.type == 'ResLayerExtraNorm'
    # VOC07+12 trainval for training, shorter side 480..800 (step 32)
    train = cfg.train_dataloader.dataset
    assert [d.ann_file for d in train.datasets] == [
        'VOC2007/ImageSets/Main/trainval.txt',
        'VOC2012/ImageSets/Main/trainval.txt'
    ]
    resize = train.datasets[0].pipeline[2]
    assert resize.type == 'RandomChoiceResize'
    assert [s[1] for s in resize.scales] == list(range(480, 801, 32))
    # VOC07 test at 800, VOC07 11-point AP at IoU 0.5:0.95
    val = cfg.val_dataloader.dataset
    assert val.ann_file == 'VOC2007/ImageSets/Main/test.txt'
    assert val.pipeline[1].scale == (1333, 800)
    assert cfg.val_evaluator.eval_mode == '11points'
    assert len(cfg.val_evaluator.iou_thrs) == 10


def test_tiny_voc_config_reads_both_years(tmp_path):
    from mmdet.registry import DATASETS
    cfg = tiny_voc_config(str(tmp_path), num_train=3, num_val=2, num_test=2)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    # VOC2007 trainval + VOC2012 trainval
    assert len(train) == 5 + 5
    paths = [train.get_data_info(i)['img_path'] for i in range(len(train))]
    assert sum('/VOC2012/' in p for p in paths) == 5
    assert train.metainfo['classes'][:3] == ('aeroplane', 'bicycle', 'bird')
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(val) == 2 and val.metainfo['dataset_type'] == 'VOC2007'


@pytest.mark.parametrize('missing', ['VOC2012/ImageSets/Main/trainval.txt',
                                     'VOC2007/Annotations/000002.xml'])
def test_voc_folder_missing_a_file_names_it(tmp_path, missing):
    from mmdet.registry import DATASETS
    cfg = tiny_voc_config(str(tmp_path), num_train=2, num_val=1, num_test=1)
    os.remove(osp.join(tmp_path, missing))
    with pytest.raises(FileNotFoundError, match=missing):
        DATASETS.build(cfg.train_dataloader.dataset)


def test_voc_metric_scores_the_ground_truth_as_perfect(tmp_path):
    from mmdet.registry import DATASETS, METRICS
    cfg = tiny_voc_config(str(tmp_path), num_train=1, num_val=1, num_test=3)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)

    def evaluate(shift):
        metric = METRICS.build(cfg.val_evaluator)
        metric.dataset_meta = dataset.metainfo
        for i in range(len(dataset)):
            sample = dataset[i]['data_samples'].to_dict()
            gt = sample['gt_instances']
            boxes = gt['bboxes'].tensor.clone()  # HorizontalBoxes
            boxes[:, 0::2] += shift * (boxes[:, 2:3] - boxes[:, 0:1])
            sample['pred_instances'] = dict(
                bboxes=boxes, labels=gt['labels'],
                scores=torch.ones(len(boxes)))
            metric.process({}, [sample])
        return metric.evaluate(len(dataset))

    perfect = evaluate(0.)
    assert perfect['pascal_voc/mAP'] == perfect['pascal_voc/AP95'] == 1.
    # boxes moved by 1/4 of their width: IoU 0.6, found at 0.5, not at 0.75
    moved = evaluate(0.25)
    assert moved['pascal_voc/AP50'] == 1. and moved['pascal_voc/AP75'] == 0.
    assert 0 < moved['pascal_voc/mAP'] < 1


def test_faster_rcnn_c4_transfer_on_tiny_voc(tmp_path, clsa_r50):
    _, exported = clsa_r50
    root = make_tiny_voc(str(tmp_path / 'VOCdevkit'))
    work_dir = tmp_path / 'work'
    options = [f'{k}={v}' for k, v in data_options(root).items()]
    proc = run_tool([
        'tools/benchmarks/mmdetection/train_det.sh', TINY, exported, '1',
        '--cfg-options', *options
    ], WORK_DIR=work_dir)
    output = proc.stdout + proc.stderr
    # the encoder initialises the backbone (stem..res4) and the res5 head
    assert output.count(f'load model from: {exported}') == 2
    (scalars, ) = glob.glob(str(work_dir / '*' / 'vis_data' / 'scalars.json'))
    with open(scalars) as f:
        logs = [json.loads(line) for line in f]
    losses = [log['loss'] for log in logs if 'loss' in log]
    assert len(losses) == 12
    # training works: the loss falls over the run
    assert sum(losses[-3:]) < 0.9 * sum(losses[:3]), losses
    (metrics, ) = [log for log in logs if 'pascal_voc/mAP' in log]
    for key in ('mAP', 'AP50', 'AP75'):
        assert 0 <= metrics[f'pascal_voc/{key}'] <= 1
    print('tiny-VOC Faster R-CNN C4:', 'loss', [round(v, 3) for v in losses],
          {k: v for k, v in metrics.items() if k.startswith('pascal_voc/')})
    assert (work_dir / 'iter_12.pth').exists()
