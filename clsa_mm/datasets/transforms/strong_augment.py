import numpy as np
from mmcv.transforms import BaseTransform

from clsa_mm.registry import TRANSFORMS
from . import functional as F

# Parameter mappings of docs/method.md (StrongAugment): the released
# RandAugment with PARAMETER_MAX = 10, written as the released code computes
# them.


def _enhance(fn, name):

    def op(img, v, sign):
        factor = float(v) * 0.9 / 10 + 0.05
        return fn(img, factor), f'{name}(v={v}, {factor:.2f})'

    return op


def _plain(fn, name):

    def op(img, v, sign):
        return fn(img), name

    return op


def _posterize(img, v, sign):
    bits = int(v * 4 / 10) + 4
    return F.posterize(img, bits), f'Posterize(v={v}, {bits} bits)'


def _solarize(img, v, sign):
    threshold = 256 - int(v * 256 / 10)
    return F.solarize(img, threshold), f'Solarize(v={v}, {threshold})'


def _rotate(img, v, sign):
    degrees = sign * int(v * 30 / 10)
    return F.rotate(img, degrees), f'Rotate(v={v}, {degrees})'


def _shear(fn, name):

    def op(img, v, sign):
        shear = sign * float(v) * 0.3 / 10
        return fn(img, shear), f'{name}(v={v}, {shear:.2f})'

    return op


def _translate_x(img, v, sign):
    shift = int(sign * float(v) * 0.3 / 10 * img.shape[1])
    return F.translate(img, shift, 0), f'TranslateX(v={v}, {shift}px)'


def _translate_y(img, v, sign):
    shift = int(sign * float(v) * 0.3 / 10 * img.shape[0])
    return F.translate(img, 0, shift), f'TranslateY(v={v}, {shift}px)'


OPS = {
    'AutoContrast': _plain(F.autocontrast, 'AutoContrast'),
    'Brightness': _enhance(F.adjust_brightness, 'Brightness'),
    'Color': _enhance(F.adjust_saturation, 'Color'),
    'Contrast': _enhance(F.adjust_contrast, 'Contrast'),
    'Equalize': _plain(F.equalize, 'Equalize'),
    'Identity': _plain(lambda img: img, 'Identity'),
    'Invert': _plain(F.invert, 'Invert'),
    'Posterize': _posterize,
    'Rotate': _rotate,
    'Sharpness': _enhance(F.adjust_sharpness, 'Sharpness'),
    'ShearX': _shear(F.shear_x, 'ShearX'),
    'ShearY': _shear(F.shear_y, 'ShearY'),
    'Solarize': _solarize,
    'TranslateX': _translate_x,
    'TranslateY': _translate_y,
}
SIGNED_OPS = ('Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY')
_RELEASED = ('AutoContrast', 'Brightness', 'Color', 'Contrast', 'Equalize',
             'Identity', 'Posterize', 'Rotate', 'Sharpness', 'ShearX',
             'ShearY', 'Solarize', 'TranslateX', 'TranslateY')
PRESETS = {
    # The 14-op pool of the released code (FixMatch's RandAugment pool).
    'released': _RELEASED,
    # The pool the paper's text lists: Invert instead of Identity.
    'paper': tuple('Invert' if op == 'Identity' else op for op in _RELEASED),
}


@TRANSFORMS.register_module()
class StrongAugment(BaseTransform):
    """CLSA's stronger augmentation (docs/method.md, StrongAugment).

    ``n`` rounds: pick an op uniformly from the pool (with replacement),
    draw an integer magnitude ``v`` uniformly from ``{1, ..., magnitude -
    1}`` and apply the op with probability ``prob``; geometric ops get a
    random sign. The ops compute what ``PIL.ImageOps``/``ImageEnhance`` do
    (see :mod:`clsa_mm.datasets.transforms.functional`). All randomness
    comes from ``np.random`` (seeded per worker by MMEngine), so seeding it
    replays the augmentation.

    The applied ops are appended, as one list of strings such as
    ``'Rotate(v=5, -15)'``, to ``results['strong_ops']``.

    Args:
        n (int): Rounds. Defaults to 5.
        magnitude (int): ``m`` of the released code; ``v`` is drawn from
            ``{1, ..., m - 1}``, the parameters are mapped with ``v / 10``.
            In [2, 10]. Defaults to 10.
        prob (float): Probability to apply the op of a round.
            Defaults to 0.5.
        preset (str): The op pool: ``'released'`` (with Identity, the
            released code) or ``'paper'`` (Invert instead of Identity).
            Defaults to ``'released'``.
        ops (Sequence[str], optional): Op names to draw from instead of the
            preset's pool (any of :data:`OPS`). Defaults to None.
    """

    def __init__(self,
                 n=5,
                 magnitude=10,
                 prob=0.5,
                 preset='released',
                 ops=None):
        if not (isinstance(n, int) and n >= 0):
            raise ValueError(f'StrongAugment n must be an int >= 0, got {n!r}')
        if not (isinstance(magnitude, int) and 2 <= magnitude <= 10):
            raise ValueError('StrongAugment magnitude must be an int in '
                             f'[2, 10], got {magnitude!r}')
        if not 0 <= prob <= 1:
            raise ValueError(f'StrongAugment prob must be in [0, 1], got '
                             f'{prob!r}')
        if preset not in PRESETS:
            raise ValueError(f'Unknown StrongAugment preset {preset!r}; '
                             f'choose from {sorted(PRESETS)}')
        pool = tuple(PRESETS[preset] if ops is None else ops)
        unknown = [op for op in pool if op not in OPS]
        if unknown or not pool:
            raise ValueError(f'Unknown StrongAugment ops {unknown} (or an '
                             f'empty list); choose from {sorted(OPS)}')
        self.n = n
        self.magnitude = magnitude
        self.prob = prob
        self.pool = pool

    def augment(self, img):
        """Augment one HWC uint8 RGB image.

        Returns:
            tuple[np.ndarray, list[str]]: The image and the applied ops.
        """
        applied = []
        for _ in range(self.n):
            name = self.pool[np.random.randint(len(self.pool))]
            v = np.random.randint(1, self.magnitude)
            if np.random.rand() < self.prob:
                sign = 1
                if name in SIGNED_OPS and np.random.rand() < 0.5:
                    sign = -1
                img, description = OPS[name](img, v, sign)
                applied.append(description)
        return img, applied

    def transform(self, results):
        results['img'], applied = self.augment(results['img'])
        results.setdefault('strong_ops', []).append(applied)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(n={self.n}, '
                f'magnitude={self.magnitude}, prob={self.prob}, '
                f'pool={list(self.pool)})')
