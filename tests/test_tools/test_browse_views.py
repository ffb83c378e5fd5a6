import os.path as osp

import numpy as np
import pytest
from cli_helpers import REPO, run_tool
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from PIL import Image

from clsa_mm.utils import register_all_modules
from clsa_mm.visualization import clsa_view_cells

MCROP = osp.join(REPO, 'configs/clsa/r50_8xb32-mcrop_200e.py')


def train_pipeline(config):
    register_all_modules(init_default_scope=False)
    init_default_scope('clsa_mm')
    cfg = Config.fromfile(config)
    return Compose(cfg.train_dataloader.dataset.pipeline)


def sample(tiny_imagenet):
    return dict(img_path=osp.join(tiny_imagenet, 'train/class1/0.jpg'))


def test_cells_of_multi_crop_views(tiny_imagenet):
    pipeline = train_pipeline(MCROP)
    np.random.seed(3)
    cells = clsa_view_cells(pipeline.transforms, sample(tiny_imagenet))
    titles = [cell['title'] for cell in cells]
    assert titles == ['0.jpg 64x48', 'key x_k 224x224'] + [
        f'weak x_q[{i}] {s}x{s}' for i, s in enumerate((224, 192, 160, 128,
                                                         96))
    ] + [
        f'strong x_s[{j}] {s}x{s}'
        for j, s in enumerate((224, 192, 160, 128, 96))
    ]
    assert cells[0]['img'].shape == (48, 64, 3)
    assert [c['img'].shape[0] for c in cells[1:]] == [
        224, 224, 192, 160, 128, 96, 224, 192, 160, 128, 96
    ]

    # The captions are the ops StrongAugment applied to those very views.
    np.random.seed(3)
    results = pipeline.transforms[1](pipeline.transforms[0](
        sample(tiny_imagenet)))
    expected = [', '.join(ops) or '(no op applied)'
                for ops in results['strong_ops']]
    assert [c.get('caption') for c in cells[7:]] == expected
    assert all('caption' not in c for c in cells[:7])
    for cell, view in zip(cells[1:], results['img']):
        assert np.array_equal(cell['img'], view)


def test_pipeline_without_views_is_refused(tiny_imagenet):
    pipeline = train_pipeline(
        osp.join(REPO, 'configs/benchmarks/classification/imagenet/'
                 'r50_linear-8xb32-coslr-100e_in1k.py'))
    with pytest.raises(ValueError, match='is it a CLSA pretraining'):
        clsa_view_cells(pipeline.transforms, sample(tiny_imagenet))


def test_browse_views_writes_png(tmp_path, tiny_imagenet):
    out = tmp_path / 'views.png'
    proc = run_tool([
        'tools/analysis_tools/browse_views.py',
        'configs/clsa/r18_tiny_cpu.py', '--num', '3', '--output',
        str(out), '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_imagenet}'
    ])
    assert f'Wrote the views of 3 images to {out}' in (proc.stdout +
                                                        proc.stderr)
    png = np.asarray(Image.open(out))
    # 3 rows of 4 cells (original, key, weak query, strong view).
    assert png.shape[0] > png.shape[1] > 300
    assert len(np.unique(png.reshape(-1, png.shape[-1]), axis=0)) > 100
