from .clsa_views import CLSAViews
from .load_rgb_image import LoadRGBImageFromFile
from .strong_augment import StrongAugment
from .weak_augment import WeakAugment

__all__ = [
    'CLSAViews', 'LoadRGBImageFromFile', 'StrongAugment', 'WeakAugment'
]
