# MoCo v3 row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"): the shared rule of _base_/lars_two_crops.py with the
# model of mmpretrain's mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py.
_base_ = './_base_/lars_two_crops.py'

temperature = 1.0
# The recipe's projector and predictor: 2-layer MLPs without biases.
mlp = dict(
    type='NonLinearNeck',
    hid_channels=1024,
    out_channels=256,
    num_layers=2,
    with_bias=False,
    with_last_bn_affine=False,
    with_last_bias=False)
model = dict(
    _delete_=True,
    type='MoCoV3',
    base_momentum=0.01,
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=dict(mlp, in_channels=512, with_last_bn=True, with_avg_pool=True),
    head=dict(
        type='MoCoV3Head',
        predictor=dict(
            mlp, in_channels=256, with_last_bn=False, with_avg_pool=False),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature),
        temperature=temperature))

# lr per 256 images of the recipe: 9.6 x 256 / 4096.
optim_wrapper = dict(optimizer=dict(lr=0.6))
custom_hooks = [dict(type='MomentumQueueHook')]
del mlp  # a helper, not a setting
