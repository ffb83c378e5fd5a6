"""The tensors of a checkpoint, and how they compare with a model's."""
from collections import OrderedDict, namedtuple

# What compare_state_dicts finds: keys the file lacks, keys the model does
# not take, and ``(key, file shape, model shape)`` of the tensors that differ.
StateDictDiff = namedtuple('StateDictDiff', 'missing unexpected wrong_shape')


def get_state_dict(checkpoint):
    """The tensors of a loaded file: its ``state_dict``, or itself.

    Args:
        checkpoint: What ``torch.load`` returned.

    Returns:
        OrderedDict: The string keys whose values are tensors (anything with
        a ``shape``); empty for what holds none.
    """
    if not isinstance(checkpoint, dict):
        return OrderedDict()
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        return OrderedDict()
    return OrderedDict((k, v) for k, v in state_dict.items()
                       if isinstance(k, str) and hasattr(v, 'shape'))


def compare_state_dicts(expected, loaded, optional=None):
    """Compare the tensors a model holds with those a file gives it.

    The one comparison behind every fit check: ``load_from``/``--resume``
    (``CheckpointMatchHook``), ``Pretrained`` inits (``check_fit``) and the
    detectron2 export (``check_resnet50``).

    Args:
        expected (Mapping[str, Tensor]): The model's state dict.
        loaded (Mapping[str, Tensor]): The file's tensors, named as the
            model names them.
        optional (Callable[[str], bool], optional): Keys of ``expected``
            the file may lack (e.g. BN counters).

    Returns:
        StateDictDiff: Each list in the order of ``expected`` (``missing``,
        ``wrong_shape``) or of ``loaded`` (``unexpected``).
    """
    missing, wrong_shape = [], []
    for key, wanted in expected.items():
        if key not in loaded:
            if not (optional and optional(key)):
                missing.append(key)
        elif tuple(loaded[key].shape) != tuple(wanted.shape):
            wrong_shape.append(
                (key, tuple(loaded[key].shape), tuple(wanted.shape)))
    unexpected = [key for key in loaded if key not in expected]
    return StateDictDiff(missing, unexpected, wrong_shape)


def is_bn_counter(key):
    """BN's ``num_batches_tracked``, which old torchvision files lack and
    MMEngine's loading ignores."""
    return key.endswith('num_batches_tracked')
