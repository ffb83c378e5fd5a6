# Faster R-CNN R50-C4 on PASCAL VOC, the protocol of MoCo's and the CLSA
# authors' detectron2 transfer: trained on VOC07+12 trainval, tested on VOC07
# test; 24k iterations at batch 16 (8 GPUs x 2), SGD lr 0.02 divided by 10 at
# 18k and 22k, linear warm-up over 100 iterations; shorter side 480-800
# (step 32) for training and 800 for testing. Everything is fine-tuned with
# SyncBN in the backbone and in the res5 RoI head (plus an extra norm after
# res5). The backbone (stem..res4) and the shared head (res5) come from the
# pretrained encoder: run with tools/benchmarks/mmdetection/train_det.sh,
# which replaces <PRETRAIN>. Reports AP (IoU 0.5:0.95), AP50 and AP75 with
# the VOC07 11-point AP, as detectron2's VOC evaluator does.
_base_ = 'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py'

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

# VOCDataset puts the year into its metainfo ('dataset_type'); ignoring it
# gives VOC07+12 one metainfo (the 20 classes) instead of a list of two, as
# in mmdet's _base_/datasets/voc0712.py
train_dataloader = dict(dataset=dict(ignore_keys=['dataset_type']))

max_iter = 24000
train_cfg = dict(max_iters=max_iter)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iter,
        by_epoch=False,
        milestones=[18000, 22000],
        gamma=0.1)
]

# AP over IoU 0.5:0.95 ('pascal_voc/mAP'), AP50 and AP75
val_evaluator = dict(
    iou_thrs=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
test_evaluator = val_evaluator
