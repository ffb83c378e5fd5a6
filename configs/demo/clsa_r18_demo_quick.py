# The quick demo (tools/run_demo.py --quick): clsa_r18_demo.py shrunk to a
# smoke run of about a minute; its numbers mean nothing. tools/run_demo.py
# points it at WORK_DIR/quick_seed_<SEED>/data.
_base_ = './clsa_r18_demo.py'

# Settings of the demo data it trains on (clsa_mm/apis/demo_data.py).
demo_data = dict(
    photos=['brick', 'coins', 'china'],
    train_per_class=8,
    val_per_class=4,
    size=32)

max_epochs = 1
model = dict(queue_len=8)

# Views of 32 (key, weak query) and 16 (strong view) pixels.
pipeline = _base_.train_dataloader.dataset.pipeline.copy()
views = pipeline[1]
pipeline[1] = dict(
    views,
    key_view=dict(views.key_view, size=32),
    weak_views=[dict(views.weak_views[0], size=32)],
    strong_views=[dict(views.strong_views[0], size=16)])
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
