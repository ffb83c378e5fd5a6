"""Plot the training curves of a work dir from MMEngine's JSON scalar logs.

Reads every ``<work_dir>/<timestamp>/vis_data/scalars.json`` (a resumed run
continues the curves of the run it resumed) and draws the losses
(``loss_contrastive``, ``loss_ddm``, ...), the learning rate, every other
logged training scalar (the queue statistics of ``MomentumQueueHook``, the
online probe's loss and batch top-1) and the validation metrics (the online
probe's and the k-NN monitor's top-1 in one panel) into one PNG. Given
several work dirs (``--labels`` names them), it draws their curves side by
side, one column per run.
"""
import argparse
import os.path as osp

from mmengine.logging import print_log

from clsa_mm.visualization import (load_scalar_logs, plot_runs_side_by_side,
                                   plot_training_curves)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Plot loss, lr and queue statistics curves of a run')
    parser.add_argument(
        'work_dirs', nargs='+', metavar='WORK_DIR',
        help='work dir of the training run(s); several: side by side')
    parser.add_argument(
        '--labels', nargs='+',
        help='the name of each WORK_DIR (default: its folder name)')
    parser.add_argument(
        '--out',
        help='output PNG (default: the first WORK_DIR/training_curves.png)')
    parser.add_argument(
        '--keys', nargs='+', help='plot only these scalars (default: all)')
    parser.add_argument('--title', help='figure title (default: WORK_DIR)')
    return parser.parse_args()


def main():
    args = parse_args()
    labels = args.labels or [
        osp.basename(osp.normpath(d)) for d in args.work_dirs]
    if len(labels) != len(args.work_dirs):
        raise SystemExit(f'--labels: {len(labels)} labels for '
                         f'{len(args.work_dirs)} work dirs; give one each')
    out = args.out or osp.join(args.work_dirs[0], 'training_curves.png')
    runs = []
    for label, work_dir in zip(labels, args.work_dirs):
        train, val = load_scalar_logs(work_dir)
        print_log(
            f'Read {len(train)} training and {len(val)} validation log '
            f'records from {work_dir}', logger='current')
        runs.append((label, train, val))
    if len(runs) == 1:
        panels = plot_training_curves(
            *runs[0][1:], out, keys=args.keys,
            title=args.title or labels[0])
    else:
        panels = plot_runs_side_by_side(
            runs, out, keys=args.keys, title=args.title)
    print_log(f'Plotted {", ".join(panels)} to {out}', logger='current')


if __name__ == '__main__':
    main()
