"""Print the ``--cfg-options`` that load a pretrained encoder into a config.

Used by ``tools/benchmarks/linear_eval.sh``, ``slurm_linear_eval.sh`` and
``tools/benchmarks/mmdetection/{,slurm_}train_det.sh`` before they launch
anything: checks that PRETRAIN is a clsa_mm checkpoint or an exported backbone
and that it fits every module of CONFIG's model whose ``init_cfg`` is
``Pretrained`` (a clear error and exit status 1 otherwise), and prints, one per
line, ``KEY=VALUE`` for each of those modules (``prefix='backbone.'`` only for
a clsa_mm checkpoint).
"""
import argparse
import contextlib
import pickle
import sys

from clsa_mm.checkpoint import pretrained_cfg_options
from clsa_mm.utils import load_config


def parse_args():
    parser = argparse.ArgumentParser(
        description='Print --cfg-options that initialise the encoder of '
        'CONFIG from PRETRAIN')
    parser.add_argument('config', help='benchmark config')
    parser.add_argument(
        'pretrain', help='clsa_mm checkpoint or exported backbone')
    return parser.parse_args()


def main():
    args = parse_args()
    # stdout carries only the options: the shell scripts read them.
    with contextlib.redirect_stdout(sys.stderr):
        cfg = load_config(args.config)
        try:
            options = pretrained_cfg_options(cfg, args.pretrain)
        except (OSError, RuntimeError, ValueError,
                pickle.UnpicklingError) as e:
            raise SystemExit(f'error: {e}') from None
    for key, value in options.items():
        print(f'{key}={value}')


if __name__ == '__main__':
    main()
