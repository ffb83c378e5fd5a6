# Mask R-CNN R50-FPN, 1x schedule (12 epochs), multi-scale training, on COCO
# (the paper's protocol: SyncBN, lr 0.02, batch 16 = 8 GPUs x 2). As in MoCo's
# detectron2 recipe, everything is fine-tuned with SyncBN in the backbone,
# the FPN and the heads (4conv1fc box head). The backbone comes from the
# pretrained encoder f. Run with tools/benchmarks/mmdetection/train_det.sh,
# which replaces <PRETRAIN>.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

# clsa_mm's checked `Pretrained` init (refuses weights that do not fit) also
# under mmdet's own tools/train.py or `mim train mmdet`, which run this config
# in the mmdet scope without importing clsa_mm.
custom_imports = dict(imports=['clsa_mm'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>')),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736),
                (1333, 768), (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
