import json
import re

import numpy as np
import pytest
from cli_helpers import REPO, load_tool, run_tool
from PIL import Image

ablation_runs = load_tool('tools/benchmarks/ablation_runs.py')
ROW_NAMES, ROWS = ablation_runs.ROW_NAMES, ablation_runs.ROWS
summarise = ablation_runs.summarise
paired_difference = ablation_runs.paired_difference

TOOL = 'tools/benchmarks/ablation.py'
KEYS = {
    'name', 'method', 'ddm', 'strong_as_positive', 'beta', 'seeds',
    'linear_top1_mean', 'linear_top1_std', 'knn_top1_mean', 'knn_top1_std',
    'monitors', 'vs_base'
}
# What each row is, as results.json must say it.
EXPECTED = {
    'mocov2': ('MoCo v2', False, False, None),
    'naive': ('MoCo v2', False, True, 1.0),
    'clsa': ('MoCo v2', True, False, 1.0),
    'clsa-beta0.5': ('MoCo v2', True, False, 0.5),
    'clsa-beta2': ('MoCo v2', True, False, 2.0),
    'mocov3': ('MoCo v3', False, False, None),
    'mocov3-ddm': ('MoCo v3', True, False, 1.0),
    'mocov3-ddm-beta0.4': ('MoCo v3', True, False, 0.4),
    'simclr': ('SimCLR', False, False, None),
    'simclr-ddm': ('SimCLR', True, False, 1.0),
    'simclr-ddm-beta0.5': ('SimCLR', True, False, 0.5),
    'byol': ('BYOL', False, False, None),
    'byol-ddm': ('BYOL', True, False, 1.0),
    'byol-ddm-beta0.4': ('BYOL', True, False, 0.4),
}
# The row each row with a strong-view term is paired with.
BASES = {name: {'MoCo v2': 'mocov2', 'MoCo v3': 'mocov3', 'SimCLR': 'simclr',
                'BYOL': 'byol'}[method]
         for name, (method, _, _, beta) in EXPECTED.items()
         if beta is not None}
N = len(EXPECTED)


