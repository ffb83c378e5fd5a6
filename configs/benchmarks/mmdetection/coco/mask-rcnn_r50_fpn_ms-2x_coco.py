# The 1x config with the 2x schedule (24 epochs, lr x0.1 after 16 and 22).
_base_ = './mask-rcnn_r50_fpn_ms-1x_coco.py'

train_cfg = dict(max_epochs=24)
warmup, steps = _base_.param_scheduler
param_scheduler = [warmup, dict(steps, end=24, milestones=[16, 22])]
del warmup, steps  # helpers, not settings
