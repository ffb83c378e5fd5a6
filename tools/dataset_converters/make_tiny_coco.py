"""Write a tiny COCO-format instance segmentation data set.

Images of random polygons (rectangles, triangles, octagons as the COCO
categories person, bicycle, car) with ``instances_{train,val}.json``: enough
for the Mask R-CNN transfer configs to train and compute bbox/segm mAP in
seconds (``configs/benchmarks/mmdetection/tiny_coco``).
"""
from tiny_dataset_args import parse_args

from clsa_mm.testing import make_tiny_coco


def main():
    args = parse_args('Make a tiny COCO-format data set', 'data/tiny_coco',
                      'output folder', dict(train=8, val=4))
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
