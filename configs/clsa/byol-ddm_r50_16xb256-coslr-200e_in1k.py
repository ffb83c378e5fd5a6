# BYOL + CLSA's DDM, ResNet-50, 16 GPUs x 256 images, 200 epochs
# (docs/method_ddm.md): mmpretrain's published BYOL recipe unchanged (two
# asymmetric 224 crops; SyncBN ResNet-50, 2048-4096-256 projector and
# 256-4096-256 predictor, target network EMA with cosine momentum from 0.01,
# LARS lr 4.8 for batch 4096, 10 warm-up + 190 cosine epochs) plus CLSA's
# strong view: a 96 crop (scale 0.086-0.429) with view 1's augmentation and
# then StrongAugment, through the predictor, pulled by DDM (T2 = 0.2,
# beta = 1) over the other crop's gathered target projections and a
# DDM-only queue of 65536 past target projections.
_base_ = [
    'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
    '../_base_/clsa_mm_on_mmpretrain.py',
]

default_scope = 'clsa_mm'

strong_pipeline = [
    dict(_base_.view_pipeline1[0], scale=96, crop_ratio_range=(0.086, 0.429)),
    *_base_.view_pipeline1[1:],
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
                num_views=[1, 1, 1],
                transforms=[
                    _base_.view_pipeline1, _base_.view_pipeline2,
                    strong_pipeline
                ]),
            dict(type='PackInputs'),
        ]))

model = dict(
    _scope_='clsa_mm',
    type='BYOLDDM',
    num_strong_views=1,
    # Each step enqueues both crops' targets: a multiple of 2 x 4096.
    queue_len=65536,
    feat_dim=256,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.2, loss_weight=1.0))

# The target network's momentum and the queue pointer in the logs; the queue
# length checked against the batch before the first iteration.
custom_hooks = [dict(_scope_='clsa_mm', type='MomentumQueueHook')]
default_hooks = _base_.clsa_mm_hooks
randomness = dict(seed=0, diff_rank_seed=True)
