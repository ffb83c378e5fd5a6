# MoCo v2 row of the demo comparison (tools/run_demo.py, `make demo`), the
# base of every other row (docs/demo.md, "Recipes of the comparison"):
# CLSA's ImageNet recipe (configs/clsa/r50_8xb32_200e.py) without the strong
# view and the DDM term, shrunk to a few minutes on two CPU cores, on the
# demo data of tools/dataset_converters/make_demo_data.py (1440 grey
# training patches of 64x64 from 18 photographs):
# - a ResNet-18 and a 512 -> 512 -> 128 projector,
# - views of 64 pixels (key, weak query), the crop scales of the paper, the
#   blur sigma scaled with the size,
# - one process, batch 32 (540 iterations in all), split BN in 2 splits of
#   16: shuffle-BN of 2 ranks on one process (docs/pretraining.md),
# - a queue of 256 keys: with 1440 images, 1024 keys learnt clearly worse,
# - EMA decay 0.99 instead of 0.999 (hundreds of steps, not a million),
# - lr 0.03 (as for batch 256; 0.06 was worse), cosine over 12 epochs.
#
# The algorithm is mmpretrain's own `MoCo` (its `momentum` is 1 - decay, as
# CLSA's). Two things differ from CLSA's contrastive term, both by design:
# - MoCo's logits are [q·k, q·Q] (one positive column + the queue); CLSA's
#   reference scores q against [Kall; Q], so the other B - 1 keys of the
#   batch are extra negatives there.
# - MoCo takes the views as [query, key]; CLSAViews yields [key, weak query].
#   Both views have the same size, scale and augmentation, so the two orders
#   draw the same distribution.
# MomentumQueueHook logs the key encoder's momentum; MoCo's enqueue asserts
# queue_len % batch == 0 itself (drop_last=True keeps the batches whole).
_base_ = [
    '../_base_/models/mocov2_r50.py',
    '../_base_/datasets/imagenet_bs32_clsa.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/demo'
max_epochs = 12

model = dict(
    queue_len=256,
    momentum=0.01,
    backbone=dict(depth=18, norm_cfg=dict(type='SplitBN', num_splits=2)),
    neck=dict(in_channels=512, hid_channels=512))

train_pipeline = [
    dict(type='LoadRGBImageFromFile'),
    dict(
        type='CLSAViews',
        key_view=dict(size=64, scale=(0.2, 1.0)),
        weak_views=[dict(size=64, scale=(0.2, 1.0))],
        strong_views=[],
        weak_augment=dict(type='WeakAugment', blur_sigma=(0.1, 0.6)),
        strong_augment=dict(type='StrongAugment')),
    dict(
        type='PackInputs',
        meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                   'strong_ops')),
]
# The pipeline of the rows with CLSA's strong view (CLSA, naive, X + DDM):
# the same two views and one of 32 pixels (scale 0.086-0.429, weak then
# strong augmentation). Such a row sets
# train_dataloader = dict(dataset=dict(pipeline=_base_.strong_view_pipeline)).
strong_view_pipeline = [
    train_pipeline[0],
    dict(train_pipeline[1],
         strong_views=[dict(size=32, scale=(0.086, 0.429))]),
    train_pipeline[2],
]

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    drop_last=True,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=0.03))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    # 9 iterations (288 keys) per log line: queue_ptr draws a readable saw.
    logger=dict(interval=9),
    checkpoint=dict(interval=4, max_keep_ckpts=1))
