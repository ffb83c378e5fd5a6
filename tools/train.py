"""Train a model (CLSA pretraining, linear probe, detection) from a config."""
import argparse

import torch

from clsa_mm.apis import (build_runner, destroy_process_group,
                          parse_runner_args)
from clsa_mm.utils import load_config, set_work_dir


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a path, from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (bf16 where supported)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual batch size over '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training')
    return parse_runner_args(parser)


def merge_args(cfg, args):
    """Merge the other command line arguments into the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    set_work_dir(cfg, args.config, args.work_dir)
    if args.amp:
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU: MMEngine\'s AmpOptimWrapper '
                             'refuses to run on the CPU.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        if not torch.cuda.is_bf16_supported():
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')  # fp16
        else:
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError(f'--auto-scale-lr: {args.config} has no '
                           'auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(load_config(args.config, args.cfg_options), args)
    build_runner(cfg).train()
    destroy_process_group()


if __name__ == '__main__':
    main()