def test_quick_ablation_runs_every_row_and_resumes(tmp_path):
    proc = run_tool([TOOL, '--quick', '--work-dir', str(tmp_path)])
    out = proc.stdout
    assert f'0 of {N} runs already done; {N} to run (quick recipe).' in out
    progress = [line for line in out.splitlines() if line.startswith('[')]
    assert [line.split(':')[0] for line in progress] == [
        f'[{i}/{N}] {name} seed 0' for i, name in enumerate(ROW_NAMES, 1)
    ]
    for line in progress:
        assert re.fullmatch(
            rf'\[\d+/{N}\] \S+ seed 0: linear [\d.]+, k-NN [\d.]+ \(\d+ s\); '
            r'ETA [\d.]+ min', line), line

    results = json.loads((tmp_path / 'results.json').read_text())
    assert [row['name'] for row in results] == list(ROW_NAMES)
    for row in results:
        assert set(row) == KEYS
        # beta is read back from the trained model: a row that drops its
        # beta override reports the config's default instead.
        assert (row['method'], row['ddm'], row['strong_as_positive'],
                row['beta']) == EXPECTED[row['name']], row
        assert row['seeds'] == [0]
        # Both monitors on every row, once per epoch (the quick recipe: 1).
        assert row['monitors'] == [dict(seed=0, epochs=[dict(
            epoch=1, online_probe_top1=pytest.approx(50, abs=50),
            knn_top1=pytest.approx(50, abs=50),
            knn_seconds=pytest.approx(0, abs=1e9))])], row['name']
        assert row['monitors'][0]['epochs'][0]['knn_seconds'] > 0
        for metric in ('linear_top1', 'knn_top1'):
            assert 0 <= row[f'{metric}_mean'] <= 100
            assert row[f'{metric}_std'] == 0
        if row['name'] not in BASES:
            assert row['vs_base'] is None
            continue
        base = next(r for r in results if r['name'] == BASES[row['name']])
        assert row['vs_base']['base'] == base['name']
        for metric in ('linear_top1', 'knn_top1'):
            assert row['vs_base'][metric] == dict(
                seeds=[0],
                differences=[pytest.approx(
                    row[f'{metric}_mean'] - base[f'{metric}_mean'],
                    abs=0.02)],
                mean=pytest.approx(
                    row[f'{metric}_mean'] - base[f'{metric}_mean'],
                    abs=0.02),
                ci95=None, spans_zero=None)
    md = (tmp_path / 'results.md').read_text()
    assert md.startswith('| row | method | DDM |')
    assert '| clsa-beta0.5 | MoCo v2 | yes | no | 0.5 | 1 |' in md
    assert '| byol-ddm-beta0.4 | BYOL | yes | no | 0.4 | 1 |' in md
    assert re.search(r'\| clsa − mocov2 \| [+-][\d.]+ \(one seed: no '
                     r'interval\) \|', md)
    assert 'Paired differences in points' in md
    assert f'Command: `python {TOOL} --quick --work-dir {tmp_path}`' in md
    assert 'Total time of the runs:' in md
    pixels = np.asarray(Image.open(tmp_path / 'results.png'))
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 5

    # Each run keeps its result; a second invocation runs nothing.
    run_files = sorted(tmp_path.glob('runs/*/seed_0/result.json'))
    assert len(run_files) == N
    before = {p: p.read_bytes() for p in run_files}
    mtimes = {p: p.stat().st_mtime_ns for p in run_files}
    results_json = (tmp_path / 'results.json').read_bytes()
    proc = run_tool([TOOL, '--quick', '--work-dir', str(tmp_path)])
    assert f'{N} of {N} runs already done; 0 to run' in proc.stdout
    assert not [ln for ln in proc.stdout.splitlines() if ln.startswith('[')]
    assert {p: p.stat().st_mtime_ns for p in run_files} == mtimes
    assert (tmp_path / 'results.json').read_bytes() == results_json

    # A run whose result is lost resumes its finished pretraining from the
    # last checkpoint (no epoch trained again) and scores the same.
    clsa = tmp_path / 'runs/clsa/seed_0'
    (clsa / 'result.json').unlink()
    proc = run_tool(
        [TOOL, '--quick', '--work-dir', str(tmp_path), '--rows', 'clsa'])
    assert '0 of 1 runs already done; 1 to run' in proc.stdout
    log = (clsa / 'log.txt').read_text()
    assert log.count('Epoch(train)') == log.count('Epoch(train) [1]') > 0
    resumed = log.split('resumed epoch: 1')
    assert len(resumed) == 2 and 'Epoch(train)' not in resumed[1]
    again = json.loads((clsa / 'result.json').read_text())
    first = json.loads(before[clsa / 'result.json'])
    assert (again['linear_top1'], again['knn_top1']) == (
        first['linear_top1'], first['knn_top1'])


def test_summary_is_mean_and_sample_std_over_seeds():
    row = ROWS[ROW_NAMES.index('clsa-beta2')]
    monitors = [dict(epoch=1, online_probe_top1=30.0, knn_top1=35.0,
                     knn_seconds=1.0)]
    results = [
        dict(seed=s, beta=2.0, linear_top1=lin, knn_top1=knn,
             monitors=monitors)
        for s, lin, knn in ((0, 50.0, 40.0), (1, 52.0, 44.0), (2, 54.0, 42.0))
    ]
    summary = summarise(row, results)
    assert summary == dict(
        name='clsa-beta2', method='MoCo v2', ddm=True,
        strong_as_positive=False, beta=2.0, seeds=[0, 1, 2],
        linear_top1_mean=52.0, linear_top1_std=2.0, knn_top1_mean=42.0,
        knn_top1_std=2.0,
        monitors=[dict(seed=s, epochs=monitors) for s in (0, 1, 2)])
    results[1]['beta'] = 1.0
    with pytest.raises(ValueError, match='different betas'):
        summarise(row, results)


