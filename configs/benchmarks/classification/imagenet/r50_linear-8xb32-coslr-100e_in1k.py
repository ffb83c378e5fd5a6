# ImageNet linear probe of the paper: frozen ResNet-50, one FC layer,
# SGD lr 10, momentum 0.9, no weight decay, batch 256 (8 GPUs x 32), cosine
# schedule, 100 epochs. Run with tools/benchmarks/linear_eval.sh.
_base_ = [
    '../../../_base_/models/resnet50_linear.py',
    '../../../_base_/datasets/imagenet_bs32_linear.py',
    '../../../_base_/default_runtime.py',
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=10., momentum=0.9, weight_decay=0.))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=256)
