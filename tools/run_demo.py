"""The CLSA demo: pretrain on the embedded photographs, then evaluate.

1. make the demo data (``tools/dataset_converters/make_demo_data.py``),
2. pretrain CLSA with a ResNet-18 (``configs/demo/clsa_r18_demo.py``),
3. extract its backbone and make a randomly initialised one for comparison,
4. linear probe and k-NN of both backbones on the demo val split,
5. draw the training curves and the augmented views,
6. print (and save) the table of top-1 accuracies.

Everything goes to ``WORK_DIR/seed_<SEED>``. Running the demo again reuses
what is complete: an interrupted pretraining resumes from its last
checkpoint, finished steps are repeated only with ``--redo``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger, print_log
from mmengine.registry import init_default_scope

from clsa_mm.evaluation import save_checkpoint
from clsa_mm.registry import MODELS
from clsa_mm.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN_CONFIG = 'configs/demo/clsa_r18_demo.py'
LINEAR_CONFIG = 'configs/demo/r18_linear_demo.py'
DATA_ROOT = 'data/demo'


def parse_args():
    parser = argparse.ArgumentParser(
        description='Pretrain CLSA on the demo data and compare its backbone '
        'with a random one (linear probe and k-NN top-1)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/demo',
        help='parent of the run folder seed_<SEED> (work_dirs/demo)')
    parser.add_argument(
        '--redo',
        action='store_true',
        help='repeat the evaluation steps even if their results exist')
    return parser.parse_args()


class Demo:
    """Runs the steps, each a tool in a subprocess, and times them.

    Args:
        seed (int): Random seed of pretraining, probe and random backbone.
        work_dir (str): Folder of this run.
        redo (bool): Repeat finished evaluation steps.
    """

    num_steps = 8

    def __init__(self, seed, work_dir, redo):
        self.seed = seed
        self.work_dir = work_dir
        self.redo = redo
        self.step = 0
        self.times = {}

    def announce(self, title):
        self.step += 1
        self.title = title
        self.started = time.monotonic()
        print_log(f'[{self.step}/{self.num_steps}] {title}', logger='current')

    def done(self):
        seconds = time.monotonic() - self.started
        self.times[self.title] = seconds
        print_log(f'[{self.step}/{self.num_steps}] done in {seconds:.0f} s',
                  logger='current')

    def run(self, *cmd, **env):
        """Run a tool (``.py`` with this Python, ``.sh`` with bash)."""
        cmd = [sys.executable if cmd[0].endswith('.py') else 'bash', *cmd]
        full_env = dict(os.environ, PYTHON=sys.executable, **env)
        proc = subprocess.run(cmd, cwd=REPO, env=full_env)
        if proc.returncode != 0:
            raise SystemExit(f'run_demo.py: step {self.step} '
                             f'({self.title}) failed: {" ".join(cmd)} '
                             f'exited with {proc.returncode}')

    def path(self, *parts):
        return osp.join(self.work_dir, *parts)

    def pretrain(self):
        work_dir = self.path('pretrain')
        resume = ['--resume'] if osp.isfile(
            osp.join(work_dir, 'last_checkpoint')) else []
        if resume:
            print_log(f'Resuming (or reusing) the pretraining in {work_dir}',
                      logger='current')
        self.run('tools/train.py', PRETRAIN_CONFIG, '--work-dir', work_dir,
                 *resume, '--cfg-options', f'randomness.seed={self.seed}')
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            return f.read().strip()

    def make_random_backbone(self, out):
        """Save the backbone of the probe config, randomly initialised."""
        register_all_modules(init_default_scope=False)
        cfg = Config.fromfile(osp.join(REPO, LINEAR_CONFIG))
        init_default_scope(cfg.get('default_scope', 'clsa_mm'))
        backbone_cfg = cfg.model.backbone.copy()
        backbone_cfg.pop('init_cfg', None)
        torch.manual_seed(self.seed)
        backbone = MODELS.build(backbone_cfg)
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel('WARNING')  # not the init line of every tensor
        try:
            backbone.init_weights()
        finally:
            logger.setLevel(level)
        save_checkpoint(
            dict(
                state_dict=backbone.state_dict(),
                meta=dict(source='random initialisation', seed=self.seed)),
            out, force=True)

    def linear_probe(self, name, backbone):
        work_dir = self.path(f'linear_{name}')
        result = osp.join(work_dir, 'linear_eval.json')
        if self.redo or not osp.isfile(result):
            self.run('tools/benchmarks/linear_eval.sh', LINEAR_CONFIG,
                     backbone, '1', '--cfg-options',
                     f'randomness.seed={self.seed}', WORK_DIR=work_dir)
        with open(result) as f:
            return json.load(f)['accuracy/top1']

    def knn(self, name, backbone):
        result = self.path(f'knn_{name}.json')
        if self.redo or not osp.isfile(result):
            self.run('tools/benchmarks/knn_eval.py', LINEAR_CONFIG, backbone,
                     '--out', result)
        with open(result) as f:
            return json.load(f)['knn/top1']


def format_table(rows):
    lines = [
        '| backbone (ResNet-18) | linear probe top-1 | k-NN top-1 |',
        '|---|---|---|',
    ]
    lines += [f'| {name} | {linear:.1f} | {knn:.1f} |'
              for name, linear, knn in rows]
    return '\n'.join(lines)


def main():
    args = parse_args()
    os.chdir(REPO)
    demo = Demo(args.seed, osp.join(args.work_dir, f'seed_{args.seed}'),
                args.redo)
    total = time.monotonic()

    demo.announce('Demo data from the photographs of scikit-image and '
                  f'scikit-learn -> {DATA_ROOT}')
    demo.run('tools/dataset_converters/make_demo_data.py', '--out',
             DATA_ROOT)
    demo.done()

    demo.announce('CLSA pretraining of a ResNet-18')
    checkpoint = demo.pretrain()
    demo.done()

    demo.announce('Backbone of the CLSA checkpoint and a random backbone')
    backbones = dict(
        clsa=demo.path('backbone_clsa.pth'),
        random=demo.path('backbone_random.pth'))
    demo.run('tools/model_converters/extract_backbone_weights.py',
             checkpoint, backbones['clsa'], '--force')
    demo.make_random_backbone(backbones['random'])
    demo.done()

    results = {}
    for name in ('clsa', 'random'):
        demo.announce(f'Linear probe and k-NN of the {name} backbone')
        results[name] = (demo.linear_probe(name, backbones[name]),
                         demo.knn(name, backbones[name]))
        demo.done()

    demo.announce('Training curves and augmented views')
    demo.run('tools/analysis_tools/plot_logs.py', demo.path('pretrain'),
             '--out', demo.path('training_curves.png'))
    demo.run('tools/analysis_tools/browse_views.py', PRETRAIN_CONFIG,
             '--num', '4', '--output', demo.path('views.png'))
    demo.done()

    demo.announce('Results')
    table = format_table([
        (f'CLSA pretrained (seed {args.seed})', *results['clsa']),
        ('random initialisation', *results['random']),
    ])
    gain = results['clsa'][0] - results['random'][0]
    summary = (f'{table}\n\nDemo val split of {DATA_ROOT}; CLSA beats the '
               f'random backbone by {gain:+.1f} points of linear-probe '
               f'top-1 (k-NN: {results["clsa"][1] - results["random"][1]:+.1f}'
               f'). Total time {time.monotonic() - total:.0f} s.')
    with open(demo.path('results.md'), 'w') as f:
        f.write(summary + '\n')
    with open(demo.path('results.json'), 'w') as f:
        json.dump(
            dict(
                seed=args.seed,
                checkpoint=checkpoint,
                results={
                    name: dict(linear_top1=lin, knn_top1=knn)
                    for name, (lin, knn) in results.items()
                },
                seconds=demo.times), f, indent=2)
    demo.done()
    print('\n' + summary)
    print(f'\nLogs, checkpoints and pictures: {demo.work_dir}/')


if __name__ == '__main__':
    main()
