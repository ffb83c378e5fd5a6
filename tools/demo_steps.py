"""The CLSA demo: pretrain CLSA and MoCo v2 on the demo data, then compare
both with each other and with a random backbone.

Steps (each but the data and the random backbone a tool of the repository,
run in a subprocess whose whole output goes to ``WORK_DIR/logs/``):

1. make the demo data (:func:`clsa_mm.datasets.make_demo_data` with
   the ``demo_data`` settings of the CLSA pretraining config),
2. pretrain CLSA with a ResNet-18 (``configs/demo/clsa_r18_demo.py``),
3. pretrain MoCo v2 with the same recipe minus the strong views and the
   DDM term (``configs/demo/mocov2_r18_demo.py``, same seed); both watched
   every epoch by the online probe and the k-NN monitor on the demo data
   (:func:`clsa_mm.utils.add_online_monitors`, the k and T of the offline
   k-NN), which leave pretraining as it is,
4. extract both backbones and make a randomly initialised one,
5. to 7. linear probe (``configs/demo/r18_linear_demo.py``) and k-NN of
   each backbone on the demo val split,
8. draw the CLSA training curves, the monitors' curves of CLSA and MoCo v2
   side by side and the augmented views.

Running the demo again resumes an interrupted pretraining from its last
checkpoint (or reuses a finished one) and repeats the evaluation. The quick
demo shrinks every config with :func:`clsa_mm.utils.shrink_config`
(:data:`clsa_mm.utils.QUICK_RECIPE`: 3 photographs, 32-pixel patches, one
epoch, batch 4; the probe :data:`QUICK_PROBE`) and runs the shrunk configs,
written to ``WORK_DIR/configs/``, to check the pipeline in 3 to 4 minutes.
"""
import json
import os
import os.path as osp
import sys
import time

import torch
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from clsa_mm.checkpoint import save_checkpoint
from clsa_mm.datasets import make_demo_data
from clsa_mm.registry import MODELS
from clsa_mm.utils import (QUICK_RECIPE, add_online_monitors, load_config,
                            read_online_monitors, shrink_config)
from clsa_mm.visualization import format_table
from quiet_steps import QuietSteps


# Pretrained rows of the table: name -> (label, config file stem).
PRETRAINED = {
    'clsa': ('CLSA', 'clsa_r18_demo'),
    'mocov2': ('MoCo v2', 'mocov2_r18_demo'),
}


# Printed under the table: how much one run of the demo says.
ONE_DRAW = ('One seed is one draw: the sign of a difference below can change '
            'with the machine (its thread count). The evidence is the '
            "ablation's mean ± std over seeds (docs/ablation.md).")


# The quick demo's shrink of the linear probe (clsa_mm.utils.shrink_config).
QUICK_PROBE = dict(epochs=1, batch_size=8, crop_factor=0.5)

TABLE_HEADER = ('backbone (ResNet-18)', 'linear probe top-1', 'k-NN top-1')
MONITOR_HEADER = ('pretrained backbone', 'online probe top-1 (last epoch)',
                  'linear probe top-1 (offline)',
                  'k-NN monitor top-1 (last epoch)', 'k-NN top-1 (offline)')


