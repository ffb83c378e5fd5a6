"""Samples per second per CPU core of CLSA's view generation, ours against
the released code's torchvision/PIL style (clsa_mm/apis/pipeline_benchmark.py).

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

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from clsa_mm.apis.pipeline_benchmark import (SETTINGS, build_ours,  # noqa
                                             compare_pipelines, load_image)


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
