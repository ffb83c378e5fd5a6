# CLSA pretraining data, single-crop (the paper's setting): per image the
# key (224), one weak query (224) and one strong view (96), each an
# independent crop of one decoded image. Images are RGB uint8 tensors: the
# model's data_preprocessor normalises with ImageNet RGB mean/std and
# to_rgb=False.
data_root = 'data/imagenet/'

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    # Every step must enqueue a whole global batch (queue_len % B == 0).
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # inputs become [key (N,3,224,224), weak (N,3,224,224), strong (N,3,96,96)]
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='UnlabeledImageDataset',
        data_root=data_root,
        data_prefix='train',
        # ann_file='meta/train.txt',  # a list file instead of a folder scan
        pipeline=[
            dict(type='LoadRGBImageFromFile', ignore_corrupt=False),
            dict(
                type='CLSAViews',
                key_view=dict(size=224, scale=(0.2, 1.0)),
                weak_views=[dict(size=224, scale=(0.2, 1.0))],
                strong_views=[dict(size=96, scale=(0.086, 0.429))],
                weak_augment=dict(
                    type='WeakAugment',
                    brightness=0.4,
                    contrast=0.4,
                    saturation=0.4,
                    hue=0.1,
                    jitter_prob=0.8,
                    grayscale_prob=0.2,
                    blur_sigma=(0.1, 2.0),
                    blur_prob=0.5,
                    flip_prob=0.5),
                strong_augment=dict(
                    type='StrongAugment',
                    n=5,
                    magnitude=10,
                    prob=0.5,
                    preset='released')),
            dict(
                type='PackInputs',
                meta_keys=('sample_idx', 'img_path', 'ori_shape',
                           'img_shape', 'strong_ops')),
        ]),
)
