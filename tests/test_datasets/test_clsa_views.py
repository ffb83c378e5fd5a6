import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmpretrain.datasets.transforms import PackInputs

from clsa_mm.datasets.transforms import CLSAViews, functional
from clsa_mm.registry import DATASETS

CONFIGS = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets')
MULTI_SIZES = [224, 192, 160, 128, 96]
MULTI_SCALES = [(0.2, 1.0), (0.172, 0.86), (0.143, 0.715), (0.114, 0.571),
                (0.086, 0.429)]


def views(key=(224, (0.2, 1.0)), weak=((224, (0.2, 1.0)), ),
          strong=((96, (0.086, 0.429)), ), weak_augment=None,
          strong_augment=None):
    return CLSAViews(
        key_view=dict(size=key[0], scale=key[1]),
        weak_views=[dict(size=s, scale=c) for s, c in weak],
        strong_views=[dict(size=s, scale=c) for s, c in strong],
        weak_augment=weak_augment or dict(type='WeakAugment'),
        strong_augment=strong_augment or dict(type='StrongAugment'))


@pytest.fixture(scope='module')
def image():
    from skimage import data
    return np.ascontiguousarray(data.coffee()[12:387, 50:550])


def test_single_crop(image):
    np.random.seed(0)
    out = views().transform(dict(img=image))
    assert [v.shape for v in out['img']] == [(224, 224, 3), (224, 224, 3),
                                             (96, 96, 3)]
    assert all(v.dtype == np.uint8 and v.flags.c_contiguous
               for v in out['img'])
    assert out['img_shape'] == [(224, 224), (224, 224), (96, 96)]
    assert len(out['strong_ops']) == 1


def test_multi_crop(image):
    np.random.seed(0)
    transform = views(
        weak=list(zip(MULTI_SIZES, MULTI_SCALES)),
        strong=list(zip(MULTI_SIZES, MULTI_SCALES)))
    out = transform.transform(dict(img=image))
    sizes = [v.shape[0] for v in out['img']]
    assert sizes == [224] + MULTI_SIZES + MULTI_SIZES
    assert all(v.shape == (s, s, 3) for v, s in zip(out['img'], sizes))
    assert len(out['strong_ops']) == 5


def test_order_values_and_what_gets_augmented():
    # A constant image: the crops are all 10; the weak augmentation is off
    # and the strong one inverts, so only the strong views are 245. The
    # distinct sizes give the order key, weak queries, strong views.
    img = np.full((60, 80, 3), 10, np.uint8)
    transform = views(
        key=(40, (0.2, 1.0)),
        weak=[(36, (0.2, 1.0)), (32, (0.2, 1.0))],
        strong=[(28, (0.2, 1.0)), (24, (0.2, 1.0))],
        weak_augment=dict(
            type='WeakAugment', jitter_prob=0, grayscale_prob=0, blur_prob=0,
            flip_prob=0),
        strong_augment=dict(
            type='StrongAugment', n=1, prob=1.0, ops=['Invert']))
    out = transform.transform(dict(img=img))
    assert [v.shape[0] for v in out['img']] == [40, 36, 32, 28, 24]
    assert [int(v.min()) for v in out['img']] == [10, 10, 10, 245, 245]
    assert [int(v.max()) for v in out['img']] == [10, 10, 10, 245, 245]
    assert out['strong_ops'] == [['Invert'], ['Invert']]


def test_value_range_and_independent_crops(image):
    # Without augmentation every view is a resized crop: its values stay
    # within the image's, and the crops differ from one another.
    transform = views(
        weak=[(224, (0.2, 1.0))] * 2,
        weak_augment=dict(
            type='WeakAugment', jitter_prob=0, grayscale_prob=0, blur_prob=0,
            flip_prob=0),
        strong_augment=dict(type='StrongAugment', n=0))
    np.random.seed(0)
    out = transform.transform(dict(img=image))['img']
    for v in out:
        assert v.min() >= image.min() and v.max() <= image.max()
    assert not np.array_equal(out[0], out[1])
    assert not np.array_equal(out[1], out[2])


