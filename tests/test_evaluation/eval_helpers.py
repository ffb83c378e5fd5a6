"""Configs for the evaluation tests."""
import os.path as osp

from cli_helpers import REPO


def linear_probe_config(path, data_root, max_epochs=2):
    """The ImageNet linear-probe config, shrunk for tiny_imagenet."""
    base = osp.join(
        REPO, 'configs/benchmarks/classification/imagenet/'
        'r50_linear-8xb32-coslr-100e_in1k.py')
    text = f'''
_base_ = [{base!r}]
model = dict(
    backbone=dict(depth=18),
    head=dict(num_classes=3, in_channels=512, topk=(1, )),
    data_preprocessor=dict(num_classes=3))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(_delete_=True, type='CustomDataset',
                 data_root={data_root!r}, data_prefix='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0,
    dataset=dict(_delete_=True, type='CustomDataset',
                 data_root={data_root!r}, data_prefix='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator
param_scheduler = dict(T_max={max_epochs}, end={max_epochs})
train_cfg = dict(max_epochs={max_epochs}, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
'''
    with open(path, 'w') as f:
        f.write(text)
    return str(path)
