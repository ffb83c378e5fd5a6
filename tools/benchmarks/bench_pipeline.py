"""Samples per second per CPU core of CLSA's view generation.

Two implementations that produce the same views as CHW uint8 tensors are
timed on one decoded image:

* ours: ``CLSAViews`` (OpenCV/numpy) + mmpretrain's ``PackInputs``
  conversion;
* baseline: the authors' released code's style, torchvision transforms on
  PIL images (RandomResizedCrop, ColorJitter, RandomGrayscale, PIL
  GaussianBlur, flip) and the PIL RandAugment of the released code (the
  FixMatch op pool), ending in ``PILToTensor``.

Settings: single-crop (key 224, weak 224, strong 96) and multi-crop (key
224, 5 weak + 5 strong at 224/192/160/128/96).

Run: ``python tools/benchmarks/bench_pipeline.py [--samples 200]
[--repeat 3] [--image PATH]``.
"""
import os

for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ[_var] = '1'

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import PIL.ImageEnhance  # noqa: E402
import PIL.ImageOps  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

SIZES = (224, 192, 160, 128, 96)
SCALES = ((0.2, 1.0), (0.172, 0.86), (0.143, 0.715), (0.114, 0.571),
          (0.086, 0.429))
SETTINGS = {
    # name: (weak view indices, strong view indices) into SIZES/SCALES
    'single-crop': ((0, ), (4, )),
    'multi-crop': ((0, 1, 2, 3, 4), (0, 1, 2, 3, 4)),
}


def load_image(path=None):
    """An RGB ``uint8`` image: ``path``, or the coffee photograph at 500x375.

    Without scikit-image, a smooth procedural 500x375 image with edges.
    """
    if path:
        with Image.open(path) as img:
            return np.array(img.convert('RGB'))
    try:
        from skimage import data
        return np.ascontiguousarray(data.coffee()[12:387, 50:550])
    except ImportError:
        y, x = np.mgrid[0:375, 0:500].astype(np.float32)
        img = np.stack([
            128 + 100 * np.sin(x / 23), 128 + 100 * np.cos(y / 17),
            (x + y) % 256
        ], -1)
        return img.astype(np.uint8)


# ---------------------------------------------------------------------------
# Baseline: the released code's transforms (moco.loader.GaussianBlur and
# data_processing/RandAugment.py, FixMatch pool) on PIL images.


def pil_gaussian_blur(sigma=(0.1, 2.0)):
    """MoCo v2's PIL blur with a radius drawn from ``sigma``."""
    return lambda img: img.filter(
        ImageFilter.GaussianBlur(radius=random.uniform(*sigma)))


def _enhance(cls):
    return lambda img, v: cls(img).enhance(v * 0.9 / 10 + 0.05)


def _signed(v):
    return -v if random.random() < 0.5 else v


def _affine(img, coeffs):
    return img.transform(img.size, Image.AFFINE, coeffs)


RAND_AUGMENT_POOL = [
    lambda img, v: PIL.ImageOps.autocontrast(img),
    _enhance(PIL.ImageEnhance.Brightness),
    _enhance(PIL.ImageEnhance.Color),
    _enhance(PIL.ImageEnhance.Contrast),
    lambda img, v: PIL.ImageOps.equalize(img),
    lambda img, v: img,
    lambda img, v: PIL.ImageOps.posterize(img, int(v * 4 / 10) + 4),
    lambda img, v: img.rotate(_signed(int(v * 30 / 10))),
    _enhance(PIL.ImageEnhance.Sharpness),
    lambda img, v: _affine(img, (1, _signed(v * 0.3 / 10), 0, 0, 1, 0)),
    lambda img, v: _affine(img, (1, 0, 0, _signed(v * 0.3 / 10), 1, 0)),
    lambda img, v: PIL.ImageOps.solarize(img, 256 - int(v * 256 / 10)),
    lambda img, v: _affine(
        img, (1, 0, int(_signed(v * 0.3 / 10) * img.size[0]), 0, 1, 0)),
    lambda img, v: _affine(
        img, (1, 0, 0, 0, 1, int(_signed(v * 0.3 / 10) * img.size[1]))),
]


def pil_rand_augment(n=5, m=10):
    """The released RandAugment: ``n`` ops of the pool, each with p=0.5."""

    def augment(img):
        for op in random.choices(RAND_AUGMENT_POOL, k=n):
            v = np.random.randint(1, m)
            if random.random() < 0.5:
                img = op(img, v)
        return img

    return augment


