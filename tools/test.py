"""Evaluate a checkpoint with the test loop of a config."""
import argparse
import os.path as osp

from mmengine.fileio import dump

from clsa_mm.apis import (build_runner, destroy_process_group,
                          parse_runner_args)
from clsa_mm.utils import load_config, set_work_dir


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--out', help='also write the metrics to this .json/.yaml/.pkl file')
    return parse_runner_args(parser)


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'File not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    set_work_dir(cfg, args.config, args.work_dir)
    metrics = build_runner(cfg).test()
    destroy_process_group()
    if args.out:
        dump(metrics, args.out)


if __name__ == '__main__':
    main()
