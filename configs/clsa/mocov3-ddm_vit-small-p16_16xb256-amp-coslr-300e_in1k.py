# CLSA on MoCo v3, ViT-S/16 (docs/method_ddm.md): mmpretrain's published
# MoCo v3 ViT-small recipe unchanged (two 224 crops, scale 0.08-1, with
# asymmetric blur/solarize; frozen patch projection; 3-layer projector and
# 2-layer predictor of 4096 hidden units; T = 0.2; AdamW lr 2.4e-3, wd 0.1,
# batch 4096 = 16 x 256, AMP, 40 warm-up + 260 cosine epochs; CosineEMA
# momentum 0.01 -> 0) plus CLSA's strong view: a 96 crop (6 x 6 patches,
# the fixed sin-cos position embedding interpolated) with view 2's
# augmentation and then StrongAugment, pulled by DDM (T2 = 0.2, beta = 1)
# towards each crop's distribution over the other crop's momentum keys.
_base_ = [
    'mmpretrain::mocov3/mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py',
    '../_base_/datasets/mocov3-ddm_strong_view.py',
    '../_base_/clsa_mm_on_mmpretrain.py',
]

default_scope = 'clsa_mm'

# inputs become [x_1 (224), x_2 (224), x_s (96)]: only the views the loss
# uses.
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
                    {{_base_.view_pipeline1}},
                    {{_base_.view_pipeline2}},
                    {{_base_.strong_pipeline}},
                ]),
            dict(type='PackInputs'),
        ]))

model = dict(
    _scope_='clsa_mm',
    type='MoCoV3DDM',
    num_strong_views=1,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.2, loss_weight=1.0))

# The momentum encoder's momentum in the logs (MomentumQueueHook).
custom_hooks = [dict(_scope_='clsa_mm', type='MomentumQueueHook')]
default_hooks = _base_.clsa_mm_hooks
randomness = dict(seed=0, diff_rank_seed=True)
