# BYOL + DDM row of the demo comparison: byol_r18_demo.py plus the demo's
# strong view (32 pixels, scale 0.086-0.429, weak then strong augmentation)
# and the DDM term (T2 = 0.2, beta = 1) of
# configs/clsa/byol-ddm_r50_16xb256-coslr-200e_in1k.py. Its DDM-only queue
# holds 256 past target projections, as the demo's MoCo v2 queue; each step
# enqueues both crops' targets, so queue_len must be a multiple of
# 2 x batch.
_base_ = './byol_r18_demo.py'

model = dict(
    type='BYOLDDM',
    num_strong_views=1,
    queue_len=256,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.2, loss_weight=1.0))

train_dataloader = dict(dataset=dict(pipeline=_base_.strong_view_pipeline))
