"""Print the ``--cfg-options`` that load a pretrained encoder into a config.

Used by ``tools/benchmarks/linear_eval.sh`` and
``tools/benchmarks/mmdetection/train_det.sh``: checks that PRETRAIN is a
clsa_mm checkpoint or an exported backbone (a clear error otherwise) and
prints, one per line, ``KEY=VALUE`` for every module of CONFIG's model whose
``init_cfg`` is ``Pretrained`` (``prefix='backbone.'`` only for a clsa_mm
checkpoint).
"""
import argparse
import os.path as osp

from mmengine.config import Config

from clsa_mm.evaluation import pretrained_cfg_options


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
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'Config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    for key, value in pretrained_cfg_options(cfg, args.pretrain).items():
        print(f'{key}={value}')


if __name__ == '__main__':
    main()