class Demo:
    """The demo's steps on one seed, timed, with their logs in files.

    Args:
        root (str): Repository root: the tools and configs are run from it,
            and relative paths are relative to it.
        seed (int): Random seed of pretraining, probe and random backbone.
        work_dir (str): Folder of this run; the logs go to ``logs/`` in it.
        data_root (str): Folder of the demo data. Defaults to the
            ``data_root`` of the pretraining config.
        quick (bool): Shrink every config by :data:`QUICK_RECIPE` (the
            probe by :data:`QUICK_PROBE`) and make the quick demo data.
        stream (file, optional): Where the step lines go (stdout).
        bar (bool, optional): Progress bars (default: on a terminal).
    """

    num_steps = 8

    def __init__(self, root, seed, work_dir, data_root=None, quick=False,
                 stream=None, bar=None):
        self.root = root
        self.seed = seed
        self.work_dir = osp.join(root, work_dir)
        self.demo_data = QUICK_RECIPE['data'] if quick else {}
        self.pretrain_configs = {
            name: self.config(f'configs/demo/{stem}.py', quick and {
                k: v for k, v in QUICK_RECIPE.items() if k != 'data'})
            for name, (_, stem) in PRETRAINED.items()
        }
        # The data settings and the pictures are CLSA's.
        self.pretrain_config = self.pretrain_configs['clsa']
        self.pretrain_cfg = load_config(osp.join(root, self.pretrain_config))
        self.probe_config = self.config('configs/demo/r18_linear_demo.py',
                                        quick and QUICK_PROBE)
        self.probe_cfg = load_config(osp.join(root, self.probe_config))
        self.data_root = (data_root or
                          self.pretrain_cfg.train_dataloader.dataset.data_root)
        self.steps = QuietSteps(
            self.num_steps, self.path('logs'), stream=stream, bar=bar)

    def path(self, *parts):
        return osp.join(self.work_dir, *parts)

    def config(self, path, shrink):
        """``path``, or with a ``shrink`` (the arguments of
        :func:`shrink_config`) the shrunk config written to
        ``WORK_DIR/configs/``."""
        if not shrink:
            return path
        cfg = shrink_config(load_config(osp.join(self.root, path)), **shrink)
        out = self.path('configs', osp.basename(path))
        os.makedirs(osp.dirname(out), exist_ok=True)
        cfg.dump(out)
        return out

    def tool(self, name, *args, max_epochs=None, **env):
        """Run a tool (``.py`` with this Python, ``.sh`` with bash)."""
        cmd = [sys.executable if args[0].endswith('.py') else 'bash', *args]
        env = dict(os.environ, PYTHON=sys.executable, **env)
        self.steps.run(cmd, name, max_epochs=max_epochs, cwd=self.root,
                       env=env)

    def data_options(self, cfg, splits):
        """``key=value`` options pointing ``splits`` at the demo data."""
        if cfg.train_dataloader.dataset.data_root == self.data_root:
            return []
        options = []
        for split in splits:
            dataset = f'{split}_dataloader.dataset'
            options.append(f'{dataset}.data_root={self.data_root}')
            if 'metainfo' in cfg[f'{split}_dataloader'].dataset:
                options.append(f'{dataset}.metainfo.classes='
                               f'{self.data_root}/meta/classes.txt')
        return options

    def cfg_options(self, options, seed=True):
        options = list(options) + ([f'randomness.seed={self.seed}']
                                   if seed else [])
        return ['--cfg-options', *options] if options else []

    def make_data(self):
        """Make (or reuse) the demo data of the pretraining config."""
        try:
            make_demo_data(osp.join(self.root, self.data_root),
                           **self.demo_data)
        except (FileExistsError, ValueError) as e:
            raise SystemExit(f'step {self.steps.step} failed: {e}') from None

    def pretrain(self, name, config):
        """Train (or resume, or reuse) ``config`` with the online monitors
        on the demo data (written to ``configs/pretrain_<name>.py``) in
        ``pretrain_<name>/``; return its last checkpoint."""
        cfg = add_online_monitors(
            load_config(osp.join(self.root, config)),
            osp.join(self.root, self.data_root))
        config = self.path('configs', f'pretrain_{name}.py')
        os.makedirs(osp.dirname(config), exist_ok=True)
        cfg.dump(config)
        work_dir = self.path(f'pretrain_{name}')
        last = osp.join(work_dir, 'last_checkpoint')
        resume = ['--resume'] if osp.isfile(last) else []
        self.tool(f'pretrain_{name}', 'tools/train.py', config,
                  '--work-dir', work_dir, *resume, *self.cfg_options([]),
                  max_epochs=cfg.train_cfg.max_epochs)
        with open(last) as f:
            return f.read().strip()

    def make_random_backbone(self, out):
        """Save the backbone of the probe config, randomly initialised."""
        init_default_scope(self.probe_cfg.get('default_scope', 'clsa_mm'))
        backbone_cfg = self.probe_cfg.model.backbone.copy()
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

    def backbones(self, checkpoints):
        """Export the pretrained backbones (``{name: checkpoint}``) and make
        a random one; their paths by name."""
        paths = {}
        for name, checkpoint in checkpoints.items():
            paths[name] = self.path(f'backbone_{name}.pth')
            self.tool(f'extract_{name}',
                      'tools/model_converters/extract_backbone_weights.py',
                      checkpoint, paths[name], '--force')
        paths['random'] = self.path('backbone_random.pth')
        self.make_random_backbone(paths['random'])
        return paths

    def linear_probe(self, name, backbone):
        work_dir = self.path(f'linear_{name}')
        options = self.data_options(self.probe_cfg, ('train', 'val', 'test'))
        self.tool(f'linear_{name}', 'tools/benchmarks/linear_eval.sh',
                  self.probe_config, backbone, '1',
                  *self.cfg_options(options), WORK_DIR=work_dir,
                  max_epochs=self.probe_cfg.train_cfg.max_epochs)
        with open(osp.join(work_dir, 'linear_eval.json')) as f:
            return json.load(f)['accuracy/top1']

    def knn(self, name, backbone):
        result = self.path(f'knn_{name}.json')
        options = self.data_options(self.probe_cfg, ('train', 'val', 'test'))
        self.tool(f'knn_{name}', 'tools/benchmarks/knn_eval.py',
                  self.probe_config, backbone, '--out', result,
                  *self.cfg_options(options, seed=False))
        with open(result) as f:
            return json.load(f)['knn/top1']

    def pictures(self):
        self.tool('plot_logs', 'tools/analysis_tools/plot_logs.py',
                  self.path('pretrain_clsa'), '--out',
                  self.path('training_curves.png'), '--title',
                  f'CLSA pretraining of the demo, seed {self.seed}')
        self.tool('plot_monitors', 'tools/analysis_tools/plot_logs.py',
                  *(self.path(f'pretrain_{name}') for name in PRETRAINED),
                  '--labels', *(label for label, _ in PRETRAINED.values()),
                  '--keys', 'online_probe/val_top1', 'knn/top1', '--out',
                  self.path('monitors.png'), '--title',
                  f'Online probe and k-NN monitor over the epochs, seed '
                  f'{self.seed}')
        options = self.data_options(self.pretrain_cfg, ['train'])
        self.tool('browse_views', 'tools/analysis_tools/browse_views.py',
                  self.pretrain_config, '--num', '4', '--output',
                  self.path('views.png'),
                  *self.cfg_options(options, seed=False))

    def run(self):
        """All steps; returns the summary text (also in ``results.md``)."""
        steps, total = self.steps, time.monotonic()
        steps.begin(f'Demo data from the photographs of scikit-image and '
                    f'scikit-learn -> {self.data_root}')
        self.make_data()
        steps.end()

        checkpoints = {}
        for name, config in self.pretrain_configs.items():
            label = PRETRAINED[name][0]
            steps.begin(f'{label} pretraining of a ResNet-18')
            checkpoints[name] = self.pretrain(name, config)
            steps.end()

        steps.begin('Backbones of the CLSA and MoCo v2 checkpoints and a '
                    'random backbone')
        backbones = self.backbones(checkpoints)
        steps.end()

        results = {}
        for name in backbones:
            steps.begin(f'Linear probe and k-NN of the {name} backbone')
            results[name] = (self.linear_probe(name, backbones[name]),
                             self.knn(name, backbones[name]))
            steps.end()

        steps.begin('Training curves, monitors and augmented views')
        self.pictures()
        steps.end()
        monitors = {name: read_online_monitors(self.path(f'pretrain_{name}'))
                    for name in PRETRAINED}
        return self.write_results(checkpoints, results,
                                  time.monotonic() - total, monitors)

    def monitor_table(self, results, monitors):
        """The online monitors' last epoch next to the offline scores of
        the same backbone (``monitors``: :func:`read_online_monitors` of
        each pretraining)."""
        rows = []
        for name, (label, _) in PRETRAINED.items():
            last = monitors[name][-1] if monitors.get(name) else {}
            online = [last.get(key) for key in ('online_probe_top1',
                                                'knn_top1')]
            cells = ['–' if v is None else f'{v:.1f}' for v in online]
            rows.append((label, cells[0], f'{results[name][0]:.1f}',
                         cells[1], f'{results[name][1]:.1f}'))
        return (format_table(MONITOR_HEADER, rows) +
                '\n\nOnline: the linear probe trained beside pretraining '
                'and the k-NN monitor, on the val split after the last '
                'epoch; offline: the linear probe and k-NN of the exported '
                'backbone (docs/demo.md).')

    def write_results(self, checkpoints, results, seconds, monitors=None):
        """Write ``results.md`` and ``results.json``; return the summary.
        ``monitors``: the online monitors' records of each pretraining
        (:func:`read_online_monitors`), if any."""
        labels = {name: label for name, (label, _) in PRETRAINED.items()}
        labels['random'] = 'random'
        names = {name: f'{labels[name]} pretrained (seed {self.seed})'
                 for name in PRETRAINED}
        names['random'] = 'random initialisation'
        table = format_table(TABLE_HEADER, [
            (names[name], *(f'{top1:.1f}' for top1 in results[name]))
            for name in names])
        lines = []
        for a, b in (('clsa', 'mocov2'), ('clsa', 'random'),
                     ('mocov2', 'random')):
            gains = [x - y for x, y in zip(results[a], results[b])]
            lines.append(f'- {labels[a]} minus {labels[b]}: '
                         f'{gains[0]:+.1f} points (linear probe), '
                         f'{gains[1]:+.1f} points (k-NN)')
        summary = (f'{table}\n\n{ONE_DRAW}\n\nTop-1 on the val split of '
                   f'{self.data_root}, '
                   'same seed and recipe for both pretrainings:\n' +
                   '\n'.join(lines) + '\n\n' +
                   (self.monitor_table(results, monitors) + '\n\n'
                    if monitors else '') +
                   f'Total time {seconds:.0f} s.')
        with open(self.path('results.md'), 'w') as f:
            f.write(summary + '\n')
        with open(self.path('results.json'), 'w') as f:
            json.dump(
                dict(
                    seed=self.seed,
                    checkpoints=checkpoints,
                    results={
                        name: dict(linear_top1=lin, knn_top1=knn)
                        for name, (lin, knn) in results.items()
                    },
                    monitors=monitors or {},
                    seconds=self.steps.times), f, indent=2)
        return summary
