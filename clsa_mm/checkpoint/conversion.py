"""Checkpoint conversion: backbone exports, authors' files, init options."""
import copy
import os.path as osp
import re
from collections import OrderedDict

import torch
from mmengine.registry import MODELS

from .fit import check_pretrained_config
from .kinds import (BACKBONE, BACKBONE_PREFIX, CLSA_MM, backbone_state_dict,
                    load_checkpoint_of_kind)
from .state_dicts import compare_state_dicts, get_state_dict, is_bn_counter


def backbone_checkpoint(checkpoint, source, layout='mmpretrain'):
    """Export the encoder of a clsa_mm checkpoint.

    Args:
        checkpoint (dict): A ``'clsa_mm'`` checkpoint.
        source (str): Where it came from, recorded in ``meta``.
        layout (str): ``'mmpretrain'`` gives ``dict(state_dict=...,
            meta=...)``, which mmpretrain/mmdet ``Pretrained`` init loads;
            ``'torchvision'`` gives the bare state dict that
            ``torchvision.models.resnet50().load_state_dict`` takes (only
            ``fc.*`` missing).

    Returns:
        dict: The object to save.
    """
    state_dict = backbone_state_dict(checkpoint)
    if layout == 'torchvision':
        return state_dict
    if layout != 'mmpretrain':
        raise ValueError(f'Unknown layout {layout!r}; expected mmpretrain or '
                         'torchvision')
    old_meta = checkpoint.get('meta') or {}
    meta = dict(source=str(source), layout=layout, encoder='backbone')
    for key in ('epoch', 'iter'):
        if isinstance(old_meta.get(key), int):
            meta[key] = old_meta[key]
    return dict(state_dict=state_dict, meta=meta)


def _rename_reference_key(name):
    for src, dst in (('encoder_q.fc.', 'neck.mlp.'),
                     ('encoder_q.', BACKBONE_PREFIX),
                     ('encoder_k.fc.', 'encoder_k.module.1.mlp.'),
                     ('encoder_k.', 'encoder_k.module.0.')):
        if name.startswith(src):
            return dst + name[len(src):]
    if name in ('queue', 'queue_ptr'):
        return name
    return None


def convert_reference_clsa(checkpoint, source):
    """Turn a checkpoint of the authors' CLSA code into a clsa_mm one.

    ``encoder_q`` becomes ``backbone``, its MLP ``fc.0``/``fc.2`` the
    :class:`MoCoV2Neck` ``neck.mlp.0``/``neck.mlp.2``, ``encoder_k`` the
    EMA copy ``encoder_k.module.0`` (backbone) / ``encoder_k.module.1``
    (neck), and ``queue``/``queue_ptr`` keep their names. ``encoder_k.steps``
    is set to 1 so that the EMA keeps the converted key encoder instead of
    copying the query encoder at its first update.

    Args:
        checkpoint (dict): A ``'reference'`` checkpoint.
        source (str): Where it came from, recorded in ``meta``.

    Returns:
        dict: ``dict(state_dict=..., meta=...)``.
    """
    state_dict = OrderedDict()
    unknown = []
    for key, value in get_state_dict(checkpoint).items():
        name = key[len('module.'):] if key.startswith('module.') else key
        new_key = _rename_reference_key(name)
        if new_key is None:
            unknown.append(key)
        else:
            state_dict[new_key] = value
    required = ['neck.mlp.0.weight', 'neck.mlp.2.weight',
                'encoder_k.module.1.mlp.2.weight', 'backbone.conv1.weight',
                'encoder_k.module.0.conv1.weight', 'queue']
    missing = [k for k in required if k not in state_dict]
    if unknown or missing:
        raise ValueError(
            f'{source} does not look like a checkpoint of the authors\' CLSA '
            f'code with an MLP head (--mlp): unexpected keys {unknown[:4]}, '
            f'missing (after renaming) {missing}')
    state_dict['encoder_k.steps'] = torch.tensor(1, dtype=torch.long)
    meta = dict(source=str(source), converted_from='reference CLSA')
    for key in ('epoch', 'arch'):
        if isinstance(checkpoint.get(key), (int, str)):
            meta[key] = checkpoint[key]
    return dict(state_dict=state_dict, meta=meta)


def _pretrained_modules(node, path):
    if isinstance(node, dict):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            yield path
        for key, value in node.items():
            if key != 'init_cfg':
                yield from _pretrained_modules(value, f'{path}.{key}')


