import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from clsa_mm.registry import TRANSFORMS
from . import functional as F


_ADJUSTMENTS = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation,
                F.adjust_hue)


def _jitter_range(value, name, center=1.0, bound=None):
    if value < 0:
        raise ValueError(f'WeakAugment {name} must be >= 0, got {value!r}')
    low, high = center - value, center + value
    if bound is not None:
        if value > bound:
            raise ValueError(f'WeakAugment {name} must be <= {bound}, got '
                             f'{value!r}')
        return low, high
    return max(0.0, low), high


@TRANSFORMS.register_module()
class WeakAugment(BaseTransform):
    """CLSA's weak (MoCo v2) augmentation, after the crop (docs/method.md).

    In this order, as torchvision does it on PIL images in the released
    code: ColorJitter with probability ``jitter_prob`` (the four
    adjustments in random order, factors uniform in ``[max(0, 1 - x),
    1 + x]``, hue shift uniform in ``[-hue, hue]``), grayscale with
    probability ``grayscale_prob`` (PIL's luma, three channels), PIL's
    Gaussian blur with ``sigma`` uniform in ``blur_sigma`` with probability
    ``blur_prob``, horizontal flip with probability ``flip_prob``. Works on
    ``results['img']``, an HWC uint8 RGB array; randomness from
    ``np.random``.

    Args:
        brightness (float): Defaults to 0.4.
        contrast (float): Defaults to 0.4.
        saturation (float): Defaults to 0.4.
        hue (float): In [0, 0.5]. Defaults to 0.1.
        jitter_prob (float): Defaults to 0.8.
        grayscale_prob (float): Defaults to 0.2.
        blur_sigma (tuple[float, float]): Defaults to (0.1, 2.0).
        blur_prob (float): Defaults to 0.5.
        flip_prob (float): Defaults to 0.5.
    """

    def __init__(self,
                 brightness=0.4,
                 contrast=0.4,
                 saturation=0.4,
                 hue=0.1,
                 jitter_prob=0.8,
                 grayscale_prob=0.2,
                 blur_sigma=(0.1, 2.0),
                 blur_prob=0.5,
                 flip_prob=0.5):
        self.brightness = _jitter_range(brightness, 'brightness')
        self.contrast = _jitter_range(contrast, 'contrast')
        self.saturation = _jitter_range(saturation, 'saturation')
        self.hue = _jitter_range(hue, 'hue', center=0.0, bound=0.5)
        if not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError('WeakAugment blur_sigma must be (min, max) with '
                             f'0 < min <= max, got {blur_sigma!r}')
        self.blur_sigma = tuple(blur_sigma)
        for name, prob in [('jitter_prob', jitter_prob),
                           ('grayscale_prob', grayscale_prob),
                           ('blur_prob', blur_prob),
                           ('flip_prob', flip_prob)]:
            if not 0 <= prob <= 1:
                raise ValueError(f'WeakAugment {name} must be in [0, 1], got '
                                 f'{prob!r}')
        self.jitter_prob = jitter_prob
        self.grayscale_prob = grayscale_prob
        self.blur_prob = blur_prob
        self.flip_prob = flip_prob

    def color_jitter(self, img):
        """torchvision's ``ColorJitter`` on an HWC uint8 RGB array.

        Like torchvision, an adjustment whose range is the identity (jitter
        0) is skipped, and the factors are drawn in the order brightness,
        contrast, saturation, hue after the random order of the four.
        """
        order = np.random.permutation(4)
        factors = [
            None if low == high else np.random.uniform(low, high)
            for low, high in (self.brightness, self.contrast,
                              self.saturation, self.hue)
        ]
        for i in order:
            if factors[i] is not None:
                img = _ADJUSTMENTS[i](img, factors[i])
        return img

    def augment(self, img):
        """Augment one HWC uint8 RGB image; returns the new image."""
        if np.random.rand() < self.jitter_prob:
            img = self.color_jitter(img)
        if np.random.rand() < self.grayscale_prob:
            img = cv2.cvtColor(F.grayscale(img), cv2.COLOR_GRAY2RGB)
        if np.random.rand() < self.blur_prob:
            img = F.gaussian_blur(img, np.random.uniform(*self.blur_sigma))
        if np.random.rand() < self.flip_prob:
            img = cv2.flip(img, 1)
        return img

    def transform(self, results):
        results['img'] = self.augment(results['img'])
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue}, jitter_prob={self.jitter_prob}, '
                f'grayscale_prob={self.grayscale_prob}, '
                f'blur_sigma={self.blur_sigma}, blur_prob={self.blur_prob}, '
                f'flip_prob={self.flip_prob})')
