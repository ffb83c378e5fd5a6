"""Write a tiny COCO-format instance segmentation data set.

Images of random polygons (rectangles, triangles, octagons as the COCO
categories person, bicycle, car) with ``instances_{train,val}.json``: enough
for the Mask R-CNN transfer configs to train and compute bbox/segm mAP in
seconds (``configs/benchmarks/mmdetection/tiny_coco``).
"""
import argparse
import os
import os.path as osp

from clsa_mm.testing import make_tiny_coco


def parse_args():
    parser = argparse.ArgumentParser(
        description='Make a tiny COCO-format data set')
    parser.add_argument(
        'out', nargs='?', default='data/tiny_coco', help='output folder')
    parser.add_argument('--num-train', type=int, default=8)
    parser.add_argument('--num-val', type=int, default=4)
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
    make_tiny_coco(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        image_size=tuple(args.size),
        seed=args.seed)
    print(f'Wrote {args.num_train} train and {args.num_val} val images to '
          f'{args.out}')


if __name__ == '__main__':
    main()
