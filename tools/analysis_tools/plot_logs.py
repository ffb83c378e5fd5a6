"""Plot the training curves of a work dir from MMEngine's JSON scalar logs.

Reads every ``<work_dir>/<timestamp>/vis_data/scalars.json`` (a resumed run
continues the curves of the run it resumed) and draws the losses
(``loss_contrastive``, ``loss_ddm``, ...), the learning rate, every other
logged training scalar (the queue statistics of ``MomentumQueueHook``, the
online probe's loss and batch top-1) and the validation metrics (the online
probe's and the k-NN monitor's top-1 in one panel) into one PNG.
"""
import argparse
import os.path as osp

from mmengine.logging import print_log

from clsa_mm.visualization import load_scalar_logs, plot_training_curves


def parse_args():
    parser = argparse.ArgumentParser(
        description='Plot loss, lr and queue statistics curves of a run')
    parser.add_argument('work_dir', help='work dir of the training run(s)')
    parser.add_argument(
        '--out',
        help='output PNG (default: WORK_DIR/training_curves.png)')
    parser.add_argument(
        '--keys', nargs='+', help='plot only these scalars (default: all)')
    parser.add_argument('--title', help='figure title (default: WORK_DIR)')
    return parser.parse_args()


def main():
    args = parse_args()
    out = args.out or osp.join(args.work_dir, 'training_curves.png')
    train, val = load_scalar_logs(args.work_dir)
    print_log(
        f'Read {len(train)} training and {len(val)} validation log records '
        f'from {args.work_dir}', logger='current')
    panels = plot_training_curves(
        train, val, out, keys=args.keys,
        title=args.title or osp.basename(osp.normpath(args.work_dir)))
    print_log(f'Plotted {", ".join(panels)} to {out}', logger='current')


if __name__ == '__main__':
    main()
