# The linear probe of the quick demo (tools/run_demo.py --quick):
# r18_linear_demo.py on 32-pixel patches for one epoch.
_base_ = './r18_linear_demo.py'

max_epochs = 1

pipeline = _base_.train_dataloader.dataset.pipeline.copy()
pipeline[1] = dict(pipeline[1], scale=32)
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=pipeline))
del pipeline  # a helper, not a setting

param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
