import os
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

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


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """Local storage backend whose writes are atomic.

    Same as MMEngine's :class:`LocalBackend`, but :meth:`put` and
    :meth:`put_text` go through :func:`atomic_write`, so a checkpoint of a run
    killed while saving is never left half-written. Select it with
    ``backend_args=dict(backend='atomic_local')`` (the default of
    :class:`AtomicCheckpointHook` for local directories).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes atomically to ``filepath``.

        Args:
            obj (bytes): Data to be written.
            filepath (str | Path): Path to write data.
        """
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text atomically to ``filepath``.

        Args:
            obj (str): Text to be written.
            filepath (str | Path): Path to write data.
            encoding (str): Text encoding. Defaults to 'utf-8'.
        """
        atomic_write(obj.encode(encoding), filepath)
