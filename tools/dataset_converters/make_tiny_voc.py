"""Write a tiny PASCAL VOC-format data set (a VOCdevkit folder).

Images of random polygons (rectangles, triangles, octagons as the VOC classes
aeroplane, bicycle, bird) with XML annotations and ImageSets for VOC2007
(train/val/trainval/test) and VOC2012 (train/val/trainval): enough for the
VOC detection and classification configs to train and compute mAP in
seconds (``configs/benchmarks/mmdetection/tiny_voc``).
"""
import argparse
import os
import os.path as osp

from clsa_mm.testing import make_tiny_voc


def parse_args():
    parser = argparse.ArgumentParser(
        description='Make a tiny PASCAL VOC-format data set')
    parser.add_argument(
        'out', nargs='?', default='data/tiny_voc/VOCdevkit',
        help='output folder (the VOCdevkit)')
    parser.add_argument('--num-train', type=int, default=8)
    parser.add_argument('--num-val', type=int, default=4)
    parser.add_argument('--num-test', type=int, default=4)
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(128, 96),
        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force',
        action='store_true',
        help='write into OUT even if it is not empty')
    return parser.parse_args()


def main():
    args = parse_args()
    if osp.isdir(args.out) and os.listdir(args.out) and not args.force:
        raise FileExistsError(f'{args.out} is not empty; pass --force to '
                              'write the data set into it anyway')
    make_tiny_voc(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        num_test=args.num_test,
        image_size=tuple(args.size),
        seed=args.seed)
    print(f'Wrote VOC2007 ({args.num_train} train, {args.num_val} val, '
          f'{args.num_test} test images) and VOC2012 ({args.num_train} '
          f'train, {args.num_val} val) to {args.out}')


if __name__ == '__main__':
    main()
