"""Reading, checking and converting checkpoints for the benchmarks.

Three kinds of files occur:

- ``'clsa_mm'``: an MMEngine checkpoint of a clsa_mm model (CLSA
  pretraining, or a linear-probe classifier): ``state_dict`` holds
  ``backbone.*`` keys.
- ``'backbone'``: an exported encoder, keys as mmpretrain/mmdet/torchvision
  ResNets name them (``conv1.weight``, ``layer1.0.bn1.running_mean`` ...),
  under ``state_dict`` (our export) or at the top level (torchvision files).
- ``'reference'``: a checkpoint of the authors' CLSA code: ``state_dict``
  with ``module.encoder_q.*``, ``module.encoder_k.*`` and ``module.queue``.

Every file is read with ``torch.load(weights_only=True)``.
"""
import os
import os.path as osp
from collections import OrderedDict

import torch

from clsa_mm.utils import load_local_checkpoint

CLSA_MM = 'clsa_mm'
BACKBONE = 'backbone'
REFERENCE = 'reference'
KIND_DESCRIPTIONS = {
    CLSA_MM: "a clsa_mm checkpoint ('backbone.*' keys in 'state_dict')",
    BACKBONE: 'an exported backbone (ResNet keys such as conv1.weight, '
    'from tools/model_converters/extract_backbone_weights.py)',
    REFERENCE: "a checkpoint of the authors' CLSA code ('module.encoder_q.*', "
    "'module.encoder_k.*' and 'module.queue' keys)",
}
BACKBONE_PREFIX = 'backbone.'


def get_state_dict(checkpoint):
    """The weights of ``checkpoint``: its ``state_dict`` or itself."""
    if not isinstance(checkpoint, dict):
        return {}
    state_dict = checkpoint.get('state_dict', checkpoint)
    return state_dict if isinstance(state_dict, dict) else {}


def checkpoint_kind(checkpoint):
    """``'clsa_mm'``, ``'backbone'``, ``'reference'`` or None (see above)."""
    keys = [k for k in get_state_dict(checkpoint) if isinstance(k, str)]
    if any(k.startswith(BACKBONE_PREFIX) for k in keys):
        return CLSA_MM
    names = {k[len('module.'):] if k.startswith('module.') else k
             for k in keys}
    if any(k.startswith('encoder_q.') for k in names):
        return REFERENCE
    if 'conv1.weight' in keys and any(k.startswith('layer1.') for k in keys):
        return BACKBONE
    return None


def describe_keys(checkpoint, num=4):
    """A short description of the keys of ``checkpoint`` for errors."""
    if not isinstance(checkpoint, dict):
        return f'a {type(checkpoint).__name__}, not a dict'
    keys = list(get_state_dict(checkpoint))
    if not keys:
        return f'no weights (top-level keys: {list(checkpoint)[:num]})'
    more = f' ... ({len(keys)} keys)' if len(keys) > num else ''
    return 'keys ' + ', '.join(map(str, keys[:num])) + more


def load_checkpoint_of_kind(filename, kinds):
    """Load ``filename`` and check that it is one of ``kinds``.

    Args:
        filename (str): The checkpoint file.
        kinds (Sequence[str]): Accepted kinds (``'clsa_mm'``, ``'backbone'``,
            ``'reference'``).

    Returns:
        tuple[dict, str]: The checkpoint and its kind.

    Raises:
        ValueError: naming the file, what was expected and what was found.
    """
    checkpoint = load_local_checkpoint(filename, map_location='cpu')
    kind = checkpoint_kind(checkpoint)
    if kind in kinds:
        return checkpoint, kind
    expected = ' or '.join(KIND_DESCRIPTIONS[k] for k in kinds)
    found = KIND_DESCRIPTIONS[kind] if kind else describe_keys(checkpoint)
    hint = ''
    if kind == REFERENCE:
        hint = (' Convert it first with '
                'tools/model_converters/convert_reference_clsa.py.')
    raise ValueError(f'{filename} is not {expected}; it is {found}.{hint}')


def backbone_state_dict(checkpoint):
    """The encoder weights of a ``'clsa_mm'`` or ``'backbone'`` checkpoint.

    Keys come without the ``backbone.`` prefix; a torchvision classifier
    (``fc.*``) is left out.

    Args:
        checkpoint (dict): A loaded checkpoint.

    Returns:
        OrderedDict: ResNet keys to tensors.
    """
    state_dict = get_state_dict(checkpoint)
    kind = checkpoint_kind(checkpoint)
    if kind == CLSA_MM:
        n = len(BACKBONE_PREFIX)
        return OrderedDict((k[n:], v) for k, v in state_dict.items()
                           if k.startswith(BACKBONE_PREFIX))
    if kind == BACKBONE:
        return OrderedDict((k, v) for k, v in state_dict.items()
                           if not k.startswith('fc.'))
    raise ValueError(f'Not a checkpoint with a backbone: '
                     f'{describe_keys(checkpoint)}')


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


def save_checkpoint(obj, filename, force=False):
    """``torch.save`` to ``filename``, refusing to replace a file.

    The file is written under a temporary name and renamed, so an
    interrupted run leaves no truncated output.

    Args:
        obj: What to save.
        filename (str): The output file.
        force (bool): Replace an existing ``filename``. Defaults to False.
    """
    if osp.exists(filename) and not force:
        raise FileExistsError(
            f'{filename} exists; pass --force to overwrite it')
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(filename)}.part')
    torch.save(obj, tmp)
    os.replace(tmp, filename)


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
    clsa_mm checkpoint or ``prefix=None`` for an exported backbone.

    Args:
        cfg (mmengine.Config): The benchmark config.
        filename (str): A ``'clsa_mm'`` or ``'backbone'`` checkpoint.

    Returns:
        dict: ``{dotted key: value}``.
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
    return options
