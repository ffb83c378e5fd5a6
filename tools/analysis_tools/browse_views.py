"""Show what CLSA trains on: the views of a config's train pipeline.

One row per image: the original, its key ``x_k``, its weak queries
``x_q[i]`` and its strong views ``x_s[j]``, with the StrongAugment ops that
were applied written under each strong view.
"""
import argparse
import os.path as osp

import numpy as np
from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from mmengine.utils import ProgressBar

from clsa_mm.registry import DATASETS
from clsa_mm.utils import load_config
from clsa_mm.visualization import clsa_view_cells, draw_view_grid


def parse_args():
    parser = argparse.ArgumentParser(
        description='Draw the key, weak and strong views of training images')
    parser.add_argument('config', help='CLSA pretraining config')
    parser.add_argument(
        '--num', type=int, default=4, help='number of images (4)')
    parser.add_argument(
        '--output',
        help='PNG to write (default: work_dirs/<config name>/views.png)')
    parser.add_argument(
        '--seed', type=int, default=0,
        help='seed of the image choice and the augmentations (0)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings, key=value (keys must exist in the config)')
    args = parser.parse_args()
    if args.num < 1:
        parser.error('--num must be at least 1')
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'clsa_mm'))
    output = args.output or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0], 'views.png')

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    set_random_seed(args.seed)
    indices = np.random.choice(
        len(dataset), min(args.num, len(dataset)), replace=False)
    print_log(f'Augmenting {len(indices)} of the {len(dataset)} images of '
              f'{args.config}', logger='current')
    rows = []
    progress = ProgressBar(len(indices))
    for idx in indices:
        rows.append(
            clsa_view_cells(dataset.pipeline.transforms,
                            dataset.get_data_info(int(idx))))
        progress.update()
    draw_view_grid(rows, output, title=osp.basename(args.config))
    print_log(f'Wrote the views of {len(rows)} images to {output}',
              logger='current')


if __name__ == '__main__':
    main()
