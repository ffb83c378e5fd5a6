# BYOL-DDM pretraining data: mmpretrain's two asymmetric BYOL views (224
# crops of scale (0.08, 1), bicubic; flip; colour jitter 0.4/0.4/0.2/0.1
# with p = 0.8; grayscale p = 0.2; blur p = 1.0 / 0.1; solarize p = 0 / 0.2)
# plus CLSA's strong view: a 96 crop of scale (0.086, 0.429) with view 1's
# augmentation followed by StrongAugment. Each view is an independent crop
# of one decoded RGB image.
# inputs become [x_1 (N,3,224,224), x_2 (N,3,224,224), x_s (N,3,96,96)].
_base_ = './imagenet_bs32_clsa.py'

byol_augment = dict(
    type='WeakAugment',
    brightness=0.4,
    contrast=0.4,
    saturation=0.2,
    hue=0.1,
    jitter_prob=0.8,
    grayscale_prob=0.2,
    blur_sigma=(0.1, 2.0),
    blur_prob=1.0,
    flip_prob=0.5)
byol_crop = dict(
    type='RandomResizedCrop',
    scale=224,
    crop_ratio_range=(0.08, 1.0),
    interpolation='bicubic',
    backend='pillow')

view_pipeline1 = [byol_crop, byol_augment]
view_pipeline2 = [
    byol_crop,
    dict(byol_augment, blur_prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
strong_pipeline = [
    dict(byol_crop, scale=96, crop_ratio_range=(0.086, 0.429)),
    byol_augment,
    dict(type='StrongAugment', n=5, magnitude=10, prob=0.5,
         preset='released'),
]

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadRGBImageFromFile', ignore_corrupt=False),
        dict(
            type='MultiView',
            num_views=[1, 1, 1],
            transforms=[view_pipeline1, view_pipeline2, strong_pipeline]),
        dict(type='PackInputs'),
    ]))
