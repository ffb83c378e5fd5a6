# SimCLR + CLSA's DDM, ResNet-50, 16 GPUs x 256 images, 200 epochs
# (docs/method_ddm.md): mmpretrain's published SimCLR recipe unchanged
# (two 224 crops with colour jitter 0.8/0.8/0.8/0.2, grayscale and blur;
# SyncBN ResNet-50, 2048-2048-128 MLP, NT-Xent with T = 0.1, LARS lr 4.8 for
# batch 4096, 10 warm-up + 190 cosine epochs) plus CLSA's strong view: a 96
# crop (scale 0.086-0.429) with SimCLR's augmentation and then
# StrongAugment, pulled by DDM (T2 = 0.1, beta = 1) towards each crop's
# distribution over SimCLR's own 2B - 1 column bank.
_base_ = [
    'mmpretrain::simclr/simclr_resnet50_16xb256-coslr-200e_in1k.py',
    '../_base_/clsa_mm_on_mmpretrain.py',
]

default_scope = 'clsa_mm'

strong_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=96,
        crop_ratio_range=(0.086, 0.429),
        backend='pillow'),
    *_base_.view_pipeline[1:],
    dict(type='StrongAugment', n=5, magnitude=10, prob=0.5,
         preset='released'),
]

# inputs become [x_1 (224), x_2 (224), x_s (96)].
train_dataloader = dict(
    # MMEngine passes every key but `type` to the collate function: drop the
    # `_scope_` that inheriting from an mmpretrain:: config adds.
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(
        _base_.unlabeled_images,
        _delete_=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(
                type='MultiView',
                num_views=[2, 1],
                transforms=[_base_.view_pipeline, strong_pipeline]),
            dict(type='PackInputs'),
        ]))

model = dict(
    _scope_='clsa_mm',
    type='SimCLRDDM',
    num_strong_views=1,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.1, loss_weight=1.0))

default_hooks = _base_.clsa_mm_hooks
randomness = dict(seed=0, diff_rank_seed=True)
# --auto-scale-lr scales lr by (actual batch) / 4096.
auto_scale_lr = dict(base_batch_size=4096)
