"""Where ``norm_cfg=dict(type='SplitBN', ...)`` applies, checked on a config.

Split BN (``clsa_mm.models.utils.SplitBatchNorm``) emulates shuffle-BN of
several ranks on one process. That is faithful only in a model whose key
encoder shuffles the key batch across the splits (``batch_shuffle_ddp``) and
whose BN statistics are per rank: CLSA and mmpretrain's MoCo (MoCo v1/v2).
MoCo v3, SimCLR and BYOL (and their DDM variants) use SyncBN, whose
statistics are global, so plain BN on one process is already faithful there.
"""
from mmpretrain.models.backbones import ResNet

from clsa_mm.registry import MODELS

# The models whose key encoder shuffles the key batch before its BN.
KEY_SHUFFLING_MODELS = ('CLSA', 'MoCo', 'MoCoWithProbe')


def _split_bn_paths(node, path):
    if isinstance(node, dict):
        if node.get('type') in ('SplitBN', 'clsa_mm.SplitBN'):
            yield path, node
        for key, value in node.items():
            yield from _split_bn_paths(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _split_bn_paths(value, f'{path}.{i}')


def check_split_bn(cfg):
    """Refuse a config that asks for split BN where it cannot apply.

    Split BN is allowed only as ``model.backbone.norm_cfg`` of a ResNet
    backbone (``ResNet``, ``ResNetV1c``, ``ResNet_CIFAR`` …) of a model in
    :data:`KEY_SHUFFLING_MODELS`, without ``sync_bn``, and with a
    ``train_dataloader.batch_size`` that is a multiple of ``num_splits``.

    Args:
        cfg (mmengine.Config | dict): The config.

    Raises:
        ValueError: naming the key at fault and the fix.
    """
    found = list(_split_bn_paths(cfg.get('model'), 'model'))
    if not found:
        return
    path, norm_cfg = found[0]
    model_type = str(cfg['model'].get('type')).split('.')[-1]
    if model_type not in KEY_SHUFFLING_MODELS:
        raise ValueError(
            f'{path}.type=SplitBN emulates shuffle-BN of several ranks and '
            f'needs a model whose key encoder shuffles the key batch '
            f'({", ".join(KEY_SHUFFLING_MODELS)}); model.type={model_type} '
            'has none (MoCo v3, SimCLR and BYOL use SyncBN, whose statistics '
            "are global: use norm_cfg=dict(type='BN') on one process).")
    for other, _ in found:
        if other != 'model.backbone.norm_cfg':
            raise ValueError(
                f'{other}.type=SplitBN: split BN is supported only as '
                "model.backbone.norm_cfg; use norm_cfg=dict(type='BN') at "
                f'{other}.')
    backbone = cfg['model']['backbone'].get('type')
    backbone_cls = MODELS.get(backbone) if isinstance(backbone,
                                                      str) else backbone
    if not (isinstance(backbone_cls, type)
            and issubclass(backbone_cls, ResNet)):
        raise ValueError(
            f'model.backbone.norm_cfg.type=SplitBN needs a ResNet backbone '
            f'with BatchNorm layers; model.backbone.type={backbone} has '
            "none to split: remove model.backbone.norm_cfg's SplitBN.")
    if cfg.get('sync_bn'):
        raise ValueError(
            f"sync_bn={cfg['sync_bn']!r} would turn the SplitBN of "
            'model.backbone.norm_cfg into SyncBN (global statistics): use '
            'one of the two, not both.')
    splits = norm_cfg.get('num_splits')
    batch = (cfg.get('train_dataloader') or {}).get('batch_size')
    if isinstance(batch, int) and isinstance(splits, int) and batch % splits:
        raise ValueError(
            f'train_dataloader.batch_size={batch} is not a multiple of '
            f'model.backbone.norm_cfg.num_splits={splits}; every split '
            'needs batch_size / num_splits samples.')
