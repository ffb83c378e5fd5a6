# CLSA's strong view on mmpretrain's MoCo v3 recipes: a 96 crop of scale
# (0.086, 0.429) with the augmentation of MoCo v3's view 2 (colour jitter
# 0.4/0.4/0.2/0.1 with p = 0.8, grayscale p = 0.2, blur p = 0.1, solarize
# p = 0.2, flip), then StrongAugment. The MoCo v3-DDM configs put it third
# in their MultiView, after mmpretrain's two crops.
strong_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=96,
        crop_ratio_range=(0.086, 0.429),
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.2,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
    dict(type='RandomFlip', prob=0.5),
    dict(type='StrongAugment', n=5, magnitude=10, prob=0.5,
         preset='released'),
]
