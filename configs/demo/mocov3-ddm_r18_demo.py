# MoCo v3 + DDM row of the demo comparison: mocov3_r18_demo.py plus the
# demo's strong view (32 pixels, scale 0.086-0.429, weak then strong
# augmentation) and the DDM term (T2 = 0.2, beta = 1) of
# configs/clsa/mocov3-ddm_r50_8xb512-amp-coslr-100e_in1k.py.
_base_ = './mocov3_r18_demo.py'

model = dict(
    type='MoCoV3DDM',
    num_strong_views=1,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.2, loss_weight=1.0))

train_dataloader = dict(dataset=dict(pipeline=_base_.strong_view_pipeline))
