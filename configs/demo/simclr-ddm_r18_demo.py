# SimCLR + DDM row of the demo comparison: simclr_r18_demo.py plus the
# demo's strong view (32 pixels, scale 0.086-0.429, weak then strong
# augmentation) and the DDM term (T2 = 0.1, beta = 1) of
# configs/clsa/simclr-ddm_r50_16xb256-coslr-200e_in1k.py.
_base_ = './simclr_r18_demo.py'

model = dict(
    type='SimCLRDDM',
    num_strong_views=1,
    ddm_head=dict(type='DDMHead', ddm_temperature=0.1, loss_weight=1.0))

train_dataloader = dict(dataset=dict(pipeline=_base_.strong_view_pipeline))
