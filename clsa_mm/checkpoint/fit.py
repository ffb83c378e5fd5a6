"""Do the weights of a file fit the module a ``Pretrained`` init loads them
into?

MMEngine's ``Pretrained`` initializer loads with ``strict=False``: a tensor
missing from the file, or of another shape, is only logged as a warning and
keeps its random initialisation, so a ResNet-18 file "initialises" a
ResNet-50 and the run goes on. :func:`check_fit` compares every tensor of
the module with the file (under the init's ``prefix``, as MMEngine reads it)
and raises an error that names the file, the module, the first offending keys
with both shapes, and what the file holds (:func:`describe_weights`). Keys of
the file that the module does not take (a projector, the ``layer4`` that a C4
head takes instead of the backbone) are fine.
"""
import re
from collections import OrderedDict

import torch
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner.checkpoint import CheckpointLoader

from .loading import load_local_checkpoint
from .state_dicts import compare_state_dicts, get_state_dict, is_bn_counter

PLACEHOLDER = '<PRETRAIN>'
MAX_LISTED = 4
# Tensors a module adds on top of the pretrained encoder, by module class:
# the norm after res5 in the Mask R-CNN C4 head of MoCo's detection recipe.
NEW_TENSORS = {'ResLayerExtraNorm': ('norm.', )}
_RESNETS = {
    (False, (2, 2, 2, 2)): 18,
    (False, (3, 4, 6, 3)): 34,
    (True, (3, 4, 6, 3)): 50,
    (True, (3, 4, 23, 3)): 101,
    (True, (3, 8, 36, 3)): 152,
}
_VIT_SIZES = {192: 'Ti', 384: 'S', 768: 'B', 1024: 'L', 1280: 'H'}
_VIT_DEPTHS = {192: 12, 384: 12, 768: 12, 1024: 24, 1280: 32}


def weights_for_module(checkpoint, prefix=None):
    """What ``Pretrained(prefix=prefix)`` offers its module, as MMEngine
    reads it: without a prefix every tensor with ``module.`` stripped, with
    one only the keys under ``prefix``, stripped of it.

    Args:
        checkpoint (dict): A loaded file.
        prefix (str, optional): The init's ``prefix``.

    Returns:
        OrderedDict: Keys as the module names them, to tensors.
    """
    weights = get_state_dict(checkpoint)
    if prefix is None:
        return OrderedDict(
            (re.sub(r'^module\.', '', k), v) for k, v in weights.items())
    if not prefix.endswith('.'):
        prefix += '.'
    return OrderedDict((k[len(prefix):], v) for k, v in weights.items()
                       if k.startswith(prefix))


def _resnet_name(weights, root):
    stages = {}
    for key in weights:
        match = re.match(re.escape(root) + r'layer([1-4])\.(\d+)\.', key)
        if match:
            stage, block = int(match.group(1)), int(match.group(2))
            stages[stage] = max(stages.get(stage, 0), block + 1)
    bottleneck = any(f'{root}layer{s}.0.conv3.weight' in weights
                     for s in stages)
    depths = [
        depth for (neck, blocks), depth in _RESNETS.items()
        if neck == bottleneck and all(blocks[s - 1] == n
                                      for s, n in stages.items())
    ]
    if depths:
        name = 'ResNet-' + '/'.join(map(str, depths))
    else:
        blocks = ', '.join(str(stages[s]) for s in sorted(stages))
        kind = 'bottleneck' if bottleneck else 'basic'
        name = f'ResNet with {kind} blocks ({blocks})'
    has_stem = f'{root}conv1.weight' in weights
    if has_stem and sorted(stages) == [1, 2, 3, 4]:
        return f'a {name} backbone'
    first, last = min(stages, default=0), max(stages, default=0)
    layers = f'layer{first}' if first == last else f'layer{first}-{last}'
    parts = (['the stem'] if has_stem else []) + ([layers] if stages else [])
    return f'{" and ".join(parts)} of a {name}'


def _vit_name(weights, root, proj):
    dims = weights[f'{root}patch_embed.{proj}.weight'].shape
    layers = {
        int(m.group(2))
        for m in (re.match(re.escape(root) + r'(layers|blocks)\.(\d+)\.', k)
                  for k in weights) if m
    }
    depth = max(layers) + 1 if layers else 0
    size = _VIT_SIZES.get(dims[0], f'{dims[0]}d')
    name = f'a ViT-{size}/{dims[-1]} backbone'
    if depth != _VIT_DEPTHS.get(dims[0]):
        name += f' with {depth} layers'
    return name


