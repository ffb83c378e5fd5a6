"""The CLSA demo (``make demo``): pretrain CLSA and MoCo v2 (the same
recipe without the strong views and DDM) on the demo data, then compare
both backbones with each other and with a random one (the steps:
demo_steps.py next to it).

Prints one line per step with its time (a progress bar on a terminal) and
the table; the full output of every step goes to
``WORK_DIR/seed_<SEED>/logs/``.
"""
import argparse
import os
import os.path as osp
import warnings

# A quiet first run: not the deprecation notice of MMEngine's imports.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from demo_steps import Demo  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(
        description='Pretrain CLSA and MoCo v2 on the demo data and compare '
        'their backbones with a random one (linear probe and k-NN top-1)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/demo',
        help='parent of the run folder seed_<SEED> (work_dirs/demo)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='smoke run: the configs shrunk by clsa_mm.utils.QUICK_RECIPE '
        '(3 photographs, 32-pixel patches, 1 epoch each); data, shrunk '
        'configs and results in '
        'WORK_DIR/quick_seed_<SEED>')
    return parser.parse_args()


def main():
    args = parse_args()
    os.chdir(REPO)
    if args.quick:
        work_dir = osp.join(args.work_dir, f'quick_seed_{args.seed}')
        data_root = osp.join(work_dir, 'data')
    else:
        work_dir = osp.join(args.work_dir, f'seed_{args.seed}')
        data_root = None
    demo = Demo(REPO, args.seed, work_dir, data_root=data_root,
                quick=args.quick)
    summary = demo.run()
    print('\n' + summary)
    print(f'\nLogs, checkpoints and pictures: {demo.work_dir}/ '
          f'(the output of every step in {demo.path("logs")}/)')


if __name__ == '__main__':
    main()
