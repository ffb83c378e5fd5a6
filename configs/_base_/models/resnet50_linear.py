# Linear probe of a pretrained ResNet-50 encoder: mmpretrain's ResNet-50
# classifier with the whole backbone frozen (weights and BN statistics); one
# FC layer is trained on its global-average-pooled last stage.
_base_ = 'mmpretrain::_base_/models/resnet50.py'

model = dict(
    backbone=dict(
        frozen_stages=4,
        norm_eval=True,
        # tools/benchmarks/linear_eval.sh replaces <PRETRAIN> by its PRETRAIN
        # and sets prefix='backbone.' for a clsa_mm checkpoint (None for a
        # backbone exported by tools/model_converters/
        # extract_backbone_weights.py).
        init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>',
                      prefix=None)))
