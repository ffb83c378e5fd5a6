import math
import re
from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from clsa_mm.datasets.transforms import StrongAugment
from clsa_mm.datasets.transforms.strong_augment import OPS, PRESETS

RELEASED_POOL = [
    'AutoContrast', 'Brightness', 'Color', 'Contrast', 'Equalize',
    'Identity', 'Posterize', 'Rotate', 'Sharpness', 'ShearX', 'ShearY',
    'Solarize', 'TranslateX', 'TranslateY'
]


def released_op(pil, name, v, sign):
    """The released code's op (data_processing/RandAugment.py) on PIL."""
    enhance = v * 0.9 / 10 + 0.05
    shear = sign * v * 0.3 / 10
    return {
        'AutoContrast': lambda: ImageOps.autocontrast(pil),
        'Brightness': lambda: ImageEnhance.Brightness(pil).enhance(enhance),
        'Color': lambda: ImageEnhance.Color(pil).enhance(enhance),
        'Contrast': lambda: ImageEnhance.Contrast(pil).enhance(enhance),
        'Equalize': lambda: ImageOps.equalize(pil),
        'Identity': lambda: pil,
        'Invert': lambda: ImageOps.invert(pil),
        'Posterize': lambda: ImageOps.posterize(pil, int(v * 4 / 10) + 4),
        'Rotate': lambda: pil.rotate(sign * int(v * 30 / 10)),
        'Sharpness': lambda: ImageEnhance.Sharpness(pil).enhance(enhance),
        'ShearX': lambda: pil.transform(pil.size, Image.AFFINE,
                                        (1, shear, 0, 0, 1, 0)),
        'ShearY': lambda: pil.transform(pil.size, Image.AFFINE,
                                        (1, 0, 0, shear, 1, 0)),
        'Solarize': lambda: ImageOps.solarize(pil, 256 - int(v * 256 / 10)),
        'TranslateX': lambda: pil.transform(
            pil.size, Image.AFFINE, (1, 0, int(shear * pil.size[0]), 0, 1, 0)),
        'TranslateY': lambda: pil.transform(
            pil.size, Image.AFFINE, (1, 0, 0, 0, 1, int(shear * pil.size[1]))),
    }[name]()


def parse(description):
    """``'Rotate(v=5, -15)'`` -> ('Rotate', 5, '-15'); ``'Equalize'`` ->
    ('Equalize', None, None)."""
    match = re.fullmatch(r'(\w+)(?:\(v=(\d), (.+)\))?', description)
    assert match, description
    name, v, param = match.groups()
    return name, None if v is None else int(v), param


def test_presets():
    assert list(PRESETS['released']) == RELEASED_POOL
    paper = [('Invert' if op == 'Identity' else op) for op in RELEASED_POOL]
    assert list(PRESETS['paper']) == paper
    assert StrongAugment().pool == tuple(RELEASED_POOL)
    assert StrongAugment(preset='paper').pool == tuple(paper)
    assert StrongAugment(ops=['Rotate', 'Invert']).pool == ('Rotate',
                                                             'Invert')