def _architectures(weights):
    """``{root: name}`` of the ResNets and ViTs whose keys ``weights`` has."""
    found = OrderedDict()
    for key in weights:
        match = re.match(r'(.*?)patch_embed\.(projection|proj)\.weight$', key)
        if match and match.group(1) not in found:
            found[match.group(1)] = _vit_name(weights, match.group(1),
                                              match.group(2))
            continue
        match = re.match(r'(.*?)(conv1\.weight$|layer[1-4]\.\d+\.)', key)
        root = match.group(1) if match else None
        if match and root not in found and not any(
                root.startswith(r) for r in found if r):
            found[root] = _resnet_name(weights, root)
    return found


def describe_weights(checkpoint, layout=True):
    """What a file (or a module's state dict) holds, for errors and logs.

    E.g. ``'a ResNet-18 backbone (120 tensors)'``, ``"a ResNet-50 backbone
    under 'backbone.', also a ResNet-50 backbone under 'encoder_k.module.0.'
    (647 tensors)"``, ``'a ViT-S/16 backbone (...)'``.

    Args:
        checkpoint (dict): A loaded file or a state dict.
        layout (bool): Whether to say that a file is a bare state dict
            (torchvision layout). Defaults to True.

    Returns:
        str: The description.
    """
    weights = get_state_dict(checkpoint)
    if not weights:
        return 'no tensors'
    count = f'{len(weights)} tensors'
    found = _architectures(weights)
    if not found:
        keys = ', '.join(list(weights)[:MAX_LISTED])
        return f'{count} of no ResNet or ViT (keys {keys} ...)'
    (root, name), *others = found.items()
    text = name
    if root:
        text += f' under {root!r}'
    for other_root, other_name in others:
        text += f', also {other_name} under {other_root!r}'
    if layout and 'state_dict' not in checkpoint:
        text += ', as a bare state dict (torchvision layout)'
    if f'{root}fc.weight' in weights:
        text += (f' with a {weights[root + "fc.weight"].shape[0]}-class fc '
                 'classifier')
    return f'{text} ({count})'


def _new_keys(module, keys):
    prefixes = NEW_TENSORS.get(type(module).__name__, ())
    return [k for k in keys if k.startswith(prefixes)] if prefixes else []


def _resizable(module, key, loaded, wanted):
    # mmpretrain ViTs interpolate pos_embed to their image size on loading.
    return (key == 'pos_embed' and hasattr(module, '_prepare_pos_embed')
            and loaded.ndim == wanted.ndim
            and loaded.shape[-1] == wanted.shape[-1])


def _problems(module, weights):
    """``(wrong shapes, missing)``: the module's offending keys, described."""
    new = set(_new_keys(module, module.state_dict()))
    expected = OrderedDict((k, v) for k, v in module.state_dict().items()
                           if k not in new)
    # MMEngine also ignores BN counters (old torchvision files).
    diff = compare_state_dicts(expected, weights, optional=is_bn_counter)
    wrong = [
        f'{key}: file {got} vs model {want}'
        for key, got, want in diff.wrong_shape
        if not _resizable(module, key, weights[key], expected[key])
    ]
    missing = [f'{key}: model {tuple(expected[key].shape)}, not in the file'
               for key in diff.missing]
    return wrong, missing


def _prefix_hint(module, checkpoint, prefix):
    roots = [None, *(r or None for r in _architectures(
        get_state_dict(checkpoint)))]
    for root in dict.fromkeys(roots):
        if root != prefix and not any(_problems(
                module, weights_for_module(checkpoint, root))):
            where = 'at the top level' if root is None else f'under {root!r}'
            return (f' The tensors it needs are in the file {where}: set '
                    f'init_cfg.prefix={root!r} (the benchmark tools set it '
                    'for you).')
    return ''


def check_fit(module, checkpoint, prefix, source, name=None, config=None):
    """Refuse a ``Pretrained`` init whose file does not fit ``module``.

    Args:
        module (torch.nn.Module): The module the init loads into.
        checkpoint (dict): The loaded file.
        prefix (str, optional): The init's ``prefix``.
        source (str): The file name, for the error.
        name (str, optional): The module's name (``'model.backbone'``).
            Defaults to its class name.
        config (str, optional): The config, for the error.

    Returns:
        OrderedDict: What the module takes from the file (its keys).

    Raises:
        ValueError: naming the file, the config, the module, the first
            offending keys with both shapes and what the file holds.
    """
    weights = weights_for_module(checkpoint, prefix)
    wrong, missing = _problems(module, weights)
    problems = wrong + missing
    if not problems:
        expected = module.state_dict()
        return OrderedDict((k, v) for k, v in weights.items()
                           if k in expected)
    where = name or type(module).__name__
    if name:
        where += f' ({type(module).__name__})'
    if config:
        where += f' of {config}'
    under = f' under prefix {prefix!r}' if prefix else ''
    more = (f' and {len(problems) - MAX_LISTED} more'
            if len(problems) > MAX_LISTED else '')
    raise ValueError(
        f'{source} does not fit {where} ({len(module.state_dict())} '
        f'tensors): {len(wrong)} with another shape in the file{under}, '
        f'{len(missing)} missing from it: '
        f'{"; ".join(problems[:MAX_LISTED])}{more}. The file holds '
        f'{describe_weights(checkpoint)}; the module is '
        f'{describe_weights(module.state_dict(), layout=False)}.'
        f'{_prefix_hint(module, checkpoint, prefix)} Refusing to train from '
        'a partly random initialisation.')


