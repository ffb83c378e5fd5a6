# ImageNet for linear probes: mmpretrain's ImageNet with PIL resizing as
# torchvision does (RandomResizedCrop + flip for training, resize 256 +
# centre crop 224 for testing), batch 32 per GPU.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py'

data_root = 'data/imagenet'
