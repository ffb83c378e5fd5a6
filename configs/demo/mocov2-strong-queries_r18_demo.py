# Naive row of the demo comparison (docs/demo.md, "Recipes of the
# comparison"): clsa_r18_demo.py with the DDM term replaced by the strong
# view as an extra MoCo v2 query. Its positive is its own sample's key, its
# negatives the other keys of the batch and the queue, at T = 0.2, as for
# the weak query; loss = L_C + beta * (mean over the strong views of their
# InfoNCE), beta = 1. Everything else is CLSA's demo recipe.
_base_ = './clsa_r18_demo.py'

model = dict(
    head=dict(
        _delete_=True,
        type='StrongContrastiveHead',
        temperature=_base_.model.head.temperature,
        loss_weight=1.0))
