# Linear probe of a pretrained ResNet-50 encoder (CLSA_SPEC §5): the whole
# backbone is frozen (weights and BN statistics), one FC layer is trained on
# its global-average-pooled last stage.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        frozen_stages=4,
        norm_eval=True,
        # tools/benchmarks/linear_eval.sh replaces <PRETRAIN> by its PRETRAIN
        # and sets prefix='backbone.' for a clsa_mm checkpoint (None for a
        # backbone exported by tools/model_converters/
        # extract_backbone_weights.py).
        init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>',
                      prefix=None)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))