def baseline_view(size, scale, strong):
    """One view of the released code: torchvision on a PIL image."""
    from torchvision import transforms
    steps = [
        transforms.RandomResizedCrop(size, scale=scale),
        transforms.RandomApply([transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)],
                               p=0.8),
        transforms.RandomGrayscale(p=0.2),
        transforms.RandomApply([pil_gaussian_blur()], p=0.5),
        transforms.RandomHorizontalFlip(),
    ]
    if strong:
        steps.append(pil_rand_augment())
    steps.append(transforms.PILToTensor())
    return transforms.Compose(steps)


def build_baseline(weak, strong):
    """All views of a setting, baseline style: PIL image -> list of CHW."""
    views = [baseline_view(224, (0.2, 1.0), strong=False)]
    views += [baseline_view(SIZES[i], SCALES[i], strong=False) for i in weak]
    views += [baseline_view(SIZES[i], SCALES[i], strong=True) for i in strong]
    return lambda img: [view(img) for view in views]


def build_ours(weak, strong):
    """All views of a setting with ``CLSAViews``: array -> list of CHW."""
    from mmpretrain.datasets.transforms import PackInputs

    from clsa_mm.registry import TRANSFORMS
    from clsa_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    views = TRANSFORMS.build(
        dict(
            type='CLSAViews',
            key_view=dict(size=224, scale=(0.2, 1.0)),
            weak_views=[dict(size=SIZES[i], scale=SCALES[i]) for i in weak],
            strong_views=[
                dict(size=SIZES[i], scale=SCALES[i]) for i in strong
            ],
            weak_augment=dict(type='WeakAugment'),
            strong_augment=dict(type='StrongAugment')))

    def run(img):
        results = views.transform(dict(img=img))
        return PackInputs.format_input(results['img'])

    return run


def samples_per_second(fn, img, warmup, samples):
    """Samples per CPU second of ``fn(img)`` in this process."""
    for _ in range(warmup):
        fn(img)
    # CPU time of this single-threaded process: samples per core, and
    # unaffected by other processes waiting for the same cores.
    start = time.process_time()
    for _ in range(samples):
        fn(img)
    return samples / (time.process_time() - start)


def compare_pipelines(img, samples=200, warmup=20, repeat=3,
                      settings=tuple(SETTINGS)):
    """Median samples/s of ours and of the baseline per setting.

    Args:
        img (np.ndarray): RGB ``uint8`` image.
        samples (int): Timed samples per run.
        warmup (int): Untimed samples per run.
        repeat (int): Runs per implementation; the median is kept.
        settings (Sequence[str]): Keys of :data:`SETTINGS`.

    Returns:
        dict: ``{setting: (ours, baseline)}`` samples per second.
    """
    pil_img = Image.fromarray(img)
    rates = {}
    for name in settings:
        ours = build_ours(*SETTINGS[name])
        baseline = build_baseline(*SETTINGS[name])
        ours_rates, baseline_rates = [], []
        for _ in range(repeat):
            ours_rates.append(samples_per_second(ours, img, warmup, samples))
            baseline_rates.append(
                samples_per_second(baseline, pil_img, warmup, samples))
        rates[name] = (statistics.median(ours_rates),
                       statistics.median(baseline_rates))
    return rates


def parse_args():
    parser = argparse.ArgumentParser(
        description='Samples/s per core of CLSA view generation: ours '
        '(OpenCV) against a torchvision/PIL baseline')
    parser.add_argument(
        '--samples', type=int, default=200, help='timed samples per run')
    parser.add_argument(
        '--warmup', type=int, default=20, help='untimed samples per run')
    parser.add_argument(
        '--repeat', type=int, default=3, help='runs; the median is shown')
    parser.add_argument(
        '--image', help='image file to use instead of the coffee photo')
    parser.add_argument(
        '--profile',
        choices=sorted(SETTINGS),
        help='print a cProfile of ours for this setting instead')
    args = parser.parse_args()
    if args.samples < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error('--samples and --repeat must be >= 1, --warmup >= 0')
    return args


def main():
    args = parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    np.random.seed(0)
    random.seed(0)
    torch.manual_seed(0)
    img = load_image(args.image)

    if args.profile:
        ours = build_ours(*SETTINGS[args.profile])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.samples):
            ours(img)
        profiler.disable()
        pstats.Stats(profiler).sort_stats('tottime').print_stats(25)
        return

    print(f'image {img.shape[1]}x{img.shape[0]}, 1 thread, '
          f'{args.samples} samples per run after {args.warmup} warm-up, '
          f'median of {args.repeat} runs')
    print(f'{"setting":12s} {"ours/s":>9s} {"baseline/s":>11s} {"ratio":>6s}')
    rates = compare_pipelines(img, args.samples, args.warmup, args.repeat)
    for name, (ours, baseline) in rates.items():
        print(f'{name:12s} {ours:9.1f} {baseline:11.1f} '
              f'{ours / baseline:5.2f}x')


if __name__ == '__main__':
    main()
