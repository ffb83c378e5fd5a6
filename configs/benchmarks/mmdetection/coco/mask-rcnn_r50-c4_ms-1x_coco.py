# Mask R-CNN R50-C4, 1x schedule (12 epochs), multi-scale training, on COCO
# (the paper's protocol: SyncBN, lr 0.02, batch 16 = 8 GPUs x 2). As in MoCo's
# detectron2 recipe, everything is fine-tuned with SyncBN in the backbone and
# in the res5 RoI head, which gets an extra norm after res5. Both come from
# the pretrained encoder f: the backbone holds stem..res4, the shared head
# res5 (layer4). Run with tools/benchmarks/mmdetection/train_det.sh, which
# replaces <PRETRAIN>.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'

# clsa_mm: its checked `Pretrained` init (refuses weights that do not fit)
# also under mmdet's own tools/train.py or `mim train mmdet`.
custom_imports = dict(
    imports=['mmpretrain.models.utils.res_layer_extra_norm', 'clsa_mm'],
    allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    # torchvision-style RGB normalisation, as in pretraining
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>')),
    roi_head=dict(
        shared_head=dict(
            type='ResLayerExtraNorm',
            norm_cfg=norm_cfg,
            norm_eval=False,
            style='pytorch',
            init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>'))))

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
