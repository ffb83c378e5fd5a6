"""Write a tiny PASCAL VOC-format data set (a VOCdevkit folder).

Images of random polygons (rectangles, triangles, octagons as the VOC classes
aeroplane, bicycle, bird) with XML annotations and ImageSets for VOC2007
(train/val/trainval/test) and VOC2012 (train/val/trainval): enough for the
VOC detection and classification configs to train and compute mAP in
seconds (``configs/benchmarks/mmdetection/tiny_voc``).
"""
from tiny_dataset_args import parse_args

from clsa_mm.testing import make_tiny_voc


def main():
    args = parse_args('Make a tiny PASCAL VOC-format data set',
                      'data/tiny_voc/VOCdevkit',
                      'output folder (the VOCdevkit)',
                      dict(train=8, val=4, test=4))
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
