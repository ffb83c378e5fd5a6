# SimCLR-DDM pretraining data: mmpretrain's SimCLR views (two 224 crops,
# scale (0.08, 1), colour jitter 0.8/0.8/0.8/0.2 with p = 0.8, grayscale
# p = 0.2, blur p = 0.5, flip) plus CLSA's strong view: a 96 crop of scale
# (0.086, 0.429) with the same augmentation followed by StrongAugment.
# inputs become [x_1 (N,3,224,224), x_2 (N,3,224,224), x_s (N,3,96,96)].
_base_ = './imagenet_bs32_clsa.py'

simclr_augment = dict(
    type='WeakAugment',
    brightness=0.8,
    contrast=0.8,
    saturation=0.8,
    hue=0.2,
    jitter_prob=0.8,
    grayscale_prob=0.2,
    blur_sigma=(0.1, 2.0),
    blur_prob=0.5,
    flip_prob=0.5)

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadRGBImageFromFile', ignore_corrupt=False),
        dict(
            type='CLSAViews',
            # CLSAViews' "key" and "weak" views are SimCLR's two crops.
            key_view=dict(size=224, scale=(0.08, 1.0)),
            weak_views=[dict(size=224, scale=(0.08, 1.0))],
            strong_views=[dict(size=96, scale=(0.086, 0.429))],
            weak_augment=simclr_augment,
            strong_augment=dict(
                type='StrongAugment',
                n=5,
                magnitude=10,
                prob=0.5,
                preset='released')),
        dict(
            type='PackInputs',
            meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                       'strong_ops')),
    ]))
