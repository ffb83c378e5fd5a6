import numpy as np
import pytest
import torchvision.transforms.functional as TF
from PIL import Image, ImageFilter

from clsa_mm.datasets.transforms import WeakAugment

ONLY = dict(jitter_prob=0.0, grayscale_prob=0.0, blur_prob=0.0, flip_prob=0.0)


def only(**kwargs):
    return WeakAugment(**{**ONLY, **kwargs})


def test_color_jitter_is_torchvisions_on_pil(photo):
    # Replay the draws: random order of the four adjustments, then the
    # factors; torchvision's functional ops on the PIL image in that order.
    # Tolerance: that of adjust_hue (3 % of the pixels, 6 levels), which a
    # later contrast or saturation factor of up to 1.4 can amplify (to 12).
    jitter = only(jitter_prob=1.0)
    adjust = [TF.adjust_brightness, TF.adjust_contrast,
              TF.adjust_saturation, TF.adjust_hue]
    negative_hue = 0
    for seed in range(10):
        np.random.seed(seed)
        ours = jitter.augment(photo)
        np.random.seed(seed)
        np.random.rand()  # the jitter_prob draw
        order = np.random.permutation(4)
        factors = [np.random.uniform(0.6, 1.4) for _ in range(3)]
        factors.append(np.random.uniform(-0.1, 0.1))
        negative_hue += factors[3] < 0
        ref = Image.fromarray(photo)
        for i in order:
            ref = adjust[i](ref, factors[i])
        d = np.abs(ours.astype(int) - np.asarray(ref).astype(int))
        assert d.max() <= 12 and (d.max(-1) > 0).mean() < 0.03
    assert negative_hue > 0


def test_zero_jitter_skips_the_adjustment(photo):
    # like torchvision, hue=0 skips the hue conversion (which is lossy)
    jitter = only(jitter_prob=1.0, brightness=0, contrast=0, saturation=0,
                  hue=0)
    assert np.array_equal(jitter.augment(photo), photo)


def test_grayscale_blur_flip(photo):
    gray = only(grayscale_prob=1.0).augment(photo)
    ref = np.asarray(Image.fromarray(photo).convert('L'))
    assert gray.shape == photo.shape
    for c in range(3):
        assert np.array_equal(gray[..., c], ref)
    assert np.array_equal(only(flip_prob=1.0).augment(photo), photo[:, ::-1])
    np.random.seed(3)
    blurred = only(blur_prob=1.0).augment(photo)
    np.random.seed(3)
    np.random.rand(), np.random.rand(), np.random.rand()
    sigma = np.random.uniform(0.1, 2.0)
    ref = Image.fromarray(photo).filter(ImageFilter.GaussianBlur(sigma))
    d = np.abs(blurred.astype(int) - np.asarray(ref).astype(int))
    assert d.max() <= 1 and (d > 0).mean() < 0.01


def test_probabilities(monkeypatch):
    # 2000 tiny images, one operation at a time: frequency within 4 binomial
    # std (p=0.8: 0.036, p=0.5: 0.045, p=0.2: 0.036).
    from clsa_mm.datasets.transforms import weak_augment
    calls = []
    real_blur = weak_augment.F.gaussian_blur
    monkeypatch.setattr(weak_augment.F, 'gaussian_blur',
                        lambda img, sigma: calls.append(sigma) or
                        real_blur(img, sigma))
    monkeypatch.setattr(WeakAugment, 'color_jitter',
                        lambda self, img: calls.append('jitter') or img)
    np.random.seed(0)
    img = np.random.randint(0, 256, (6, 6, 3), np.uint8)
    checks = [
        (only(jitter_prob=0.8), 0.8, lambda out: calls.pop() == 'jitter'
         if calls else False),
        (only(grayscale_prob=0.2), 0.2,
         lambda out: np.array_equal(out[..., 0], out[..., 1])),
        (only(blur_prob=0.5), 0.5, lambda out: bool(calls and calls.pop())),
        (only(flip_prob=0.5), 0.5,
         lambda out: np.array_equal(out, img[:, ::-1])),
    ]
    for augment, prob, applied in checks:
        rate = np.mean([applied(augment.augment(img)) for _ in range(2000)])
        assert abs(rate - prob) < 4 * np.sqrt(prob * (1 - prob) / 2000)
        assert not calls


@pytest.mark.parametrize('kwargs,message', [
    (dict(hue=0.6), 'hue'),
    (dict(brightness=-0.1), 'brightness'),
    (dict(blur_sigma=(0, 1)), 'blur_sigma'),
    (dict(flip_prob=2), 'flip_prob'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WeakAugment(**kwargs)
