# SimCLR row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"): the shared rule of _base_/lars_two_crops.py with the
# model of mmpretrain's simclr_resnet50_16xb256-coslr-200e_in1k.py.
_base_ = './_base_/lars_two_crops.py'

model = dict(
    _delete_=True,
    type='SimCLR',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=dict(_base_.model.backbone, zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1))
