# VOC07 linear multi-label classification of a frozen ResNet-50: one FC
# layer with sigmoid outputs trained on trainval, mAP on test. The spec fixes
# no VOC recipe, so this reuses the ImageNet linear-probe optimisation (SGD
# lr 10, momentum 0.9, no weight decay, batch 256, cosine, 100 epochs).
_base_ = [
    '../../../_base_/models/resnet50_linear.py',
    '../../../_base_/datasets/voc07_bs32_linear.py',
    '../../../_base_/default_runtime.py',
]

model = dict(
    head=dict(
        _delete_=True,
        type='MultiLabelLinearClsHead',
        num_classes=20,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True)))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=10., momentum=0.9, weight_decay=0.))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
