"""Every uint8 op of clsa_mm.datasets.transforms.functional against PIL.

Exact unless the test states a tolerance (the docstrings of the functions
say where the tolerances come from).
"""
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageEnhance, ImageFilter, ImageOps
from torchvision import transforms

from clsa_mm.datasets.transforms import functional as F

# The enhance factors StrongAugment uses (v = 1..9) and ColorJitter values.
STRONG_FACTORS = [v * 0.9 / 10 + 0.05 for v in range(1, 10)]
JITTER_FACTORS = [0.6, 0.7319, 1.0, 1.2345, 1.4]
# Each enhancement and the PIL class it reproduces.
ENHANCEMENTS = dict(
    brightness=(F.adjust_brightness, ImageEnhance.Brightness),
    contrast=(F.adjust_contrast, ImageEnhance.Contrast),
    saturation=(F.adjust_saturation, ImageEnhance.Color),
    sharpness=(F.adjust_sharpness, ImageEnhance.Sharpness))


def diff(ours, ref):
    return np.abs(ours.astype(int) - np.asarray(ref).astype(int))


@pytest.fixture(params=['photo', 'noise'])
def img(request):
    return request.getfixturevalue(request.param)


def test_grayscale_is_pil_luma():
    # 2M random colours
    rgb = np.random.default_rng(1).integers(0, 256, (2048, 1024, 3), np.uint8)
    ref = Image.fromarray(rgb).convert('L')
    assert diff(F.grayscale(rgb), ref).max() == 0


@pytest.mark.parametrize('name, factor', [
    *((name, f) for name in ('brightness', 'contrast')
      for f in STRONG_FACTORS + JITTER_FACTORS),
    *((name, f) for name in ('saturation', 'sharpness')
      for f in STRONG_FACTORS),
])
def test_enhancements_exact(img, name, factor):
    ours, enhance = ENHANCEMENTS[name]
    ref = enhance(Image.fromarray(img)).enhance(factor)
    assert diff(ours(img, factor), ref).max() == 0


@pytest.mark.parametrize('name', ['saturation', 'sharpness'])
@pytest.mark.parametrize('factor', JITTER_FACTORS)
def test_blend_enhancements_within_one_level(img, name, factor):
    # Tolerance: 1 level on under 1 % of the values (float32 rounding of
    # PIL's formula against OpenCV's addWeighted).
    ours, enhance = ENHANCEMENTS[name]
    d = diff(ours(img, factor), enhance(Image.fromarray(img)).enhance(factor))
    assert d.max() <= 1 and (d > 0).mean() < 0.01


@pytest.mark.parametrize('hue', [-0.5, -0.1, -0.0371, 0.0, 0.05, 0.1, 0.5])
def test_hue_against_torchvision_including_negative(img, hue):
    # Tolerance: under 3 % of the pixels differ, by at most 6 levels (PIL's
    # float32 hue truncated one step lower). mmcv 2.1's adjust_hue, which
    # mmpretrain's ColorJitter calls, fails on negative hue under numpy 2.
    d = diff(F.adjust_hue(img, hue), TF.adjust_hue(Image.fromarray(img), hue))
    assert d.max() <= 6
    assert (d.max(-1) > 0).mean() < 0.03


def test_hue_rejects_out_of_range():
    with pytest.raises(ValueError, match='0.6'):
        F.adjust_hue(np.zeros((2, 2, 3), np.uint8), 0.6)


def test_autocontrast_and_equalize_exact(img):
    pil = Image.fromarray(img)
    assert diff(F.autocontrast(img), ImageOps.autocontrast(pil)).max() == 0
    assert diff(F.equalize(img), ImageOps.equalize(pil)).max() == 0
    # degenerate histograms: a constant image and a two-level image
    flat = np.full((5, 6, 3), 77, np.uint8)
    two = flat.copy()
    two[0, 0] = 200
    for im in (flat, two):
        pil = Image.fromarray(im)
        assert diff(F.autocontrast(im), ImageOps.autocontrast(pil)).max() == 0
        assert diff(F.equalize(im), ImageOps.equalize(pil)).max() == 0


def test_posterize_solarize_invert_exact(img):
    pil = Image.fromarray(img)
    for bits in range(1, 9):
        assert diff(F.posterize(img, bits),
                    ImageOps.posterize(pil, bits)).max() == 0
    for threshold in [256, 231, 128, 26, 0]:
        assert diff(F.solarize(img, threshold),
                    ImageOps.solarize(pil, threshold)).max() == 0
    assert diff(F.invert(img), ImageOps.invert(pil)).max() == 0
    with pytest.raises(ValueError, match='bits'):
        F.posterize(img, 9)


@pytest.mark.parametrize('degrees', [3, -3, 9, -15, 21, -27, 180])
def test_rotate_exact(img, degrees):
    ref = Image.fromarray(img).rotate(degrees)
    assert diff(F.rotate(img, degrees), ref).max() == 0


@pytest.mark.parametrize('shear', [0.03, -0.03, 0.15, -0.21, 0.27])
def test_shear_exact(img, shear):
    pil = Image.fromarray(img)
    assert diff(F.shear_x(img, shear),
                pil.transform(pil.size, Image.AFFINE,
                              (1, shear, 0, 0, 1, 0))).max() == 0
    assert diff(F.shear_y(img, shear),
                pil.transform(pil.size, Image.AFFINE,
                              (1, 0, 0, shear, 1, 0))).max() == 0


