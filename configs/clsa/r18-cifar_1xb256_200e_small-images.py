# CLSA single-crop for 32 px images (CIFAR-10 sized), one GPU x 256 images,
# 200 epochs. ResNet-18 with mmpretrain's small-image stem (ResNet_CIFAR:
# 3x3 stride-1 conv, no max-pool), split BN with 8 splits of 32 and the key
# batch shuffled across them (shuffle-BN of 8 ranks, as the MoCo CIFAR-10
# notebook). Views scaled from 224 to 32 px: key and weak query 32 px, the
# strong view 16 px (the paper's 96 / 224), the blur sigma scaled alike
# (2.0 * 32 / 224 = 0.3). lr 0.03 for batch 256 (the
# paper's rule); a queue of 4096 keys, decay 0.99 and weight decay 5e-4,
# as the MoCo CIFAR-10 notebook (a 65536-key queue would outnumber the
# 50000 CIFAR-10 training images). Data: a folder of images under
# data/cifar10/train (any class layout; labels are not read).
_base_ = './r50_8xb32_200e.py'

model = dict(
    queue_len=4096,
    momentum=0.01,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        norm_cfg=dict(type='SplitBN', num_splits=8)),
    neck=dict(in_channels=512, hid_channels=512))

views = _base_.train_dataloader.dataset.pipeline[1]
train_dataloader = dict(
    batch_size=256,
    dataset=dict(
        data_root='data/cifar10/',
        pipeline=[
            _base_.train_dataloader.dataset.pipeline[0],
            dict(
                views,
                key_view=dict(size=32, scale=(0.2, 1.0)),
                weak_views=[dict(size=32, scale=(0.2, 1.0))],
                strong_views=[dict(size=16, scale=(0.086, 0.429))],
                weak_augment=dict(views.weak_augment,
                                  blur_sigma=(0.1, 0.3))),
            _base_.train_dataloader.dataset.pipeline[2],
        ]))
del views  # a helper, not a setting

optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
