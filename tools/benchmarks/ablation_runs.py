"""The ablation benchmark: CLSA against its base methods at equal budget.

Every (row, seed) run is one subprocess (this file as a script,
:func:`run_one`) that pretrains the row's demo config, shrunk by the
recipe the same way for every row, then extracts frozen features of the
demo train and val splits once and scores them with a linear probe
(logistic regression on standardised features) and a k-NN vote. While it
pretrains, the online probe and the k-NN monitor are evaluated every epoch
(:func:`clsa_mm.utils.add_online_monitors`); their values per epoch go into
``monitors`` of the run's result and of ``results.json``. Each run
writes ``runs/<row>/seed_<seed>/result.json``; a run with that file is
skipped, an interrupted pretraining resumes from its last checkpoint.
:class:`Ablation` runs what is missing, prints one line per finished run
with an ETA, and writes ``results.json``, ``results.md`` (with each row's
paired difference to its base method's row, :func:`paired_difference`)
and ``results.png``. docs/ablation.md describes the rows and the recipe.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import namedtuple

import numpy as np
import torch
from scipy import stats

from clsa_mm.datasets import make_demo_data
from clsa_mm.evaluation import KNN_DEFAULTS
from clsa_mm.utils import (QUICK_RECIPE, add_online_monitors,
                            read_online_monitors)
from clsa_mm.visualization import format_table, plot_result_bars

# name: the row's name (``--rows``); config: file stem in configs/demo;
# method/ddm/strong_as_positive: what the row is; beta: the weight of the
# strong-view term (None: no such term), the ``loss_weight`` of the model's
# :func:`strong_term_head`, also read back from the trained model; cost:
# step time relative to MoCo v2 with plain BN (measured with
# tools/benchmarks/bench_step.py; split BN adds about 5 %), for the ETA.
# The ``-beta0.4`` / ``-beta0.5`` DDM rows have the beta that gives CLSA's
# balance of the DDM term against their base loss, beta = T2 x the base
# loss's coefficient (docs/method_ddm.md, "The balance of β against each
# base loss"), fixed by that rule before any accuracy was seen.
Row = namedtuple('Row', 'name config method ddm strong_as_positive beta cost')
ROWS = (
    Row('mocov2', 'mocov2_r18_demo', 'MoCo v2', False, False, None, 1.05),
    Row('naive', 'mocov2-strong-queries_r18_demo', 'MoCo v2', False, True,
        1.0, 1.13),
    Row('clsa', 'clsa_r18_demo', 'MoCo v2', True, False, 1.0, 1.13),
    Row('clsa-beta0.5', 'clsa_r18_demo', 'MoCo v2', True, False, 0.5, 1.13),
    Row('clsa-beta2', 'clsa_r18_demo', 'MoCo v2', True, False, 2.0, 1.13),
    Row('mocov3', 'mocov3_r18_demo', 'MoCo v3', False, False, None, 1.7),
    Row('mocov3-ddm', 'mocov3-ddm_r18_demo', 'MoCo v3', True, False, 1.0,
        1.9),
    Row('mocov3-ddm-beta0.4', 'mocov3-ddm_r18_demo', 'MoCo v3', True, False,
        0.4, 1.9),
    Row('simclr', 'simclr_r18_demo', 'SimCLR', False, False, None, 1.35),
    Row('simclr-ddm', 'simclr-ddm_r18_demo', 'SimCLR', True, False, 1.0,
        1.45),
    Row('simclr-ddm-beta0.5', 'simclr-ddm_r18_demo', 'SimCLR', True, False,
        0.5, 1.45),
    Row('byol', 'byol_r18_demo', 'BYOL', False, False, None, 1.9),
    Row('byol-ddm', 'byol-ddm_r18_demo', 'BYOL', True, False, 1.0, 2.2),
    Row('byol-ddm-beta0.4', 'byol-ddm_r18_demo', 'BYOL', True, False, 0.4,
        2.2),
)
ROW_NAMES = tuple(row.name for row in ROWS)

# The shrink of every row: the keyword arguments of
# clsa_mm.utils.shrink_config (crop_factor, epochs, batch_size, queue_len,
# log_interval; None keeps the config's) and data, the demo data settings
# (clsa_mm.datasets.make_demo_data). Chosen from timing alone
# (docs/ablation.md). ``quick`` is the quick demo's.
RECIPES = dict(
    full=dict(
        data=dict(size=32),
        crop_factor=0.5,
        epochs=6,
        batch_size=None,
        queue_len=None,
        log_interval=10),
    quick=QUICK_RECIPE,
)
PROBE_CONFIG = 'configs/demo/r18_linear_demo.py'
LINEAR = dict(weight_decay=1e-3)


def strong_term_head(names):
    """The head with the strong-view term and its weight β, of a model with
    the config keys or submodules ``names``: ``ddm_head`` (a DDMHead beside
    a base method's own head) where there is one, else ``head`` (CLSA's
    DDMHead, the naive row's StrongContrastiveHead)."""
    return 'ddm_head' if 'ddm_head' in names else 'head'


def row_config(root, row, recipe, seed, data_root, work_dir):
    """The row's config shrunk by ``recipe`` (a :data:`RECIPES` value),
    with the online probe and the k-NN monitor
    (:data:`clsa_mm.evaluation.KNN_DEFAULTS`) on the demo data every epoch
    (:func:`clsa_mm.utils.add_online_monitors`)."""
    from clsa_mm.utils import load_config, shrink_config
    cfg = load_config(
        osp.join(root, 'configs/demo', row.config + '.py'), {
            'randomness.seed': seed,
            'train_dataloader.dataset.data_root': data_root
        })
    if row.beta is not None:
        cfg.model[strong_term_head(cfg.model)].loss_weight = row.beta
    shrink_config(
        cfg, checkpoint_interval=1,
        **{k: v for k, v in recipe.items() if k != 'data'})
    add_online_monitors(cfg, data_root)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.resume = osp.isfile(osp.join(work_dir, 'last_checkpoint'))
    cfg.load_from = None
    return cfg


def eval_loaders(root, data_root):
    """Unshuffled train and val loaders of the demo data with the probe
    config's test pipeline, and its data preprocessor."""
    from clsa_mm.evaluation import (build_feature_loader,
                                    build_feature_preprocessor)
    from clsa_mm.utils import load_config
    classes = osp.join(data_root, 'meta/classes.txt')
    cfg = load_config(
        osp.join(root, PROBE_CONFIG), {
            f'{split}_dataloader.dataset.{key}': value
            for split in ('train', 'val')
            for key, value in (('data_root', data_root),
                               ('metainfo.classes', classes))
        })
    loaders = {
        split: build_feature_loader(cfg, split)
        for split in ('train', 'val')
    }
    return loaders, build_feature_preprocessor(cfg)


def evaluate(root, backbone, data_root):
    """Linear-probe and k-NN top-1 (%) of a frozen ``backbone``."""
    from mmengine.registry import DefaultScope

    from clsa_mm.evaluation import (extract_features, knn_accuracy,
                                    knn_classify, linear_probe)
    with DefaultScope.overwrite_default_scope('clsa_mm'):
        loaders, preprocessor = eval_loaders(root, data_root)
    feats = {
        split: extract_features(backbone, preprocessor, loader)
        for split, loader in loaders.items()
    }
    num_classes = len(loaders['train'].dataset.metainfo['classes'])
    (train_x, train_y), (val_x, val_y) = feats['train'], feats['val']
    scores = knn_classify(train_x, train_y, val_x, num_classes)
    return dict(
        linear_top1=linear_probe(train_x, train_y, val_x, val_y, **LINEAR),
        knn_top1=knn_accuracy(scores, val_y)['top1'])


def run_one(root, row, seed, recipe, data_root, run_dir, started=None):
    """Pretrain, extract and evaluate one (row, seed); write its result.

    Args:
        root (str): Repository root.
        row (str): A name of :data:`ROWS`.
        seed (int): Random seed of the pretraining.
        recipe (dict): A value of :data:`RECIPES`.
        data_root (str): The demo data.
        run_dir (str): Folder of this run (``pretrain/``, ``result.json``).
        started (float, optional): ``time.time()`` at the launch of the
            process, so that the run's time includes its start-up.
    """
    from clsa_mm.apis.runner import build_runner
    start = started or time.time()
    row = ROWS[ROW_NAMES.index(row)]
    cfg = row_config(root, row, recipe, seed, data_root,
                     osp.join(run_dir, 'pretrain'))
    runner = build_runner(cfg)
    runner.train()
    model = runner.model
    beta = None if row.beta is None else float(
        getattr(model, strong_term_head(dict(model.named_children())))
        .loss_weight)
    torch.manual_seed(seed)
    result = dict(
        row=row.name,
        seed=seed,
        recipe=recipe,
        beta=beta,
        **evaluate(root, model.backbone, data_root),
        monitors=read_online_monitors(cfg.work_dir),
        seconds=time.time() - start)
    tmp = osp.join(run_dir, 'result.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, osp.join(run_dir, 'result.json'))


def summarise(row, results):
    """One ``results.json`` row from the results of its seeds."""

    def stats(key):
        values = np.array([r[key] for r in results])
        std = values.std(ddof=1) if len(values) > 1 else 0.0
        return round(float(values.mean()), 2), round(float(std), 2)

    betas = {r['beta'] for r in results}
    if len(betas) != 1:
        raise ValueError(f'{row.name}: the seeds trained with different '
                         f'betas {sorted(betas)}')
    linear_mean, linear_std = stats('linear_top1')
    knn_mean, knn_std = stats('knn_top1')
    return dict(
        name=row.name,
        method=row.method,
        ddm=row.ddm,
        strong_as_positive=row.strong_as_positive,
        beta=betas.pop(),
        seeds=[r['seed'] for r in results],
        linear_top1_mean=linear_mean,
        linear_top1_std=linear_std,
        knn_top1_mean=knn_mean,
        knn_top1_std=knn_std,
        monitors=[dict(seed=r['seed'], epochs=r.get('monitors', []))
                  for r in results])


METRICS = (('linear_top1', 'linear probe'), ('knn_top1', 'k-NN'))


def base_row(row, rows):
    """The row of ``row``'s method without a strong-view term, among
    ``rows``; None for such a row itself or when ``rows`` lacks it."""
    if row.beta is None:
        return None
    return next((r for r in rows if r.method == row.method
                 and r.beta is None), None)


def paired_difference(results, base_results, key):
    """``key`` of each seed's run minus the base row's run of the same seed
    (same seed: same initialisation draw and data order), with the mean
    and its 95 % Student t-interval over the seeds.

    Args:
        results (list[dict]): The runs of a row (``seed``, ``key``).
        base_results (list[dict]): The runs of its base row.
        key (str): ``linear_top1`` or ``knn_top1``.

    Returns:
        dict: ``seeds``, ``differences`` (per seed, in the order of
        ``results``), ``mean``, ``ci95`` (``[low, high]``; None for one
        seed) and ``spans_zero`` (whether ``ci95`` contains 0; None for
        one seed).

    Raises:
        ValueError: naming the seeds the base row lacks.
    """
    base = {r['seed']: r[key] for r in base_results}
    missing = [r['seed'] for r in results if r['seed'] not in base]
    if missing:
        raise ValueError(f'paired difference of {key}: the base row has no '
                         f'run of seeds {missing}; run them first')
    diffs = np.array([r[key] - base[r['seed']] for r in results], float)
    mean = float(diffs.mean())
    ci95 = spans_zero = None
    if len(diffs) > 1:
        half = float(stats.t.ppf(0.975, len(diffs) - 1) *
                     diffs.std(ddof=1) / np.sqrt(len(diffs)))
        ci95 = [round(mean - half, 2), round(mean + half, 2)]
        spans_zero = mean - half <= 0 <= mean + half
    return dict(
        seeds=[r['seed'] for r in results],
        differences=[round(float(d), 2) for d in diffs],
        mean=round(mean, 2),
        ci95=ci95,
        spans_zero=spans_zero)


def difference_cell(diff):
    """One metric of a :func:`paired_difference` in ``results.md``."""
    per_seed = ', '.join(f'{d:+.1f}' for d in diff['differences'])
    if diff['ci95'] is None:
        return f'{diff["mean"]:+.1f} (one seed: no interval)'
    low, high = diff['ci95']
    return (f'{diff["mean"]:+.1f} [{low:+.1f}, {high:+.1f}]'
            + ('; spans 0, not resolved' if diff['spans_zero'] else '')
            + f' (seeds: {per_seed})')


def differences_text(summary):
    """The table of paired differences of ``results.md``, from the
    ``vs_base`` entries of the summary rows."""
    rows = [(f'{r["name"]} − {r["vs_base"]["base"]}',
             *(difference_cell(r['vs_base'][key]) for key, _ in METRICS))
            for r in summary if r['vs_base']]
    if not rows:
        return ''
    return (
        format_table(('difference', *(f'{title} top-1, mean [95 % CI]'
                                      for _, title in METRICS)), rows) +
        '\n\nPaired differences in points: each row minus its base '
        "method's row, per seed (same seed, so the same initialisation draw "
        'and data order), their mean and its 95 % Student t-interval over '
        'the seeds. An interval that spans 0 says that these seeds do not '
        'resolve the sign of the difference.\n\n')


TABLE_HEADER = ('row', 'method', 'DDM', 'strong views as positives', 'beta',
                'seeds', 'linear probe top-1', 'k-NN top-1')


def table_row(result):
    """The cells of one :func:`summarise` row in ``results.md``."""
    beta = '–' if result['beta'] is None else f'{result["beta"]:g}'
    return (result['name'], result['method'],
            'yes' if result['ddm'] else 'no',
            'yes' if result['strong_as_positive'] else 'no', beta,
            len(result['seeds']),
            f'{result["linear_top1_mean"]:.1f} ± '
            f'{result["linear_top1_std"]:.1f}',
            f'{result["knn_top1_mean"]:.1f} ± {result["knn_top1_std"]:.1f}')


class Ablation:
    """Run the missing (row, seed) runs and write the tables.

    Args:
        root (str): Repository root (configs are read from it).
        work_dir (str): Output folder (``runs/``, ``data/``, results).
        rows (Sequence[str]): Names of :data:`ROWS`, in table order.
        seeds (Sequence[int]): Seeds of every row.
        quick (bool): The ``quick`` recipe instead of ``full``.
        command (str): The command line, for ``results.md``.
        stream (file, optional): Where the progress lines go (stdout).
    """

    def __init__(self, root, work_dir, rows=ROW_NAMES, seeds=(0, 1, 2),
                 quick=False, command='', stream=None):
        unknown = [r for r in rows if r not in ROW_NAMES]
        if unknown:
            raise ValueError(f'unknown rows {unknown}; known: '
                             f'{list(ROW_NAMES)}')
        self.root = root
        self.work_dir = osp.join(root, work_dir)
        self.rows = [ROWS[ROW_NAMES.index(r)] for r in rows]
        self.seeds = list(seeds)
        self.recipe = 'quick' if quick else 'full'
        self.command = command
        self.stream = stream or sys.stdout
        self.data_root = osp.join(self.work_dir, 'data')

    def run_dir(self, row, seed):
        return osp.join(self.work_dir, 'runs', row.name, f'seed_{seed}')

    def done(self, row, seed):
        return osp.isfile(osp.join(self.run_dir(row, seed), 'result.json'))

    def print(self, text):
        print(text, file=self.stream, flush=True)

    def launch(self, row, seed):
        """Run one (row, seed) in a subprocess; its output to ``log.txt``.

        Returns:
            bool: Whether it succeeded.
        """
        run_dir = self.run_dir(row, seed)
        os.makedirs(run_dir, exist_ok=True)
        kwargs = dict(root=self.root, row=row.name, seed=seed,
                      recipe=RECIPES[self.recipe], data_root=self.data_root,
                      run_dir=run_dir, started=time.time())
        # One thread per process (the data loader worker is the other): as
        # timed for the recipe, and no oversubscription on a busy machine.
        env = dict(os.environ)
        env.setdefault('OMP_NUM_THREADS', '1')
        with open(osp.join(run_dir, 'log.txt'), 'a') as log:
            proc = subprocess.run(
                [sys.executable, osp.abspath(__file__), json.dumps(kwargs)],
                cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT)
        return proc.returncode == 0

    def run(self):
        """Run what is missing; write and return the summary rows."""
        start = time.monotonic()
        make_demo_data(self.data_root, **RECIPES[self.recipe]['data'])
        todo = [(row, seed) for row in self.rows for seed in self.seeds
                if not self.done(row, seed)]
        total = len(self.rows) * len(self.seeds)
        self.print(f'{total - len(todo)} of {total} runs already done; '
                   f'{len(todo)} to run ({self.recipe} recipe).')
        units_left = sum(row.cost for row, _ in todo)
        units_done, failed = 0.0, []
        for i, (row, seed) in enumerate(todo, 1):
            ok = self.launch(row, seed)
            units_left -= row.cost
            units_done += row.cost
            elapsed = time.monotonic() - start
            eta = elapsed / units_done * units_left
            if ok:
                with open(osp.join(self.run_dir(row, seed),
                                   'result.json')) as f:
                    r = json.load(f)
                status = (f'linear {r["linear_top1"]:.1f}, k-NN '
                          f'{r["knn_top1"]:.1f} ({r["seconds"]:.0f} s)')
            else:
                failed.append((row, seed))
                status = ('FAILED, see ' +
                          osp.join(self.run_dir(row, seed), 'log.txt'))
            self.print(f'[{i}/{len(todo)}] {row.name} seed {seed}: '
                       f'{status}; ETA {eta / 60:.1f} min')
        if failed:
            raise SystemExit(
                f'{len(failed)} runs failed: ' +
                ', '.join(f'{row.name} seed {seed}' for row, seed in failed) +
                '; run the same command again to retry them')
        return self.write(time.monotonic() - start)

    def write(self, wall):
        """``results.json``, ``results.md`` and ``results.png``."""
        summary, runs, seconds = [], {}, 0.0
        for row in self.rows:
            results = []
            for seed in self.seeds:
                with open(osp.join(self.run_dir(row, seed),
                                   'result.json')) as f:
                    results.append(json.load(f))
            seconds += sum(r['seconds'] for r in results)
            runs[row.name] = results
            summary.append(summarise(row, results))
        for row, entry in zip(self.rows, summary):
            base = base_row(row, self.rows)
            entry['vs_base'] = None if base is None else dict(
                base=base.name,
                **{key: paired_difference(runs[row.name], runs[base.name],
                                          key)
                   for key, _ in METRICS})
        with open(osp.join(self.work_dir, 'results.json'), 'w') as f:
            json.dump(summary, f, indent=2)
        plot_result_bars(summary, osp.join(self.work_dir, 'results.png'),
                         'CLSA ablation (mean ± std over seeds)',
                         ylabel='top-1 (%) on the demo val split')
        recipe = RECIPES[self.recipe]
        text = (
            f'{format_table(TABLE_HEADER, map(table_row, summary))}\n\n'
            f'Top-1 (%) on the val split of the demo data, mean ± std over '
            f'seeds {self.seeds}.\n\n'
            f'{differences_text(summary)}'
            f'Command: `{self.command}`\n\n'
            f'Recipe ({self.recipe}): each row\'s configs/demo config with '
            f'{recipe["epochs"]} pretraining epochs (cosine schedule over '
            f'them), crop sizes x{recipe["crop_factor"]}, demo data '
            f'{recipe["data"]}'
            + (f', batch {recipe["batch_size"]}'
               if recipe['batch_size'] else '')
            + (f', queues of {recipe["queue_len"]}'
               if recipe['queue_len'] else '')
            + f'; linear probe: logistic regression on standardised frozen '
            f'features ({LINEAR}); k-NN {KNN_DEFAULTS}.\n\n'
            f'Total time of the runs: {seconds / 60:.1f} min '
            f'(sum over {len(self.rows) * len(self.seeds)} runs, each from '
            'its start-up to its result).\n')
        with open(osp.join(self.work_dir, 'results.md'), 'w') as f:
            f.write(text)
        self.print('\n' + text)
        self.print(f'Wall time of this invocation: {wall / 60:.1f} min. '
                   f'Results: {self.work_dir}/results.{{json,md,png}}')
        return summary


if __name__ == '__main__':
    # One run, launched by Ablation.launch: its arguments as JSON.
    run_one(**json.loads(sys.argv[1]))
