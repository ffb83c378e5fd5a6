# CLSA single-crop, ResNet-50, one GPU x 64 images, 200 epochs: the 8 x 32
# recipe (r50_8xb32_200e.py) on one GPU. lr by the linear rule,
# 0.03 * 64 / 256 = 0.0075; split BN with 2 splits of 32, so every BN batch
# holds 32 images as on one of the 8 GPUs, and the key batch is shuffled
# across the splits (shuffle-BN of 2 ranks, docs/pretraining.md). The queue
# of 65536 keys is a multiple of the batch of 64.
_base_ = './r50_8xb32_200e.py'

model = dict(backbone=dict(norm_cfg=dict(type='SplitBN', num_splits=2)))

train_dataloader = dict(batch_size=64)

optim_wrapper = dict(optimizer=dict(lr=0.0075))
