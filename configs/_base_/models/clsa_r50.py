# CLSA: MoCo v2's model (mocov2_r50.py) with one weak query and one strong
# view per image, and the DDM loss (T2 = 0.2, beta = 1) beside the
# contrastive one (T = 0.2).
_base_ = './mocov2_r50.py'

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
