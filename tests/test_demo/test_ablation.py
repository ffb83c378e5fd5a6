import json
import re

import numpy as np
import pytest
from cli_helpers import load_tool, run_tool
from PIL import Image

ablation_runs = load_tool('tools/benchmarks/ablation_runs.py')
ROW_NAMES, ROWS = ablation_runs.ROW_NAMES, ablation_runs.ROWS
summarise = ablation_runs.summarise

TOOL = 'tools/benchmarks/ablation.py'
KEYS = {
    'name', 'method', 'ddm', 'strong_as_positive', 'beta', 'seeds',
    'linear_top1_mean', 'linear_top1_std', 'knn_top1_mean', 'knn_top1_std'
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
    'simclr': ('SimCLR', False, False, None),
    'simclr-ddm': ('SimCLR', True, False, 1.0),
    'byol': ('BYOL', False, False, None),
    'byol-ddm': ('BYOL', True, False, 1.0),
}


def test_quick_ablation_runs_every_row_and_resumes(tmp_path):
    proc = run_tool([TOOL, '--quick', '--work-dir', str(tmp_path)])
    out = proc.stdout
    assert '0 of 11 runs already done; 11 to run (quick recipe).' in out
    progress = [line for line in out.splitlines() if line.startswith('[')]
    assert [line.split(':')[0] for line in progress] == [
        f'[{i}/11] {name} seed 0' for i, name in enumerate(ROW_NAMES, 1)
    ]
    for line in progress:
        assert re.fullmatch(
            r'\[\d+/11\] \S+ seed 0: linear [\d.]+, k-NN [\d.]+ \(\d+ s\); '
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
        for metric in ('linear_top1', 'knn_top1'):
            assert 0 <= row[f'{metric}_mean'] <= 100
            assert row[f'{metric}_std'] == 0
    md = (tmp_path / 'results.md').read_text()
    assert md.startswith('| row | method | DDM |')
    assert '| clsa-beta0.5 | MoCo v2 | yes | no | 0.5 | 1 |' in md
    assert f'Command: `python {TOOL} --quick --work-dir {tmp_path}`' in md
    assert 'Total time of the runs:' in md
    pixels = np.asarray(Image.open(tmp_path / 'results.png'))
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 5

    # Each run keeps its result; a second invocation runs nothing.
    run_files = sorted(tmp_path.glob('runs/*/seed_0/result.json'))
    assert len(run_files) == 11
    before = {p: p.read_bytes() for p in run_files}
    mtimes = {p: p.stat().st_mtime_ns for p in run_files}
    results_json = (tmp_path / 'results.json').read_bytes()
    proc = run_tool([TOOL, '--quick', '--work-dir', str(tmp_path)])
    assert '11 of 11 runs already done; 0 to run' in proc.stdout
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
    results = [
        dict(seed=s, beta=2.0, linear_top1=lin, knn_top1=knn)
        for s, lin, knn in ((0, 50.0, 40.0), (1, 52.0, 44.0), (2, 54.0, 42.0))
    ]
    summary = summarise(row, results)
    assert summary == dict(
        name='clsa-beta2', method='MoCo v2', ddm=True,
        strong_as_positive=False, beta=2.0, seeds=[0, 1, 2],
        linear_top1_mean=52.0, linear_top1_std=2.0, knn_top1_mean=42.0,
        knn_top1_std=2.0)
    results[1]['beta'] = 1.0
    with pytest.raises(ValueError, match='different betas'):
        summarise(row, results)
