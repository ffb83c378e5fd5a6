# Linear probe of the demo (tools/run_demo.py): the ImageNet linear-probe
# recipe (frozen backbone incl. BN statistics, one FC layer, SGD momentum
# 0.9, no weight decay, cosine) on the demo data set of
# tools/dataset_converters/make_demo_data.py: 18 classes of 64x64 patches,
# a ResNet-18, a short schedule.
_base_ = [
    '../benchmarks/classification/imagenet/'
    'r50_linear-8xb32-coslr-100e_in1k.py'
]

data_root = 'data/demo'
# The folder names of the demo data set, in label order of meta/*.txt.
classes = 'data/demo/meta/classes.txt'
num_classes = 18
max_epochs = 10

# A parameter-free BatchNorm (MAE's linear probe) standardises the pooled
# features before the FC layer: the features of a briefly pretrained and of
# a random ResNet-18 differ ~20x in scale, and no single SGD lr suits both
# without it.
model = dict(
    backbone=dict(depth=18),
    neck=[
        dict(type='GlobalAveragePooling'),
        dict(type='ClsBatchNormNeck', input_features=512),
    ],
    head=dict(num_classes=num_classes, in_channels=512))
data_preprocessor = dict(num_classes=num_classes)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.3, 1.0),
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# The patches are 64x64 already.
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

demo_data = dict(data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    dataset=dict(demo_data, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=dict(demo_data, pipeline=test_pipeline))
test_dataloader = val_dataloader

# On standardised features lr 0.1 suits both backbones (the ImageNet probe
# uses lr 10 for batch 256 on raw ImageNet features).
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
del demo_data  # a helper, not a setting
