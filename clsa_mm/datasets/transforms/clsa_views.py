import numbers

from mmcv.transforms import BaseTransform

from clsa_mm.registry import TRANSFORMS
from . import functional as F


def _check_view(view, where):
    if not isinstance(view, dict) or set(view) - {'size', 'scale'} or \
            'size' not in view or 'scale' not in view:
        raise ValueError(f'CLSAViews {where} must be dict(size=..., '
                         f'scale=(min, max)), got {view!r}')
    size, scale = view['size'], view['scale']
    if not (isinstance(size, numbers.Integral) and size > 0):
        raise ValueError(f'CLSAViews {where}: size must be a positive int, '
                         f'got {size!r}')
    if not (len(scale) == 2 and 0 < scale[0] <= scale[1] <= 1):
        raise ValueError(f'CLSAViews {where}: scale must be (min, max) with '
                         f'0 < min <= max <= 1, got {scale!r}')
    return int(size), (float(scale[0]), float(scale[1]))


@TRANSFORMS.register_module()
class CLSAViews(BaseTransform):
    """The views CLSA trains on, all from one decoded image (docs/method.md).

    Every view is an independent random resized crop (torchvision's
    sampling, see :func:`~.functional.sample_crop_box`) of
    ``results['img']`` followed by ``weak_augment``; the strong views then
    also go through ``strong_augment``. Only these views are computed.

    Sets ``results['img']`` to the list ``[x_k, x_q[0], ..., x_q[I-1],
    x_s[0], ..., x_s[J-1]]`` of HWC uint8 RGB arrays (``PackInputs`` turns
    it into a list of CHW uint8 tensors), ``results['img_shape']`` to their
    (H, W) and ``results['strong_ops']`` to one list of applied op names
    per strong view.

    Args:
        key_view (dict): ``dict(size=224, scale=(0.2, 1.0))`` of the key.
        weak_views (list[dict]): Size and scale of each weak query.
        strong_views (list[dict]): Size and scale of each strong view.
        weak_augment (dict): Config of the augmentation after every crop,
            e.g. ``dict(type='WeakAugment')``.
        strong_augment (dict): Config of the augmentation after
            ``weak_augment`` on the strong views, e.g.
            ``dict(type='StrongAugment')``.
        ratio (tuple[float, float]): Aspect ratio range of the crops.
            Defaults to (3 / 4, 4 / 3).
    """

    def __init__(self,
                 key_view,
                 weak_views,
                 strong_views,
                 weak_augment,
                 strong_augment,
                 ratio=(3 / 4, 4 / 3)):
        if not weak_views:
            raise ValueError('CLSAViews needs at least one weak view')
        self.key_view = _check_view(key_view, 'key_view')
        self.weak_views = [
            _check_view(v, f'weak_views[{i}]')
            for i, v in enumerate(weak_views)
        ]
        self.strong_views = [
            _check_view(v, f'strong_views[{i}]')
            for i, v in enumerate(strong_views)
        ]
        if not (len(ratio) == 2 and 0 < ratio[0] <= ratio[1]):
            raise ValueError('CLSAViews ratio must be (min, max) with '
                             f'0 < min <= max, got {ratio!r}')
        self.ratio = (float(ratio[0]), float(ratio[1]))
        self.weak_augment = TRANSFORMS.build(weak_augment)
        self.strong_augment = TRANSFORMS.build(strong_augment)

    def _weak_view(self, img, size, scale):
        box = F.sample_crop_box(img.shape[0], img.shape[1], scale,
                                self.ratio)
        return self.weak_augment.augment(F.resized_crop(img, box, size))

    def transform(self, results):
        img = results['img']
        if not (img.ndim == 3 and img.shape[2] == 3 and img.dtype == 'uint8'):
            source = results.get('img_path', 'the input')
            raise ValueError(
                'CLSAViews needs an HWC uint8 RGB image, got shape '
                f'{img.shape} dtype {img.dtype} from {source}')
        views = [self._weak_view(img, *self.key_view)]
        views += [self._weak_view(img, *view) for view in self.weak_views]
        strong_ops = []
        for view in self.strong_views:
            strong, applied = self.strong_augment.augment(
                self._weak_view(img, *view))
            views.append(strong)
            strong_ops.append(applied)
        results['img'] = views
        results['img_shape'] = [v.shape[:2] for v in views]
        results['strong_ops'] = strong_ops
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(key_view={self.key_view}, '
                f'weak_views={self.weak_views}, '
                f'strong_views={self.strong_views}, '
                f'weak_augment={self.weak_augment}, '
                f'strong_augment={self.strong_augment}, '
                f'ratio={self.ratio})')
