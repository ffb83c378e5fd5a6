# The paper's recipe: SGD lr 0.03 for batch 256, momentum 0.9, wd 1e-4, cosine
# decay per epoch (lr_e = 0.03 * (1 + cos(pi * e / 200)) / 2), 200 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9))

param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200)
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)

# --auto-scale-lr scales lr by (actual batch) / 256.
auto_scale_lr = dict(base_batch_size=256)
