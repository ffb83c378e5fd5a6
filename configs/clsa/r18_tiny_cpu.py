# CPU-sized CLSA for tests and smoke runs: r50_8xb32_200e.py shrunk to a
# ResNet-18, batch 4, a queue of 64 keys and 2 epochs. Give it an image
# folder with --cfg-options train_dataloader.dataset.data_root=DIR (images
# under DIR/train); the views keep their sizes unless shrunk the same way
# (train_dataloader.dataset.pipeline.1.key_view.size=64 ...).
_base_ = './r50_8xb32_200e.py'

model = dict(
    queue_len=64,
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hid_channels=512))

train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)

param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=2, by_epoch=True, begin=0, end=2)
]
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
