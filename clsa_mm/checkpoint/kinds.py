"""The kinds of checkpoint files clsa_mm reads, and their backbone weights.

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
from collections import OrderedDict

from .loading import load_local_checkpoint
from .state_dicts import get_state_dict

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


def checkpoint_kind(checkpoint):
    """``'clsa_mm'``, ``'backbone'``, ``'reference'`` or None (see above)."""
    keys = list(get_state_dict(checkpoint))
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


def check_trained(checkpoint, filename):
    """Refuse a checkpoint whose ``meta`` says it ran 0 training iterations.

    MMEngine records ``meta['iter']`` (and ``meta['epoch']``) in every
    checkpoint it saves, and exports keep them: a run whose loader yielded
    no batch still saves "epoch 800" checkpoints of untrained weights. Files
    without ``meta['iter']`` (exports of other tools, converted authors'
    weights) pass.

    Args:
        checkpoint (dict): The loaded file.
        filename (str): Its name, for the error.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or meta.get('iter') is None:
        return
    if int(meta['iter']) == 0:
        epoch = meta.get('epoch')
        after = f' after {epoch} epoch(s)' if epoch is not None else ''
        raise ValueError(
            f'{filename} was saved{after} with 0 training iterations '
            "(meta['iter'] = 0): its weights never trained. Pretrain with a "
            'data set of at least one global batch (the training log says '
            'why no iteration ran) and use that checkpoint.')


def load_checkpoint_of_kind(filename, kinds):
    """Load ``filename`` and check that it is one of ``kinds``.

    Args:
        filename (str): The checkpoint file.
        kinds (Sequence[str]): Accepted kinds (``'clsa_mm'``, ``'backbone'``,
            ``'reference'``).

    Returns:
        tuple[dict, str]: The checkpoint and its kind.

    Raises:
        ValueError: naming the file, what was expected and what was found,
            or naming a file that ran no training iteration
            (:func:`check_trained`).
    """
    checkpoint = load_local_checkpoint(filename, map_location='cpu')
    kind = checkpoint_kind(checkpoint)
    if kind in kinds:
        check_trained(checkpoint, filename)
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
