"""The CLSA demo: pretrain on the embedded photographs, then evaluate.

1. make the demo data (``tools/dataset_converters/make_demo_data.py``),
2. pretrain CLSA with a ResNet-18 (``configs/demo/clsa_r18_demo.py``),
3. extract its backbone and make a randomly initialised one for comparison,
4. linear probe (``configs/demo/r18_linear_demo.py``) and k-NN of both
   backbones on the demo val split,
5. draw the training curves and the augmented views,

and print (and save) the table of top-1 accuracies. Every step is a tool of
this repository, run in a subprocess.

Everything goes to ``WORK_DIR/seed_<SEED>``. Running the demo again resumes
an interrupted pretraining from its last checkpoint (or reuses a finished
one) and repeats the evaluation. ``--quick`` checks the whole pipeline in a
minute on 3 photographs, tiny images and one epoch (meaningless numbers).
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
        '--quick',
        action='store_true',
        help='smoke run: 3 photographs, 32-pixel patches, 1 epoch each; '
        'data and results in WORK_DIR/quick_seed_<SEED>')
    return parser.parse_args()


def quick_options(data_root):
    """Arguments that shrink every step to a smoke run on ``data_root``."""
    data = [
        '--photos', 'brick', 'coins', 'china', '--train-per-class', '8',
        '--val-per-class', '4', '--size', '32'
    ]
    pipeline = 'train_dataloader.dataset.pipeline.1'
    views = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'{pipeline}.key_view.size=32', f'{pipeline}.weak_views.0.size=32',
        f'{pipeline}.strong_views.0.size=16'
    ]
    pretrain = views + [
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'model.queue_len=8',
        'train_cfg.max_epochs=1', 'param_scheduler.0.T_max=1',
        'param_scheduler.0.end=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1'
    ]
    probe = [
        'train_dataloader.batch_size=8',
        'train_dataloader.dataset.pipeline.1.scale=32',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'param_scheduler.T_max=1', 'param_scheduler.end=1',
        'default_hooks.checkpoint.interval=1'
    ]
    for split in ('train', 'val', 'test'):
        probe += [
            f'{split}_dataloader.dataset.data_root={data_root}',
            f'{split}_dataloader.dataset.metainfo.classes='
            f'{data_root}/meta/classes.txt'
        ]
    knn = [o for o in probe if 'dataloader.dataset' in o and 'pipe' not in o]
    return dict(data=data, pretrain=pretrain, probe=probe, knn=knn,
                views=views)


class Demo:
    """Runs the steps, each a tool in a subprocess, and times them.

    Args:
        seed (int): Random seed of pretraining, probe and random backbone.
        work_dir (str): Folder of this run.
        data_root (str): Folder of the demo data.
        options (dict): Extra arguments per step, see :func:`quick_options`.
    """

    num_steps = 6

    def __init__(self, seed, work_dir, data_root, options):
        self.seed = seed
        self.work_dir = work_dir
        self.data_root = data_root
        self.options = options
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

    def cfg_options(self, step, seed=True):
        options = list(self.options.get(step, []))
        if seed:
            options.append(f'randomness.seed={self.seed}')
        return ['--cfg-options', *options] if options else []

    def make_data(self):
        self.run('tools/dataset_converters/make_demo_data.py', '--out',
                 self.data_root, *self.options.get('data', []))

    def pretrain(self):
        """Train (or resume, or reuse) CLSA; return the last checkpoint."""
        work_dir = self.path('pretrain')
        resume = ['--resume'] if osp.isfile(
            osp.join(work_dir, 'last_checkpoint')) else []
        if resume:
            print_log(f'Resuming (or reusing) the pretraining in {work_dir}',
                      logger='current')
        self.run('tools/train.py', PRETRAIN_CONFIG, '--work-dir', work_dir,
                 *resume, *self.cfg_options('pretrain'))
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
        self.run('tools/benchmarks/linear_eval.sh', LINEAR_CONFIG, backbone,
                 '1', *self.cfg_options('probe'), WORK_DIR=work_dir)
        with open(osp.join(work_dir, 'linear_eval.json')) as f:
            return json.load(f)['accuracy/top1']

    def knn(self, name, backbone):
        result = self.path(f'knn_{name}.json')
        self.run('tools/benchmarks/knn_eval.py', LINEAR_CONFIG, backbone,
                 '--out', result, *self.cfg_options('knn', seed=False))
        with open(result) as f:
            return json.load(f)['knn/top1']

    def pictures(self):
        self.run('tools/analysis_tools/plot_logs.py', self.path('pretrain'),
                 '--out', self.path('training_curves.png'), '--title',
                 f'CLSA pretraining of the demo, seed {self.seed}')
        self.run('tools/analysis_tools/browse_views.py', PRETRAIN_CONFIG,
                 '--num', '4', '--output', self.path('views.png'),
                 *self.cfg_options('views', seed=False))


def format_table(rows):
    """A markdown table of ``(backbone, linear top-1, k-NN top-1)`` rows."""
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
    if args.quick:
        work_dir = osp.join(args.work_dir, f'quick_seed_{args.seed}')
        data_root = osp.join(work_dir, 'data')
        options = quick_options(data_root)
    else:
        work_dir = osp.join(args.work_dir, f'seed_{args.seed}')
        data_root, options = DATA_ROOT, {}
    demo = Demo(args.seed, work_dir, data_root, options)
    total = time.monotonic()

    demo.announce('Demo data from the photographs of scikit-image and '
                  f'scikit-learn -> {data_root}')
    demo.make_data()
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
    demo.pictures()
    demo.done()

    table = format_table([
        (f'CLSA pretrained (seed {args.seed})', *results['clsa']),
        ('random initialisation', *results['random']),
    ])
    gains = [c - r for c, r in zip(results['clsa'], results['random'])]
    summary = (f'{table}\n\nTop-1 on the val split of {data_root}; CLSA '
               f'minus random: {gains[0]:+.1f} points (linear probe), '
               f'{gains[1]:+.1f} points (k-NN). Total time '
               f'{time.monotonic() - total:.0f} s.')
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
    print('\n' + summary)
    print(f'\nLogs, checkpoints and pictures: {demo.work_dir}/')


if __name__ == '__main__':
    main()