def _holds(module, key, value, weight):
    if value.shape != weight.shape:
        return _resizable(module, key, weight, value)
    return torch.equal(value.detach().cpu(),
                       weight.detach().cpu().to(value.dtype))


def fit_summary(module, source, weights, name=None):
    """The one log line after loading: what the module now holds.

    Counts the module's tensors that equal the file's (so a load that
    applied nothing says so), e.g. ``'r18.pth: 120 tensors into ResNet (all
    of its 120), 0 missing'``.

    Args:
        module (torch.nn.Module): The module loaded into.
        source (str): The file name.
        weights (dict): What the module was given (see :func:`check_fit`).
        name (str, optional): The module's name. Defaults to its class name.

    Returns:
        str: The line.
    """
    state = module.state_dict()
    new = _new_keys(module, state)
    loaded = [
        k for k, w in weights.items()
        if k in state and _holds(module, k, state[k], w)
    ]
    missing = len(state) - len(new) - len(loaded)
    total = len(state)
    of = (f'all of its {total}'
          if len(loaded) == total else f'{len(loaded)} of its {total}')
    if new:
        of += f'; {len(new)} new: {", ".join(new)}'
    return (f'{source}: {len(loaded)} tensors into '
            f'{name or type(module).__name__} ({of}), {missing} missing')


def pretrained_init_cfgs(module):
    """The ``Pretrained`` entries of ``module.init_cfg`` (dict or list)."""
    init_cfg = getattr(module, 'init_cfg', None)
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    return [
        cfg for cfg in cfgs if isinstance(cfg, dict)
        and cfg.get('type') in ('Pretrained', PretrainedInit)
    ]


def load_pretrained_file(filename, map_location='cpu'):
    """Read the file of a ``Pretrained`` init (local files: weights_only).

    Args:
        filename (str): ``init_cfg.checkpoint``.
        map_location (str): Same as :func:`torch.load`.

    Returns:
        dict: The loaded file.
    """
    if filename == PLACEHOLDER:
        raise ValueError(
            f"init_cfg.checkpoint is still the placeholder '{PLACEHOLDER}': "
            'run the config through tools/benchmarks/linear_eval.sh or '
            'tools/benchmarks/mmdetection/train_det.sh, or pass '
            '--cfg-options model.backbone.init_cfg.checkpoint=FILE')
    if '://' in filename:  # torchvision://, http:// ...
        return CheckpointLoader.load_checkpoint(filename, map_location)
    return load_local_checkpoint(filename, map_location)


def check_pretrained_model(model, config=None):
    """:func:`check_fit` for every module of ``model`` with a ``Pretrained``
    init (the backbone; for C4 also the res5 head; ...).

    Args:
        model (torch.nn.Module): A built, not yet initialised model.
        config (str, optional): The config, for the errors.

    Returns:
        list[tuple[str, str]]: ``(module name, file)`` of each checked init.
    """
    files, checked = {}, []
    for name, module in model.named_modules():
        for init_cfg in pretrained_init_cfgs(module):
            filename = init_cfg.get('checkpoint')
            if filename not in files:
                files[filename] = load_pretrained_file(
                    filename, init_cfg.get('map_location', 'cpu'))
            full_name = f'model.{name}' if name else 'model'
            check_fit(module, files[filename], init_cfg.get('prefix'),
                      filename, name=full_name, config=config)
            checked.append((full_name, filename))
    return checked


def check_pretrained_config(cfg):
    """Build ``cfg.model`` (in the config's scope) and check its
    ``Pretrained`` inits with :func:`check_pretrained_model`.

    Args:
        cfg (mmengine.Config): A config whose inits name their files.

    Returns:
        list[tuple[str, str]]: ``(module name, file)`` of each checked init.
    """
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'clsa_mm')):
        model = MODELS.build(cfg.model)
    return check_pretrained_model(model, config=cfg.filename)