@pytest.mark.parametrize('kwargs,message', [
    (dict(preset='fixmatch'), 'preset'),
    (dict(ops=['Rotate', 'Cutout']), 'Cutout'),
    (dict(ops=[]), 'empty'),
    (dict(magnitude=11), 'magnitude'),
    (dict(n=-1), 'n must'),
    (dict(prob=1.5), 'prob'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StrongAugment(**kwargs)


@pytest.mark.parametrize('v', range(1, 10))
def test_parameter_mapping(v):
    img = np.zeros((10, 100, 3), np.uint8)
    expected = {
        'Brightness': f'{0.9 * v / 10 + 0.05:.2f}',
        'Posterize': f'{math.floor(4 * v / 10) + 4} bits',
        'Rotate': str(math.floor(30 * v / 10)),
        'ShearX': f'{0.3 * v / 10:.2f}',
        'Solarize': str(256 - math.floor(256 * v / 10)),
        'TranslateX': f'{math.floor(0.3 * v / 10 * 100)}px',
        'TranslateY': f'{math.floor(0.3 * v / 10 * 10)}px',
    }
    for name, param in expected.items():
        _, description = OPS[name](img, v, 1)
        assert description == f'{name}(v={v}, {param})'
    # a negative sign negates the geometric parameter
    assert OPS['Rotate'](img, v, -1)[1] == \
        f'Rotate(v={v}, -{math.floor(30 * v / 10)})'


@pytest.mark.parametrize('preset', ['released', 'paper'])
def test_every_op_equals_the_released_pil_op(photo, preset):
    # Each op alone (n=1, prob=1) against the released code's PIL op with
    # the magnitude and sign it recorded: exact.
    pil = Image.fromarray(photo)
    for name in PRESETS[preset]:
        augment = StrongAugment(n=1, prob=1.0, ops=[name])
        seen = set()
        for seed in range(12):
            np.random.seed(seed)
            out, applied = augment.augment(photo)
            (description, ) = applied
            op, v, param = parse(description)
            assert op == name
            sign = -1 if param is not None and param.startswith('-') else 1
            ref = np.asarray(released_op(pil, name, v or 5, sign))
            assert np.array_equal(out, ref), description
            seen.add((v, sign))
        # the ops with a magnitude got several (v, sign) pairs
        assert len(seen) > 1 or seen == {(None, 1)}


def test_records_applied_ops_per_view(photo):
    augment = StrongAugment()
    results = dict(img=photo)
    np.random.seed(1)
    augment(results)
    augment(results)
    assert len(results['strong_ops']) == 2
    assert all(isinstance(op, str) for ops in results['strong_ops']
               for op in ops)
    assert results['img'].shape == photo.shape
    assert results['img'].dtype == np.uint8


def test_replay_with_the_same_seed(photo):
    augment = StrongAugment()
    runs = []
    for seed in (7, 7, 8):
        np.random.seed(seed)
        runs.append(augment.augment(photo))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert runs[0][1] != runs[2][1]


def test_op_statistics_over_2000_images():
    # Each of the 14 ops is applied Binomial(5 * 2000, 0.5 / 14) times:
    # mean 357.1, std 18.6, i.e. 0.1786 +- 0.0093 per image. Allow 4 std.
    np.random.seed(0)
    augment = StrongAugment()
    images = np.random.randint(0, 256, (2000, 8, 8, 3), np.uint8)
    counts, magnitudes, signs = Counter(), Counter(), Counter()
    for img in images:
        _, applied = augment.augment(img)
        for description in applied:
            name, v, param = parse(description)
            counts[name] += 1
            if v is not None:
                magnitudes[v] += 1
            if name in ('Rotate', 'ShearX', 'ShearY'):
                signs[param.startswith('-')] += 1
    assert set(counts) == set(RELEASED_POOL)
    std = math.sqrt(10000 * (0.5 / 14) * (1 - 0.5 / 14)) / 2000
    for name in RELEASED_POOL:
        assert abs(counts[name] / 2000 - 5 * 0.5 / 14) < 4 * std, name
    # 2.5 ops per image (std 0.025 per image), v uniform in 1..9, signs
    # balanced
    assert abs(sum(counts.values()) / 2000 - 2.5) < 0.1
    assert set(magnitudes) == set(range(1, 10))
    total = sum(magnitudes.values())
    for v in range(1, 10):
        assert abs(magnitudes[v] / total - 1 / 9) < 0.02
    assert abs(signs[True] / sum(signs.values()) - 0.5) < 0.05


def test_transform_changes_the_image_it_is_given(photo):
    # What the pipeline calls: `transform` must put the augmented image into
    # the results (not only `augment` return it).
    augment = StrongAugment()
    changed = 0
    for seed in range(4):
        np.random.seed(seed)
        expected, applied = augment.augment(photo.copy())
        results = dict(img=photo.copy())
        np.random.seed(seed)
        out = augment.transform(results)
        assert out['strong_ops'] == [applied]
        assert np.array_equal(out['img'], expected), seed
        if any(op != 'Identity' for op in applied):
            assert not np.array_equal(out['img'], photo), (seed, applied)
            changed += 1
    assert changed >= 3
