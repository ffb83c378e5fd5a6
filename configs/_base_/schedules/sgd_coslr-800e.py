_base_ = './sgd_coslr-200e.py'

param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=800, by_epoch=True, begin=0, end=800)
]

train_cfg = dict(max_epochs=800)
