from .demo_data import make_demo_data
from .transforms import *  # noqa: F401,F403
from .unlabeled_image_dataset import UnlabeledImageDataset

__all__ = ['UnlabeledImageDataset', 'make_demo_data']
