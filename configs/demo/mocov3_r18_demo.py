# MoCo v3 row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"), by the rule written there for every base method:
# - data, views, batch 32, epochs, seed, checkpoints: clsa_r18_demo.py's,
#   with its two 64-pixel weakly augmented crops as the method's two crops
#   and no strong view;
# - ResNet-18 with BN (one process); the recipe's projector/predictor with
#   in_channels 512 and hidden widths / 4, as the demo shrinks MoCo v2's
#   (2048 -> 512); output widths, temperature, momentum and loss unchanged;
# - the recipe's optimizer with its lr per 256 images, kept at batch 32 as
#   the demo keeps MoCo v2's 0.03 (9.6 x 256 / 4096 = 0.6), plain
#   OptimWrapper (no AMP), the demo's single cosine schedule over
#   max_epochs (the recipe's 10 warm-up epochs dropped).
# Recipe: mmpretrain's mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py.
_base_ = './clsa_r18_demo.py'

temperature = 1.0
model = dict(
    _delete_=True,
    type='MoCoV3',
    base_momentum=0.01,
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=18,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=1024,
        out_channels=256,
        num_layers=2,
        with_bias=False,
        with_last_bn=True,
        with_last_bn_affine=False,
        with_last_bias=False,
        with_avg_pool=True),
    head=dict(
        type='MoCoV3Head',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=1024,
            out_channels=256,
            num_layers=2,
            with_bias=False,
            with_last_bn=False,
            with_last_bn_affine=False,
            with_last_bias=False,
            with_avg_pool=False),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature),
        temperature=temperature))

pipeline = _base_.train_dataloader.dataset.pipeline.copy()
pipeline[1] = dict(pipeline[1], strong_views=[])
train_dataloader = dict(dataset=dict(pipeline=pipeline))
del pipeline  # a helper, not a setting

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.6, weight_decay=1e-6, momentum=0.9),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            # the BN layer of a ResNet block's downsample branch
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

# MomentumQueueHook is CLSA's; MoCoV3's CosineEMA anneals its own momentum.
custom_hooks = []