def runs(values, seeds=(0, 1, 2), key='linear_top1'):
    return [{'seed': s, key: v} for s, v in zip(seeds, values)]


def test_paired_difference_is_a_t_interval_of_the_per_seed_differences():
    # Differences 2, 2, 2.5: mean 13/6, sample std sqrt(1/12), standard
    # error sqrt(1/36) = 1/6; t(0.975, df 2) = 4.302653 (the t table), so
    # 13/6 ± 4.302653/6 = [1.45, 2.88]. Unpaired, the spread of the
    # seeds (std 1.6 and 1.5) would give an interval that spans 0.
    # The base runs come in another seed order: pairs are made by seed.
    row = runs([50.0, 53.0, 52.5])
    base = runs([50.0, 48.0, 51.0], seeds=(2, 0, 1))
    assert paired_difference(row, base, 'linear_top1') == dict(
        seeds=[0, 1, 2], differences=[2.0, 2.0, 2.5], mean=2.17,
        ci95=[1.45, 2.88], spans_zero=False)


def test_paired_difference_says_when_the_interval_spans_zero():
    # Differences 2, 3, 0: mean 5/3, sample std sqrt(7/3), standard error
    # sqrt(7/9); 5/3 ± 4.302653 * sqrt(7/9) = [-2.13, 5.46].
    diff = paired_difference(runs([50.0, 53.0, 52.0], key='knn_top1'),
                             runs([48.0, 50.0, 52.0], key='knn_top1'),
                             'knn_top1')
    assert diff == dict(seeds=[0, 1, 2], differences=[2.0, 3.0, 0.0],
                        mean=1.67, ci95=[-2.13, 5.46], spans_zero=True)
    cell = ablation_runs.difference_cell(diff)
    assert cell.startswith('+1.7 [-2.1, +5.5]; spans 0, not resolved')
    one = paired_difference(runs([50.0]), runs([48.0]), 'linear_top1')
    assert (one['mean'], one['ci95'], one['spans_zero']) == (2.0, None, None)
    with pytest.raises(ValueError, match=r'no run of seeds \[2\]'):
        paired_difference(runs([1.0, 2.0, 3.0]), runs([1.0, 2.0]),
                          'linear_top1')


def test_each_strong_view_row_is_paired_with_its_methods_base_row():
    assert {row.name: ablation_runs.base_row(row, ROWS).name
            for row in ROWS if row.beta is not None} == BASES
    assert all(ablation_runs.base_row(row, ROWS) is None
               for row in ROWS if row.beta is None)
    # Without the base row in the run, nothing to pair with.
    clsa = ROWS[ROW_NAMES.index('clsa')]
    assert ablation_runs.base_row(clsa, [clsa]) is None


@pytest.mark.parametrize('name, coefficient', [
    # The coefficient of the base loss's pull on its similarities
    # (docs/method_ddm.md): MoCo v3's CE at T scaled by 2T; SimCLR's CE at T
    # averaged over both crops' rows; BYOL's 2 x (cosine loss of each crop).
    ('mocov3-ddm-beta0.4',
     lambda m: m.head.loss.loss_weight / m.head.temperature),
    ('simclr-ddm-beta0.5', lambda m: 1 / (2 * m.head.temperature)),
    ('byol-ddm-beta0.4', lambda m: 2.0),
])
def test_balanced_rows_have_beta_of_the_balance_rule(name, coefficient):
    """β = T2 x the base loss's coefficient, from the row's own config."""
    from mmengine.config import Config
    row = ROWS[ROW_NAMES.index(name)]
    model = Config.fromfile(f'{REPO}/configs/demo/{row.config}.py').model
    assert row.beta == pytest.approx(
        model.ddm_head.ddm_temperature * coefficient(model))
    same_config = [r for r in ROWS if r.config == row.config]
    assert [r.beta for r in same_config] == [1.0, row.beta]
