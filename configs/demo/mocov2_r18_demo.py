# MoCo v2 row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"): clsa_r18_demo.py without the strong view and the DDM term.
# Same data, batch, epochs, seed, SGD lr 0.03 and cosine schedule, queue of
# 256, EMA momentum 0.01 (decay 0.99), T = 0.2, ResNet-18 + 512 -> 512 -> 128
# projector, the same 64-pixel weak crops and augmentation.
#
# The algorithm is mmpretrain's own `MoCo` (its `momentum` is 1 - decay, as
# ours). Two things differ from CLSA's contrastive term, both by design:
# - MoCo's logits are [q·k, q·Q] (one positive column + the queue); CLSA's
#   reference scores q against [Kall; Q], so the other B - 1 keys of the
#   batch are extra negatives there.
# - MoCo takes the views as [query, key]; CLSAViews yields [key, weak query].
#   Both views have the same size, scale and augmentation, so the two orders
#   draw the same distribution.
# MomentumQueueHook logs the key encoder's momentum; MoCo's enqueue asserts
# queue_len % batch == 0 itself (drop_last=True keeps the batches whole).
_base_ = './clsa_r18_demo.py'

model = dict(
    _delete_=True,
    type='MoCo',
    queue_len=_base_.model.queue_len,
    feat_dim=_base_.model.feat_dim,
    momentum=_base_.model.momentum,
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=_base_.model.head.temperature))

pipeline = _base_.train_dataloader.dataset.pipeline.copy()
pipeline[1] = dict(pipeline[1], strong_views=[])
train_dataloader = dict(dataset=dict(pipeline=pipeline))
del pipeline  # a helper, not a setting
