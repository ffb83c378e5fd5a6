# BYOL + CLSA's DDM, ResNet-50, 16 GPUs x 256 images, 200 epochs.
# mmpretrain's recipe (byol_resnet50_16xb256-coslr-200e_in1k.py): SyncBN
# ResNet-50, 2048-4096-256 projector and 256-4096-256 predictor, target
# network EMA with cosine momentum from 0.01, LARS lr 4.8 (batch 4096),
# wd 1e-6, no wd/LARS on BN and biases, 10 linear warm-up epochs then
# cosine. CLSA adds one 96-pixel strong view (through the predictor) and the
# DDM loss (T2 = 0.2, beta = 1) over the other crop's gathered target
# projections and a DDM-only queue of 65536 past target projections.
_base_ = [
    'mmpretrain::_base_/schedules/imagenet_lars_coslr_200e.py',
    '../_base_/datasets/imagenet_bs32_byol-ddm.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
# The schedule base tags its loop with mmpretrain's scope; build the loop
# (and so the data loader it builds) in clsa_mm's.
train_cfg = dict(_scope_='clsa_mm')

model = dict(
    type='BYOLDDM',
    base_momentum=0.01,
    num_strong_views=1,
    # Each step enqueues both crops' targets: a multiple of 2 x 4096.
    queue_len=65536,
    feat_dim=256,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.2, loss_weight=1.0),
    # The views arrive as RGB uint8 tensors.
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(
        type='ResNet',
        depth=50,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_avg_pool=False),
        loss=dict(type='CosineSimilarityLoss')))

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # the BN layer of a ResNet block's downsample branch
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

# The target network's momentum and the queue pointer in the logs; the queue
# length checked against the batch before the first iteration.
custom_hooks = [dict(type='MomentumQueueHook')]

# --auto-scale-lr scales lr by (actual batch) / 4096.
auto_scale_lr = dict(base_batch_size=4096)
