# The COCO 1x config on the tiny COCO-format data set of
# tools/dataset_converters/make_tiny_coco.py, sized for a CPU: small images,
# few proposals and RoIs, one epoch, single-process data loading. For the
# demo and the tests; not a benchmark.
_base_ = '../coco/mask-rcnn_r50_fpn_ms-1x_coco.py'

data_root = 'data/tiny_coco/'

model = dict(
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=200, max_per_img=50),
        rcnn=dict(sampler=dict(num=16))),
    test_cfg=dict(
        rpn=dict(nms_pre=200, max_per_img=20),
        # keep low-score detections of a barely trained model, so that
        # bbox/segm mAP are computed
        rcnn=dict(score_thr=0.0, max_per_img=10)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(160, 96), (160, 112), (160, 128)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    train_dataloader,
    batch_size=2,
    dataset=dict(
        train_dataloader['dataset'],
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
# A fixed seed, so that a test run draws the same proposals every time.
randomness = dict(seed=0)
