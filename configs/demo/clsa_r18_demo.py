# CLSA row of the demo comparison (tools/run_demo.py, `make demo`): the
# MoCo v2 row (mocov2_r18_demo.py: data, ResNet-18, queue, schedule) with
# CLSA's model of configs/clsa/r50_8xb32_200e.py (DDM with T2 = 0.2,
# beta = 1) and a strong view of 32 pixels.
_base_ = './mocov2_r18_demo.py'

model = dict(
    type='CLSA',
    num_weak_views=1,
    num_strong_views=1,
    head=dict(
        _delete_=True,
        type='DDMHead',
        temperature=0.2,
        ddm_temperature=0.2,
        loss_weight=1.0))

train_dataloader = dict(dataset=dict(pipeline=_base_.strong_view_pipeline))
