from .transforms import *  # noqa: F401,F403
from .unlabeled_image_dataset import UnlabeledImageDataset

__all__ = ['UnlabeledImageDataset']
