# ImageNet linear probe of a ViT-S/16 pretrained with MoCo v3 or CLSA on
# MoCo v3 (configs/clsa/mocov3-ddm_vit-small-p16_*.py): mmpretrain's MoCo v3
# protocol unchanged (all 12 blocks frozen, BN/LN in eval mode, a linear
# head on the class token, SGD lr 12, momentum 0.9, no weight decay, batch
# 1024 = 8 x 128, cosine, 90 epochs). Run with
# tools/benchmarks/linear_eval.sh, which replaces <PRETRAIN> by its PRETRAIN
# and sets the prefix ('backbone.' for a clsa_mm checkpoint, None for a
# backbone exported by tools/model_converters/extract_backbone_weights.py).
_base_ = 'mmpretrain::mocov3/benchmarks/vit-small-p16_8xb128-linear-coslr-90e_in1k.py'  # noqa: E501

# mmpretrain's scope, as its base; clsa_mm's checked `Pretrained` init
# (refuses weights that do not fit) also under mmpretrain's own tools.
custom_imports = dict(imports=['clsa_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>',
                      prefix=None)))
