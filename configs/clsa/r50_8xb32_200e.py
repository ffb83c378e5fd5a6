# CLSA single-crop, ResNet-50, 8 GPUs x 32 images, 200 epochs (docs/method.md).
# Views: key 224, one weak query 224, one strong view 96.
_base_ = [
    '../_base_/models/clsa_r50.py',
    '../_base_/datasets/imagenet_bs32_clsa.py',
    '../_base_/schedules/sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
