# BYOL row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"): the shared rule of _base_/lars_two_crops.py with the
# model of mmpretrain's byol_resnet50_16xb256-coslr-200e_in1k.py.
_base_ = './_base_/lars_two_crops.py'

model = dict(
    _delete_=True,
    type='BYOL',
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
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=1024,
            out_channels=256,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_avg_pool=False),
        loss=dict(type='CosineSimilarityLoss')))
custom_hooks = [dict(type='MomentumQueueHook')]