def pretrained_cfg_options(cfg, filename):
    """``--cfg-options`` that initialise ``cfg``'s encoder from ``filename``.

    Every module of ``cfg.model`` whose ``init_cfg`` is ``Pretrained`` (the
    backbone; for Mask R-CNN C4 also ``roi_head.shared_head``, which holds
    res5) gets ``checkpoint=<abs path>`` and ``prefix='backbone.'`` for a
    clsa_mm checkpoint or ``prefix=None`` for an exported backbone. The
    model is then built with these options and each of those modules is
    checked against the file (:func:`clsa_mm.checkpoint.fit.check_fit`), so
    that weights that do not fit are refused before anything is launched.

    Args:
        cfg (mmengine.Config): The benchmark config.
        filename (str): A ``'clsa_mm'`` or ``'backbone'`` checkpoint.

    Returns:
        dict: ``{dotted key: value}``.

    Raises:
        ValueError: if ``filename`` is of another kind or does not fit a
            module of the model.
    """
    checkpoint, kind = load_checkpoint_of_kind(filename, (CLSA_MM, BACKBONE))
    del checkpoint
    modules = list(_pretrained_modules(cfg.get('model'), 'model'))
    if not modules:
        raise ValueError(f'{cfg.filename}: no module of the model has '
                         "init_cfg=dict(type='Pretrained', ...) to load "
                         f'{filename} into')
    prefix = BACKBONE_PREFIX if kind == CLSA_MM else None
    options = {}
    for module in modules:
        options[f'{module}.init_cfg.checkpoint'] = osp.abspath(filename)
        options[f'{module}.init_cfg.prefix'] = prefix
    checked = copy.deepcopy(cfg)
    checked.merge_from_dict(options)
    check_pretrained_config(checked)
    return options


def check_resnet50(state_dict, source):
    """Raise a ValueError naming ``source`` unless ``state_dict`` is an R50.

    The expected keys and shapes are those of mmpretrain's ``ResNet``
    (depth 50), which names its tensors as torchvision does; files without
    the BN counters ``num_batches_tracked`` are accepted.

    Args:
        state_dict (dict): Backbone keys (``conv1.weight``, ``layer1.0...``)
            to tensors.
        source (str): The file it came from, for the error.
    """
    expected = MODELS.build(dict(type='mmpretrain.ResNet',
                                 depth=50)).state_dict()
    diff = compare_state_dicts(expected, state_dict, optional=is_bn_counter)
    wrong = [f'{key} {got} (expected {want})'
             for key, got, want in diff.wrong_shape]
    problems = [f'{name} {keys[:3]}{" ..." if len(keys) > 3 else ""}'
                for name, keys in (('missing keys', diff.missing),
                                   ('unexpected keys', diff.unexpected),
                                   ('wrong shapes', wrong)) if keys]
    if problems:
        raise ValueError(
            f'{source} does not hold a ResNet-50 backbone (detectron2 export '
            f'supports ResNet-50 only): {"; ".join(problems)}')


def detectron2_name(key):
    """The detectron2 name of a torchvision/mmpretrain ResNet key.

    The rules of MoCo's ``convert-pretrain-to-detectron2.py``: the stem
    (``conv1``, ``bn1``) goes under ``stem.``, ``layerN`` becomes
    ``res{N+1}``, ``bnK`` becomes ``convK.norm``, ``downsample.0`` becomes
    ``shortcut`` and ``downsample.1`` ``shortcut.norm``.

    Args:
        key (str): e.g. ``'layer1.0.downsample.1.running_mean'``.

    Returns:
        str: e.g. ``'res2.0.shortcut.norm.running_mean'``.
    """
    match = re.fullmatch(r'layer(\d)\.(.*)', key)
    if match:
        key = f'res{int(match.group(1)) + 1}.{match.group(2)}'
    else:
        key = f'stem.{key}'
    key = re.sub(r'(^|\.)bn(\d)\.', r'\1conv\2.norm.', key)
    key = key.replace('downsample.0.', 'shortcut.')
    return key.replace('downsample.1.', 'shortcut.norm.')


def detectron2_checkpoint(checkpoint, source):
    """The encoder of a checkpoint as the pickle detectron2 loads for R50.

    Same names and tensors as MoCo's detectron2 converter gives for the
    encoder (see :func:`detectron2_name`), as numpy arrays, with
    ``matching_heuristics=True``. detectron2 then needs
    ``MODEL.RESNETS.STRIDE_IN_1X1=False`` (stride in the 3x3 conv),
    ``INPUT.FORMAT='RGB'`` and the torchvision RGB ``PIXEL_MEAN/STD``.

    Args:
        checkpoint (dict): A ``'clsa_mm'`` or ``'backbone'`` checkpoint.
        source (str): Where it came from, for errors.

    Returns:
        dict: ``dict(model=..., __author__=..., matching_heuristics=True)``.
    """
    state_dict = backbone_state_dict(checkpoint)
    check_resnet50(state_dict, source)
    model = OrderedDict((detectron2_name(k), v.detach().cpu().numpy())
                        for k, v in state_dict.items())
    return {'model': model, '__author__': 'clsa_mm',
            'matching_heuristics': True}