def test_computes_only_the_requested_views(image, monkeypatch):
    crops, strong = [], []
    real_crop = functional.sample_crop_box
    monkeypatch.setattr(functional, 'sample_crop_box',
                        lambda *a: crops.append(a) or real_crop(*a))
    transform = views(
        weak=list(zip(MULTI_SIZES, MULTI_SCALES)),
        strong=list(zip(MULTI_SIZES[-2:], MULTI_SCALES[-2:])))
    real_strong = transform.strong_augment.augment
    transform.strong_augment.augment = \
        lambda img: strong.append(img.shape) or real_strong(img)
    transform.transform(dict(img=image))
    assert [c[2] for c in crops] == [(0.2, 1.0)] + MULTI_SCALES + \
        MULTI_SCALES[-2:]
    assert strong == [(128, 128, 3), (96, 96, 3)]


def test_replay_with_the_same_seed(image):
    transform = views()
    runs = []
    for seed in (5, 5, 6):
        np.random.seed(seed)
        runs.append(transform.transform(dict(img=image)))
    for a, b in zip(runs[0]['img'], runs[1]['img']):
        assert np.array_equal(a, b)
    assert runs[0]['strong_ops'] == runs[1]['strong_ops']
    assert not np.array_equal(runs[0]['img'][0], runs[2]['img'][0])


def test_pack_and_collate(image):
    transform = views()
    pack = PackInputs(meta_keys=('img_path', 'strong_ops'))
    samples = [
        pack.transform(transform.transform(dict(img=image, img_path='x')))
        for _ in range(2)
    ]
    assert [tuple(t.shape) for t in samples[0]['inputs']] == [
        (3, 224, 224), (3, 224, 224), (3, 96, 96)
    ]
    assert all(t.dtype == torch.uint8 for t in samples[0]['inputs'])
    # packing keeps the values and the channel order
    view = transform.transform(dict(img=image))['img'][2]
    packed = PackInputs.format_input([view])[0]
    assert torch.equal(packed, torch.from_numpy(view).permute(2, 0, 1))
    batch = default_collate(samples)
    assert [tuple(t.shape) for t in batch['inputs']] == [
        (2, 3, 224, 224), (2, 3, 224, 224), (2, 3, 96, 96)
    ]
    assert isinstance(batch['data_samples'][0].strong_ops, list)


GOOD = dict(
    key_view=dict(size=224, scale=(0.2, 1.0)),
    weak_views=[dict(size=224, scale=(0.2, 1.0))],
    strong_views=[dict(size=96, scale=(0.086, 0.429))],
    weak_augment=dict(type='WeakAugment'),
    strong_augment=dict(type='StrongAugment'))
VIEW_FORMAT = 'must be dict(size=..., scale=(min, max)), got '
SCALE_FORMAT = 'scale must be (min, max) with 0 < min <= max <= 1, got '
RATIO_FORMAT = 'CLSAViews ratio must be (min, max) with 0 < min <= max, got '


