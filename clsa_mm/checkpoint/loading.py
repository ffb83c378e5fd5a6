"""Loading MMEngine checkpoints with ``torch.load(weights_only=True)``.

MMEngine checkpoints carry, beside tensors, the message hub's
:class:`HistoryBuffer` objects and numpy arrays/scalars. Instead of turning the
safety of ``weights_only`` off, the few globals those need are allow-listed,
and MMEngine's loader for local files is replaced by one that always loads
with ``weights_only=True`` and says which file held which forbidden object.

``HistoryBuffer.__getstate__`` also pickles its statistic methods, through
``getattr`` -- a global that must never be allow-listed. Those methods (min,
max, current, mean) are registered again by ``__setstate__``, so the buffers
we write leave them out.
"""
import os.path as osp
import pickle

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


def _numpy_globals():
    # numpy 2 moved ``numpy.core`` to ``numpy._core``.
    if np.lib.NumpyVersion(np.__version__) >= '2.0.0':
        from numpy._core import multiarray
    else:
        from numpy.core import multiarray
    dtypes = [
        type(np.dtype(t)) for t in (np.bool_, np.int8, np.int16, np.int32,
                                    np.int64, np.uint8, np.uint16, np.uint32,
                                    np.uint64, np.float16, np.float32,
                                    np.float64, np.str_)
    ]
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray,
        np.dtype, *dtypes
    ]


SAFE_CHECKPOINT_GLOBALS = [HistoryBuffer, *_numpy_globals()]


def _history_buffer_state(buffer):
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def allow_mmengine_checkpoint_globals():
    """Allow-list the non-tensor objects MMEngine writes into checkpoints."""
    HistoryBuffer.__getstate__ = _history_buffer_state
    torch.serialization.add_safe_globals(SAFE_CHECKPOINT_GLOBALS)


def load_local_checkpoint(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=True``.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str | torch.device, optional): Same as
            :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file not found: {filename}')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = str(e)
        lowered = reason.lower()
        # torch words a forbidden object 'Unsupported global', 'unsupported
        # GLOBAL ... blocked' or 'not an allowed global', depending on the
        # version; a pickle of protocol >= 4 (e.g. a raw pickle.dump) stops
        # earlier, at its FRAME instruction: 'Unsupported operand 149'.
        if any(words in lowered
               for words in ('unsupported global', 'allowed global',
                             'unsupported operand 149')):
            detail = next((line.strip() for line in reason.splitlines()
                           if 'GLOBAL' in line or 'operand' in line),
                          reason.splitlines()[0])
            raise pickle.UnpicklingError(
                f'Refusing to load checkpoint {filename}: it contains a '
                f'pickled object that is not a tensor, a plain container or '
                f'an allow-listed MMEngine/numpy object, or pickle '
                f'instructions that torch.save does not write ({detail}); '
                'loading it could run arbitrary code. Only load checkpoints '
                'from sources you trust; convert foreign files with '
                'tools/model_converters.') from None
        raise pickle.UnpicklingError(
            f'Cannot read checkpoint {filename}: it is not a valid torch '
            f'checkpoint (truncated or corrupt?): {reason}') from None
    except (RuntimeError, EOFError) as e:
        raise RuntimeError(
            f'Cannot read checkpoint {filename}: it is truncated or not a '
            f'torch checkpoint ({e})') from None


def register_checkpoint_loader():
    """Make MMEngine (and mmpretrain/mmdet init_cfg) use our local loader."""
    allow_mmengine_checkpoint_globals()
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)
