# CLSA multi-crop, ResNet-50, 8 GPUs x 32 images, 200 epochs.
# Views: key 224, 5 weak queries and 5 strong views at 224/192/160/128/96;
# 5 contrastive and 5 x 5 DDM terms.
_base_ = [
    '../_base_/models/clsa_r50.py',
    '../_base_/datasets/imagenet_bs32_clsa-mcrop.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]

model = dict(num_weak_views=5, num_strong_views=5)
