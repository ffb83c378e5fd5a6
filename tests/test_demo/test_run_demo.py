import json
import re

import numpy as np
import torch
from cli_helpers import REPO, load_tool, run_tool
from PIL import Image

from clsa_mm.checkpoint import load_local_checkpoint

Demo = load_tool('tools/demo_steps.py').Demo


def test_quick_demo_runs_every_step_quietly(tmp_path):
    proc = run_tool(
        ['tools/demo.sh', '3', '--quick', '--work-dir',
         str(tmp_path)])
    out = proc.stdout + proc.stderr
    run = tmp_path / 'quick_seed_3'
    # One line per step with its time, the table and where things are;
    # the runners' logs are in files.
    steps = [line for line in out.splitlines() if line.startswith('[')]
    assert len(steps) == 8
    for step, line in enumerate(steps, 1):
        assert re.fullmatch(rf'\[{step}/8\] .* \.\.\. done in \d+ s', line)
    assert len(out.splitlines()) <= 40, out
    assert 'mmengine - INFO' not in out
    assert re.search(r'\| CLSA pretrained \(seed 3\) \| [\d.]+ \| [\d.]+ \|',
                     out)
    assert re.search(
        r'\| MoCo v2 pretrained \(seed 3\) \| [\d.]+ \| [\d.]+ \|', out)
    assert re.search(r'\| random initialisation \| [\d.]+ \| [\d.]+ \|', out)
    # Under the table, what one seed says and where the evidence is.
    table_end = out.index('| random initialisation |')
    after = out[table_end:].splitlines()[1:4]
    assert after[0] == '' and 'One seed is one draw' in after[1], after
    assert 'thread count' in after[1] and 'ablation' in after[1]
    for pair in ('CLSA minus MoCo v2', 'CLSA minus random',
                 'MoCo v2 minus random'):
        assert re.search(pair + r': [+-][\d.]+ points \(linear probe\), '
                         r'[+-][\d.]+ points \(k-NN\)', out), pair
    # The online monitors' last epoch next to the offline scores.
    for label in ('CLSA', 'MoCo v2'):
        assert re.search(rf'\| {label} \| [\d.]+ \| [\d.]+ \| [\d.]+ \| '
                         r'[\d.]+ \|', out), label
    assert '| pretrained backbone | online probe top-1 (last epoch) |' in out
    assert 'Online: the linear probe trained beside pretraining' in out
    logs = run / 'logs'
    assert f'the output of every step in {logs}/' in out
    assert 'Epoch(train)' in (logs / '2_pretrain_clsa.log').read_text()
    # MoCo v2 is mmpretrain's MoCo with the probe, trained on the key and
    # weak views only; both pretrainings evaluate both monitors.
    mocov2_log = (logs / '3_pretrain_mocov2.log').read_text()
    assert 'Epoch(train)' in mocov2_log
    assert "type='MoCoWithProbe'" in mocov2_log
    for name in ('2_pretrain_clsa', '3_pretrain_mocov2'):
        log = (logs / f'{name}.log').read_text()
        assert 'Epoch(knn) [1] knn/top1' in log, name
        assert 'online_probe/val_top1' in log, name
    assert 'Epoch(train)' in (logs / '5_linear_clsa.log').read_text()
    assert 'Epoch(train)' in (logs / '6_linear_mocov2.log').read_text()
    assert 'k-NN' in (logs / '7_knn_random.log').read_text()

    results = json.loads((run / 'results.json').read_text())
    assert results['seed'] == 3
    assert results['checkpoints']['clsa'].endswith(
        'pretrain_clsa/epoch_1.pth')
    assert results['checkpoints']['mocov2'].endswith(
        'pretrain_mocov2/epoch_1.pth')
    for name in ('clsa', 'mocov2', 'random'):
        for metric in ('linear_top1', 'knn_top1'):
            assert 0 <= results['results'][name][metric] <= 100
    # A broken pipeline (one backbone evaluated twice, a probe that reads
    # no features) prints two equal rows; two different backbones do not.
    assert results['results']['clsa'] != results['results']['random']
    assert results['results']['mocov2'] != results['results']['random']
    assert (run / 'results.md').read_text().startswith('| backbone')
    # One record of both monitors per epoch (the quick demo: 1 epoch).
    for name in ('clsa', 'mocov2'):
        assert [set(r) for r in results['monitors'][name]] == [
            {'epoch', 'online_probe_top1', 'knn_top1', 'knn_seconds'}]
        assert results['monitors'][name][0]['epoch'] == 1
    # The quick data settings of clsa_mm.utils.QUICK_RECIPE.
    manifest = json.loads((run / 'data' / 'demo_data.json').read_text())
    assert manifest['counts'] == {'train': 24, 'val': 12}
    assert manifest['settings']['size'] == 32

    # The seed reached pretraining; the exported backbone is CLSA's encoder.
    for name in ('clsa', 'mocov2'):
        ckpt = load_local_checkpoint(results['checkpoints'][name])
        assert ckpt['meta']['seed'] == 3
        backbone = load_local_checkpoint(str(run / f'backbone_{name}.pth'))
        assert backbone['state_dict'].keys() == {
            k[len('backbone.'):]
            for k in ckpt['state_dict'] if k.startswith('backbone.')
        }
    clsa = load_local_checkpoint(str(run / 'backbone_clsa.pth'))
    mocov2 = load_local_checkpoint(str(run / 'backbone_mocov2.pth'))
    assert any(not torch.equal(value, mocov2['state_dict'][key])
               for key, value in clsa['state_dict'].items()
               if value.is_floating_point())
    random = load_local_checkpoint(str(run / 'backbone_random.pth'))
    assert random['meta']['source'] == 'random initialisation'
    assert random['state_dict'].keys() == clsa['state_dict'].keys()
    assert any(not torch.equal(value, random['state_dict'][key])
               for key, value in clsa['state_dict'].items()
               if value.is_floating_point())

    for png in ('training_curves.png', 'monitors.png', 'views.png'):
        pixels = np.asarray(Image.open(run / png))
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]),
                             axis=0)) > 50


def test_summary_says_one_seed_is_one_draw_under_the_table(tmp_path):
    demo = Demo(REPO, 5, str(tmp_path), quick=True)
    results = dict(clsa=(57.5, 51.1), mocov2=(57.5, 50.8),
                   random=(44.4, 40.0))
    monitors = {name: [dict(epoch=1, online_probe_top1=50.0, knn_top1=45.0,
                            knn_seconds=2.0)] for name in ('clsa', 'mocov2')}
    summary = demo.write_results({}, results, 1.0, monitors).splitlines()
    assert '| CLSA | 50.0 | 57.5 | 45.0 | 51.1 |' in summary
    assert '| MoCo v2 | 50.0 | 57.5 | 45.0 | 50.8 |' in summary
    last_row = summary.index('| random initialisation | 44.4 | 40.0 |')
    assert summary[last_row + 1] == ''
    note = summary[last_row + 2]
    assert note.startswith('One seed is one draw'), summary
    assert 'change' in note and 'thread count' in note
    assert 'mean ± std' in note and 'docs/ablation.md' in note
    assert (tmp_path / 'results.md').read_text().splitlines()[
        last_row + 2] == note


def test_demo_rejects_a_bad_seed():
    proc = run_tool(['tools/demo.sh', 'one'], check=False)
    assert proc.returncode == 2
    assert "SEED must be a non-negative integer, got 'one'" in proc.stderr
