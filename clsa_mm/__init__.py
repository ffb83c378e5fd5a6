from .checkpoint import register_checkpoint_loader
from .version import __version__

# Every entry point that imports clsa_mm loads checkpoints with
# weights_only=True and MMEngine's allow-listed globals.
register_checkpoint_loader()

__all__ = ['__version__']
