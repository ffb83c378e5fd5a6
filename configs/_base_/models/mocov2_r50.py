# MoCo v2 (mmpretrain's `MoCo`): ResNet-50 encoder f, projector g
# (2048 -> 2048 -> ReLU -> 128), EMA key encoder (decay 0.999), a queue of
# 65536 keys, contrastive loss (T = 0.2). The base of CLSA's model.
model = dict(
    type='MoCo',
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,
    # The views arrive as RGB uint8 tensors.
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2))

# EMA momentum per iteration, queue/batch check before training, and
# queue pointer / similarity / DDM-entropy logging.
custom_hooks = [dict(type='MomentumQueueHook')]
