"""Make the ImageNet-style demo data set (clsa_mm/datasets/demo_data.py)."""
import argparse

from mmengine.logging import print_log

from clsa_mm.datasets.demo_data import ALL_PHOTOS, DEFAULTS, make_demo_data


def parse_args():
    parser = argparse.ArgumentParser(
        description='Make the ImageNet-style demo data set from the '
        'photographs shipped with scikit-image and scikit-learn')
    parser.add_argument(
        '--out', default='data/demo', help='output folder (data/demo)')
    parser.add_argument(
        '--photos',
        nargs='+',
        default=ALL_PHOTOS,
        choices=ALL_PHOTOS,
        metavar='PHOTO',
        help='photographs to use, one class each (default: all '
        f'{len(ALL_PHOTOS)}: {" ".join(ALL_PHOTOS)})')
    parser.add_argument(
        '--train-per-class', type=int, default=DEFAULTS['train_per_class'],
        help='training patches per photograph')
    parser.add_argument(
        '--val-per-class', type=int, default=DEFAULTS['val_per_class'],
        help='validation patches per photograph')
    parser.add_argument(
        '--size', type=int, default=DEFAULTS['size'],
        help='side of the saved patches')
    parser.add_argument(
        '--scale',
        type=float,
        nargs=2,
        default=DEFAULTS['scale'],
        metavar=('MIN', 'MAX'),
        help='patch side as a fraction of the shorter photograph side')
    parser.add_argument(
        '--val-cells', type=float, default=DEFAULTS['val_cells'],
        help='fraction of the grid cells of a photograph that validation '
        'patches come from (training patches avoid them)')
    parser.add_argument(
        '--lighting',
        type=float,
        default=DEFAULTS['lighting'],
        help='per-patch lighting change: brightness, contrast and saturation '
        'factors uniform in [1 - L, 1 + L], hue shift in [-L/4, L/4] turns, '
        'as if each patch were photographed under other light')
    parser.add_argument(
        '--color',
        action='store_true',
        help='keep the colours of the colour photographs (by default all '
        'are grey, so that colour statistics alone cannot tell the '
        'photographs apart)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing demo folder made with other settings')
    return parser.parse_args()


def main():
    args = parse_args()
    settings = dict(
        photos=args.photos, train_per_class=args.train_per_class,
        val_per_class=args.val_per_class, size=args.size, scale=args.scale,
        val_cells=args.val_cells, lighting=args.lighting, color=args.color,
        seed=args.seed)
    try:
        counts = make_demo_data(args.out, overwrite=args.overwrite,
                                progress=True, **settings)
    except (FileExistsError, ValueError) as e:
        raise SystemExit(f'make_demo_data.py: error: {e}') from None
    if counts is None:
        print_log(f'{args.out} already holds the demo data with these '
                  'settings; reusing it.', logger='current')
    else:
        print_log(
            f'Wrote {counts["train"]} training and {counts["val"]} '
            f'validation patches of {len(args.photos)} classes to '
            f'{args.out}', logger='current')


if __name__ == '__main__':
    main()
