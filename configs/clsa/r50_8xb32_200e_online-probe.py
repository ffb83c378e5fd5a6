# r50_8xb32_200e.py watched while it trains (docs/pretraining.md):
# - an online linear probe on the detached backbone output of the weak
#   view, trained with the model (lr 10 x the base lr, no weight decay),
#   logged as online_probe/top1 and evaluated every 10 epochs by the val
#   loop as online_probe/val_top1;
# - a k-NN monitor (k = 20, T = 0.07, as tools/benchmarks/knn_eval.py)
#   every 10 epochs: knn/top1 of the val images against a bank of 1 in 100
#   training images (meta/train_1pct.txt), and its cost, knn/seconds.
# Both need labelled ImageNet: data/imagenet/{train,val}/ with the
# "path label" lists meta/train.txt and meta/val.txt; make the bank list
# with  awk 'NR % 100 == 1' meta/train.txt > meta/train_1pct.txt
# Pretraining itself is that of r50_8xb32_200e.py.
_base_ = './r50_8xb32_200e.py'

model = dict(online_probe=dict(num_classes=1000))
train_dataloader = dict(
    dataset=dict(type='CustomDataset', ann_file='meta/train.txt'))
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys=dict(online_probe=dict(lr_mult=10.0, decay_mult=0.0))))

val_dataloader = dict(
    _base_.train_dataloader,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CustomDataset',
        data_root='data/imagenet/',
        data_prefix='val',
        ann_file='meta/val.txt',
        pipeline=[
            dict(type='LoadRGBImageFromFile'),
            dict(type='ResizeEdge', scale=256, edge='short'),
            dict(type='CenterCrop', crop_size=224),
            dict(type='PackInputs'),
        ]))
val_evaluator = dict(type='OnlineProbeAccuracy')
val_cfg = dict()
train_cfg = dict(val_interval=10)

custom_hooks = _base_.custom_hooks + [
    dict(
        type='KNNMonitorHook',
        interval=10,
        train_dataloader=dict(
            val_dataloader,
            dataset=dict(
                val_dataloader['dataset'],
                data_prefix='train',
                ann_file='meta/train_1pct.txt')),
        val_dataloader=val_dataloader),
]
