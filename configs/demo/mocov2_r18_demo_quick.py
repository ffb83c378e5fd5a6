# The MoCo v2 row of the quick demo (tools/run_demo.py --quick):
# mocov2_r18_demo.py shrunk exactly as clsa_r18_demo_quick.py shrinks
# clsa_r18_demo.py; its numbers mean nothing.
_base_ = './mocov2_r18_demo.py'

# Settings of the demo data it trains on (clsa_mm/apis/demo_data.py).
demo_data = dict(
    photos=['brick', 'coins', 'china'],
    train_per_class=8,
    val_per_class=4,
    size=32)

max_epochs = 1
model = dict(queue_len=8)

# Views of 32 pixels (key, weak query); no strong view.
pipeline = _base_.train_dataloader.dataset.pipeline.copy()
views = pipeline[1]
pipeline[1] = dict(
    views,
    key_view=dict(views.key_view, size=32),
    weak_views=[dict(views.weak_views[0], size=32)])
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=pipeline))
del pipeline, views  # helpers, not settings

param_scheduler = [
    dict(_base_.param_scheduler[0], T_max=max_epochs, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
