# CLSA pretraining of the demo (tools/run_demo.py, `make demo`): the
# single-crop recipe of r50_8xb32_200e.py shrunk to a few minutes on two CPU
# cores, on the demo data of tools/dataset_converters/make_demo_data.py
# (1440 grey training patches of 64x64 from 18 photographs):
# - a ResNet-18 and a 512 -> 512 -> 128 projector,
# - views of 64 (key, weak query) and 32 (strong view) pixels, the crop
#   scales of the paper, the blur sigma scaled with the size,
# - one process, batch 32 (540 iterations in all),
# - a queue of 256 keys: with 1440 images, 1024 keys learnt clearly worse,
# - EMA decay 0.99 instead of 0.999 (hundreds of steps, not a million),
# - lr 0.03 (as for batch 256; 0.06 was worse), cosine over 12 epochs.
_base_ = '../clsa/r50_8xb32_200e.py'

data_root = 'data/demo'
max_epochs = 12

model = dict(
    queue_len=256,
    momentum=0.01,
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hid_channels=512))

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    drop_last=True,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='LoadRGBImageFromFile'),
            dict(
                type='CLSAViews',
                key_view=dict(size=64, scale=(0.2, 1.0)),
                weak_views=[dict(size=64, scale=(0.2, 1.0))],
                strong_views=[dict(size=32, scale=(0.086, 0.429))],
                weak_augment=dict(type='WeakAugment', blur_sigma=(0.1, 0.6)),
                strong_augment=dict(type='StrongAugment')),
            dict(
                type='PackInputs',
                meta_keys=('sample_idx', 'img_path', 'ori_shape',
                           'img_shape', 'strong_ops')),
        ]))

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