@pytest.mark.parametrize('kwargs,message', [
    (dict(key_view=dict(size=0, scale=(0.2, 1.0))),
     'CLSAViews key_view: size must be a positive int, got 0'),
    (dict(key_view=dict(size=2.5, scale=(0.2, 1.0))),
     'CLSAViews key_view: size must be a positive int, got 2.5'),
    (dict(key_view=dict(size=224, scale=(0.5, 0.2))),
     'CLSAViews key_view: ' + SCALE_FORMAT + '(0.5, 0.2)'),
    (dict(key_view=dict(size=224, scale=(0, 1.0))),
     'CLSAViews key_view: ' + SCALE_FORMAT + '(0, 1.0)'),
    (dict(key_view=dict(size=224, scale=(0.5, 1.5))),
     'CLSAViews key_view: ' + SCALE_FORMAT + '(0.5, 1.5)'),
    (dict(key_view=dict(size=224, scale=(0.2, 0.5, 1.0))),
     'CLSAViews key_view: ' + SCALE_FORMAT + '(0.2, 0.5, 1.0)'),
    (dict(key_view=(224, (0.2, 1.0))),
     'CLSAViews key_view ' + VIEW_FORMAT + '(224, (0.2, 1.0))'),
    (dict(key_view=dict(size=224, scale=(0.2, 1.0), ratio=(1, 1))),
     'CLSAViews key_view ' + VIEW_FORMAT +
     "{'size': 224, 'scale': (0.2, 1.0), 'ratio': (1, 1)}"),
    (dict(weak_views=[]), 'CLSAViews needs at least one weak view'),
    (dict(weak_views=[dict(size=8, scale=(0.2, 1.0)),
                      dict(scale=(0.2, 1.0))]),
     'CLSAViews weak_views[1] ' + VIEW_FORMAT + "{'scale': (0.2, 1.0)}"),
    (dict(strong_views=[dict(size=96)]),
     'CLSAViews strong_views[0] ' + VIEW_FORMAT + "{'size': 96}"),
    (dict(ratio=(2, 1)), RATIO_FORMAT + '(2, 1)'),
    (dict(ratio=(0, 1)), RATIO_FORMAT + '(0, 1)'),
    (dict(ratio=(1, 2, 3)), RATIO_FORMAT + '(1, 2, 3)'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match='^' + re.escape(message) + '$'):
        CLSAViews(**{**GOOD, **kwargs})


def test_accepts_the_boundary_arguments():
    # One-pixel views, a fixed scale (min == max, max == 1) and a fixed
    # ratio (min == max) are all valid.
    transform = CLSAViews(**{
        **GOOD, 'key_view': dict(size=1, scale=(1.0, 1.0)),
        'weak_views': [dict(size=2, scale=(0.5, 0.5))],
        'strong_views': [], 'ratio': (1, 1)})
    assert (transform.key_view, transform.weak_views, transform.ratio) == \
        ((1, (1.0, 1.0)), [(2, (0.5, 0.5))], (1.0, 1.0))
    out = transform.transform(dict(img=np.zeros((9, 7, 3), np.uint8)))
    assert [v.shape for v in out['img']] == [(1, 1, 3), (2, 2, 3)]


@pytest.mark.parametrize('img,results,message', [
    (np.zeros((8, 8), np.uint8), dict(img_path='a.jpg'),
     'shape (8, 8) dtype uint8 from a.jpg'),
    (np.zeros((8, 8, 4), np.uint8), dict(),
     'shape (8, 8, 4) dtype uint8 from the input'),
    (np.zeros((8, 8, 3), np.float32), dict(img_path='b.png'),
     'shape (8, 8, 3) dtype float32 from b.png'),
])
def test_rejects_non_rgb_input(img, results, message):
    message = 'CLSAViews needs an HWC uint8 RGB image, got ' + message
    with pytest.raises(ValueError, match='^' + re.escape(message) + '$'):
        views().transform(dict(img=img, **results))


def test_repr():
    transform = views()
    assert repr(transform) == (
        'CLSAViews(key_view=(224, (0.2, 1.0)), '
        'weak_views=[(224, (0.2, 1.0))], '
        'strong_views=[(96, (0.086, 0.429))], '
        f'weak_augment={transform.weak_augment!r}, '
        f'strong_augment={transform.strong_augment!r}, '
        f'ratio=({3 / 4}, {4 / 3}))')


PLAIN_WEAK = dict(type='WeakAugment', jitter_prob=0, grayscale_prob=0,
                  blur_prob=0, flip_prob=0)


def crop_boxes(monkeypatch, transform, shape, runs=100):
    """The (top, left, height, width) crop boxes of ``runs`` transforms of
    an image of ``shape`` (H, W), as an array views x runs x 4."""
    boxes = []
    real = functional.resized_crop
    monkeypatch.setattr(
        functional, 'resized_crop',
        lambda img, box, size: boxes.append(box) or real(img, box, size))
    img = np.zeros((*shape, 3), np.uint8)
    np.random.seed(0)
    for _ in range(runs):
        transform.transform(dict(img=img))
    num_views = 1 + len(transform.weak_views) + len(transform.strong_views)
    return np.array(boxes).reshape(runs, num_views, 4).transpose(1, 0, 2)


@pytest.mark.parametrize('shape', [(30, 90), (90, 30)])
def test_crop_boxes_lie_inside_non_square_images_and_reach_every_side(
        monkeypatch, shape):
    # Guards the crop box being drawn from (height, width) of the image,
    # not from one side twice or from the channels.
    transform = views(
        key=(12, (0.2, 1.0)), weak=[(10, (0.2, 1.0))],
        strong=[(8, (0.05, 0.3))], weak_augment=PLAIN_WEAK,
        strong_augment=dict(type='StrongAugment', n=0))
    height, width = shape
    top, left, h, w = crop_boxes(monkeypatch, transform, shape).reshape(
        -1, 4).T
    assert (top >= 0).all() and (left >= 0).all()
    assert (h > 0).all() and (w > 0).all()
    assert (top + h <= height).all() and (left + w <= width).all()
    # the boxes together cover the image up to its margins
    assert top.min() < 0.1 * height and left.min() < 0.1 * width
    assert (top + h).max() > 0.9 * height and (left + w).max() > 0.9 * width


def test_crop_areas_span_each_views_scale(monkeypatch):
    # Guards every view being cropped with its own scale range, all of it.
    scales = [(0.2, 1.0), (0.3, 0.6), (0.05, 0.15)]
    transform = views(
        key=(12, scales[0]), weak=[(10, scales[1])], strong=[(8, scales[2])],
        weak_augment=PLAIN_WEAK,
        strong_augment=dict(type='StrongAugment', n=0))
    shape = (60, 80)
    for view, (low, high) in zip(crop_boxes(monkeypatch, transform, shape),
                                 scales):
        area = view[:, 2] * view[:, 3] / (shape[0] * shape[1])
        assert low - 0.02 <= area.min() < low + 0.1 * (high - low)
        assert high - 0.1 * (high - low) < area.max() <= high + 0.02


@pytest.mark.parametrize('ratio', [None, (0.5, 2.0)])
def test_crop_aspect_ratios_span_the_configured_range(monkeypatch, ratio):
    # Guards the aspect ratio (w / h) being drawn from the whole configured
    # range (default 3/4 to 4/3), not one end of it.
    kwargs = {} if ratio is None else dict(ratio=ratio)
    low, high = ratio or (3 / 4, 4 / 3)
    transform = CLSAViews(**{
        **GOOD, 'key_view': dict(size=8, scale=(0.2, 0.4)),
        'weak_views': [dict(size=8, scale=(0.2, 0.4))], 'strong_views': [],
        'weak_augment': PLAIN_WEAK, **kwargs})
    boxes = crop_boxes(monkeypatch, transform, (200, 200)).reshape(-1, 4)
    aspect = boxes[:, 3] / boxes[:, 2]
    assert low * 0.97 <= aspect.min() < low * 1.05
    assert high * 0.95 < aspect.max() <= high * 1.03


@pytest.mark.parametrize('name,num_views', [('imagenet_bs32_clsa.py', 3),
                                            ('imagenet_bs32_clsa-mcrop.py',
                                             11)])
def test_base_configs(tiny_imagenet, clsa_scope, name, num_views):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    loader = cfg.train_dataloader
    assert (loader.batch_size, loader.num_workers) == (32, 8)
    assert loader.persistent_workers and loader.sampler.shuffle
    assert loader.collate_fn.type == 'default_collate'
    assert cfg.data_root == 'data/imagenet/'
    loader.dataset.data_root = tiny_imagenet
    dataset = DATASETS.build(loader.dataset)
    assert len(dataset) == 12  # tiny_imagenet/train: 3 classes x 4
    np.random.seed(0)
    batch = default_collate([dataset[0], dataset[1]])
    assert len(batch['inputs']) == num_views
    assert [t.shape[-1] for t in batch['inputs']] == \
        ([224, 224, 96] if num_views == 3 else [224] + MULTI_SIZES * 2)
    assert all(t.dtype == torch.uint8 and t.shape[:2] == (2, 3)
               for t in batch['inputs'])
