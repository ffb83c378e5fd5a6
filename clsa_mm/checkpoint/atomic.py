"""Atomic writes: a file is either the old one or the whole new one."""
import io
import os
import os.path as osp
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

PARTIAL_SUFFIX = '.part'


def partial_path(filepath: Union[str, Path]) -> str:
    """The hidden file ``dir/.name.part`` that ``filepath`` is written to."""
    dirname, basename = osp.split(str(filepath))
    return osp.join(dirname, f'.{basename}{PARTIAL_SUFFIX}')


def atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that the file is never partial.

    The bytes go to :func:`partial_path` first, are flushed to disk, and the
    finished file is renamed over ``filepath`` (``os.replace`` is atomic on
    POSIX and Windows). A process killed at any moment leaves either the old
    ``filepath`` or the new one, plus at most a stale ``.part`` file.

    Args:
        data (bytes): The file content.
        filepath (str | Path): The file to (over)write.
    """
    filepath = str(filepath)
    dirname = osp.dirname(filepath) or '.'
    os.makedirs(dirname, exist_ok=True)
    tmp = partial_path(filepath)
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, filepath)
    # Make the rename itself durable (power loss); not possible on Windows.
    if hasattr(os, 'O_DIRECTORY'):
        fd = os.open(dirname, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_checkpoint(obj,
                    filename: Union[str, Path],
                    force: bool = False,
                    dumps: Optional[Callable[[Any], bytes]] = None) -> None:
    """Save ``obj`` to ``filename`` atomically; never replace a file unasked.

    Args:
        obj: What to save.
        filename (str | Path): The output file.
        force (bool): Replace an existing ``filename``. Defaults to False.
        dumps (Callable, optional): Turns ``obj`` into the file's bytes.
            Defaults to :func:`torch.save`'s format; detectron2's ``.pkl``
            files take :func:`pickle.dumps`.
    """
    if osp.exists(filename) and not force:
        raise FileExistsError(
            f'{filename} exists; pass --force to overwrite it')
    if dumps is None:
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        data = buffer.getvalue()
    else:
        data = dumps(obj)
    atomic_write(data, osp.abspath(filename))
