# CLSA multi-crop, ResNet-50, 8 GPUs x 32 images, 800 epochs.
_base_ = [
    '../_base_/models/clsa_r50.py',
    '../_base_/datasets/imagenet_bs32_clsa-mcrop.py',
    '../_base_/schedules/sgd_coslr-800e.py',
    '../_base_/default_runtime.py',
]

model = dict(num_weak_views=5, num_strong_views=5)
