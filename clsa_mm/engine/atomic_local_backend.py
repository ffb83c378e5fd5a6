from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from clsa_mm.checkpoint.atomic import atomic_write


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
