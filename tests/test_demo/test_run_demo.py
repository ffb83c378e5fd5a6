import json
import re

import numpy as np
from cli_helpers import run_tool
from PIL import Image

from clsa_mm.utils import load_local_checkpoint


def test_quick_demo_runs_every_step(tmp_path):
    proc = run_tool(
        ['tools/demo.sh', '3', '--quick', '--work-dir',
         str(tmp_path)])
    out = proc.stdout + proc.stderr
    run = tmp_path / 'quick_seed_3'
    for step in range(1, 7):
        assert f'[{step}/6] done in' in out
    assert re.search(r'\| CLSA pretrained \(seed 3\) \| [\d.]+ \| [\d.]+ \|',
                     out)
    assert re.search(r'\| random initialisation \| [\d.]+ \| [\d.]+ \|', out)

    results = json.loads((run / 'results.json').read_text())
    assert results['seed'] == 3
    assert results['checkpoint'].endswith('pretrain/epoch_1.pth')
    for name in ('clsa', 'random'):
        for metric in ('linear_top1', 'knn_top1'):
            assert 0 <= results['results'][name][metric] <= 100
    assert (run / 'results.md').read_text().startswith('| backbone')

    # The seed reached pretraining; the exported backbone is CLSA's encoder.
    ckpt = load_local_checkpoint(results['checkpoint'])
    assert ckpt['meta']['seed'] == 3
    clsa = load_local_checkpoint(str(run / 'backbone_clsa.pth'))
    assert clsa['state_dict'].keys() == {
        k[len('backbone.'):]
        for k in ckpt['state_dict'] if k.startswith('backbone.')
    }
    random = load_local_checkpoint(str(run / 'backbone_random.pth'))
    assert random['meta']['source'] == 'random initialisation'

    for png in ('training_curves.png', 'views.png'):
        pixels = np.asarray(Image.open(run / png))
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]),
                             axis=0)) > 50


def test_demo_rejects_a_bad_seed():
    proc = run_tool(['tools/demo.sh', 'one'], check=False)
    assert proc.returncode == 2
    assert "SEED must be a non-negative integer, got 'one'" in proc.stderr
