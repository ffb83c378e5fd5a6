# SimCLR + CLSA's DDM, ResNet-50, 16 GPUs x 256 images, 200 epochs.
# mmpretrain's recipe (simclr_resnet50_16xb256-coslr-200e_in1k.py): SyncBN
# ResNet-50 (zero-init residuals), 2048-2048-128 MLP, NT-Xent with T = 0.1,
# LARS lr 4.8 (batch 4096), wd 1e-6, no wd/LARS on BN and biases, 10 linear
# warm-up epochs then cosine. CLSA adds one 96-pixel strong view and the
# DDM loss (T2 = 0.1, beta = 1) over SimCLR's own 2B - 1 column bank.
_base_ = [
    'mmpretrain::_base_/schedules/imagenet_lars_coslr_200e.py',
    '../_base_/datasets/imagenet_bs32_simclr-ddm.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
# The schedule base tags its loop with mmpretrain's scope; build the loop
# (and so the data loader it builds) in clsa_mm's.
train_cfg = dict(_scope_='clsa_mm')

model = dict(
    type='SimCLRDDM',
    num_strong_views=1,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.1, loss_weight=1.0),
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
        zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1))

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # the BN layer of a ResNet block's downsample branch
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

# --auto-scale-lr scales lr by (actual batch) / 4096.
auto_scale_lr = dict(base_batch_size=4096)
