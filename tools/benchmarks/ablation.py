"""The ablation benchmark (ablation_runs.py next to it, docs/ablation.md):
MoCo v2, naive strong views, CLSA with three betas, and MoCo v3, SimCLR and
BYOL without DDM and with DDM at beta 1 and at the balanced beta, pretrained
on the demo data with one shrunk recipe and several seeds, scored by linear
probe and k-NN top-1.

Prints one line per finished (row, seed) run with an ETA, then the table
and each row's paired difference to its base method's row.
Writes WORK_DIR/results.{json,md,png}; every run keeps its own folder in
WORK_DIR/runs/<row>/seed_<seed>/. Running the same command again skips
finished runs and resumes an interrupted pretraining.
"""
import argparse
import os
import os.path as osp
import shlex
import sys
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

from ablation_runs import ROW_NAMES, Ablation  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(
        description='CLSA against its base methods at equal budget on the '
        'demo data (linear probe and k-NN top-1, mean ± std over seeds)')
    parser.add_argument(
        '--work-dir', default='work_dirs/ablation',
        help='output folder (work_dirs/ablation)')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2],
        help='seeds of every row (0 1 2)')
    parser.add_argument(
        '--rows', nargs='+', default=list(ROW_NAMES), choices=ROW_NAMES,
        metavar='ROW', help=f'rows to run, of {", ".join(ROW_NAMES)} (all)')
    parser.add_argument(
        '--quick', action='store_true',
        help='smoke run: one seed, the quick demo data, 1 epoch, batch 4')
    return parser.parse_args()


def main():
    args = parse_args()
    command = ' '.join(
        shlex.quote(a)
        for a in ['python', 'tools/benchmarks/ablation.py', *sys.argv[1:]])
    os.chdir(REPO)
    seeds = args.seeds[:1] if args.quick else args.seeds
    Ablation(REPO, args.work_dir, rows=args.rows, seeds=seeds,
             quick=args.quick, command=command).run()


if __name__ == '__main__':
    main()
