# BYOL row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"): the shared rule of _base_/lars_two_crops.py with the
# model of mmpretrain's byol_resnet50_16xb256-coslr-200e_in1k.py.
_base_ = './_base_/lars_two_crops.py'

# The recipe's projector and predictor: 2-layer MLPs with biases.
mlp = dict(
    type='NonLinearNeck',
    hid_channels=1024,
    out_channels=256,
    num_layers=2,
    with_bias=True,
    with_last_bn=False)
model = dict(
    _delete_=True,
    type='BYOL',
    base_momentum=0.01,
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=dict(mlp, in_channels=512, with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(mlp, in_channels=256, with_avg_pool=False),
        loss=dict(type='CosineSimilarityLoss')))
custom_hooks = [dict(type='MomentumQueueHook')]
del mlp  # a helper, not a setting
