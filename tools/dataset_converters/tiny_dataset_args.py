"""The command line of make_tiny_coco.py and make_tiny_voc.py."""
import argparse
import os
import os.path as osp


def parse_args(description, out, out_help, splits):
    """Parse a tiny data set tool's arguments; refuse a non-empty OUT.

    Args:
        description (str): What the tool makes.
        out (str): Default output folder.
        out_help (str): Help of the output folder argument.
        splits (dict[str, int]): ``--num-<split>`` options and their
            defaults, in order.

    Returns:
        argparse.Namespace: ``out``, ``num_<split>``, ``size``, ``seed``
        and ``force``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('out', nargs='?', default=out, help=out_help)
    for split, default in splits.items():
        parser.add_argument(f'--num-{split}', type=int, default=default)
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
    args = parser.parse_args()
    if osp.isdir(args.out) and os.listdir(args.out) and not args.force:
        raise FileExistsError(f'{args.out} is not empty; pass --force to '
                              'write the data set into it anyway')
    return args