def test_affine_without_shear_and_zero_shear(img):
    pil = Image.fromarray(img)
    for coeffs in [(1, 0, 3, 0, 1, -2), (0.5, 0, 1.25, 0, 2, 0.5)]:
        assert diff(F.affine(img, coeffs),
                    pil.transform(pil.size, Image.AFFINE, coeffs)).max() == 0
    assert np.array_equal(F.shear_x(img, 0.0), img)


@pytest.mark.parametrize('shift', [0, 1, -1, 7, -16, 40, -40])
def test_translate_exact(img, shift):
    pil = Image.fromarray(img)
    assert diff(F.translate(img, shift, 0),
                pil.transform(pil.size, Image.AFFINE,
                              (1, 0, shift, 0, 1, 0))).max() == 0
    assert diff(F.translate(img, 0, shift),
                pil.transform(pil.size, Image.AFFINE,
                              (1, 0, 0, 0, 1, shift))).max() == 0


def test_geometric_ops_fill_black(photo):
    bright = np.full_like(photo, 255)
    assert F.rotate(bright, 27)[0, 0].tolist() == [0, 0, 0]
    assert F.shear_x(bright, 0.27)[-1, -1].tolist() == [0, 0, 0]
    assert F.translate(bright, 5, 0)[:, -5:].max() == 0


@pytest.mark.parametrize('sigma', [0.1, 0.2917, 0.8123, 1.37, 1.9])
def test_gaussian_blur_generic_sigma_tolerance(img, sigma):
    # Tolerance: 1 level on under 1 % of the values (float against PIL's
    # fixed-point sums within a hair of .5).
    ref = Image.fromarray(img).filter(ImageFilter.GaussianBlur(sigma))
    d = diff(F.gaussian_blur(img, sigma), ref)
    assert d.max() <= 1 and (d > 0).mean() < 0.01


@pytest.mark.parametrize('sigma', [0.5, 1.0, 2.0])
def test_gaussian_blur_round_sigma_tolerance(img, sigma):
    # Tolerance: at round sigma PIL's 8.24 fixed-point sums hit .5 - 2**-24
    # often; up to 2 levels on up to 15 % of the values.
    ref = Image.fromarray(img).filter(ImageFilter.GaussianBlur(sigma))
    d = diff(F.gaussian_blur(img, sigma), ref)
    assert d.max() <= 2 and (d > 0).mean() <= 0.15


def test_crop_box_fallback_is_torchvision_centre_crop():
    # scale > 1 makes all ten tries fail, so both take the centre fallback.
    for height, width in [(10, 100), (100, 10), (40, 50)]:
        ours = F.sample_crop_box(height, width, (2.0, 3.0), (3 / 4, 4 / 3))
        ref = transforms.RandomResizedCrop.get_params(
            torch.zeros(3, height, width), [2.0, 3.0], [3 / 4, 4 / 3])
        assert ours == tuple(ref)


def test_crop_box_sampling_is_torchvisions(monkeypatch):
    # Feed our sampler torch's random numbers: it must pick the boxes
    # torchvision picks (wide image, so some tries fail).
    def uniform(low, high):
        return torch.empty(1).uniform_(low, high).item()

    def randint(low, high):
        return torch.randint(low, high, size=(1, )).item()

    monkeypatch.setattr(F.np.random, 'uniform', uniform)
    monkeypatch.setattr(F.np.random, 'randint', randint)
    image = torch.zeros(3, 120, 300)
    same = 0
    for seed in range(300):
        for scale in [(0.2, 1.0), (0.086, 0.429)]:
            torch.manual_seed(seed)
            ref = transforms.RandomResizedCrop.get_params(
                image, list(scale), [3 / 4, 4 / 3])
            torch.manual_seed(seed)
            ours = F.sample_crop_box(120, 300, scale, (3 / 4, 4 / 3))
            same += ours == tuple(ref)
    # torchvision draws the aspect ratio in float32, we in float64: a
    # rounding of w or h may rarely differ.
    assert same >= 0.99 * 600


def test_resized_crop_matches_pil_bilinear(photo):
    pil = Image.fromarray(photo)
    # enlarging: within one level of PIL
    box = (3, 5, 30, 40)
    ref = pil.crop((5, 3, 45, 33)).resize((64, 64), Image.BILINEAR)
    ours = F.resized_crop(photo, box, 64)
    assert ours.shape == (64, 64, 3) and diff(ours, ref).max() <= 1
    # shrinking by 2.4x: antialiased like PIL, far closer than plain
    # bilinear sampling
    import cv2
    from skimage import data
    big = np.ascontiguousarray(data.coffee()[:300, :300])
    ref = Image.fromarray(big).resize((125, 125), Image.BILINEAR)
    ours = F.resized_crop(big, (0, 0, 300, 300), 125)
    aliased = cv2.resize(big, (125, 125), interpolation=cv2.INTER_LINEAR)
    assert diff(ours, ref).mean() < 0.7 * diff(aliased, ref).mean()
    assert diff(ours, ref).mean() < 1.5


def test_resized_crop_does_not_copy_the_image(photo, monkeypatch):
    import cv2
    seen = []
    real_resize = cv2.resize

    def spy(src, *args, **kwargs):
        seen.append(src)
        return real_resize(src, *args, **kwargs)

    monkeypatch.setattr(F.cv2, 'resize', spy)
    F.resized_crop(photo, (2, 3, 20, 30), 16)
    assert len(seen) == 1 and np.shares_memory(seen[0], photo)
