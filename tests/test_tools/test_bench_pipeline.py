"""tools/benchmarks/bench_pipeline.py: ours and the baseline make the same
views; the rates and the image it times."""
import numpy as np
import pytest
import torch
from PIL import Image

from cli_helpers import load_tool

bench_pipeline = load_tool('tools/benchmarks/bench_pipeline.py')
SETTINGS = bench_pipeline.SETTINGS
build_baseline = bench_pipeline.build_baseline
build_ours = bench_pipeline.build_ours
compare_pipelines = bench_pipeline.compare_pipelines
load_image = bench_pipeline.load_image


@pytest.fixture(scope='module')
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)


@pytest.mark.parametrize('setting', sorted(SETTINGS))
def test_ours_and_the_baseline_make_the_same_views(image, setting):
    ours = build_ours(*SETTINGS[setting])(image)
    baseline = build_baseline(*SETTINGS[setting])(Image.fromarray(image))
    weak, strong = SETTINGS[setting]
    assert len(ours) == len(baseline) == 1 + len(weak) + len(strong)
    for mine, theirs in zip(ours, baseline):
        assert mine.dtype == theirs.dtype == torch.uint8
        assert mine.shape == theirs.shape
    sizes = [view.shape[-1] for view in ours]
    assert sizes == {
        'single-crop': [224, 224, 96],
        'multi-crop': [224] + [224, 192, 160, 128, 96] * 2,
    }[setting]


def test_compare_pipelines_reports_rates_per_setting(image):
    rates = compare_pipelines(image, samples=2, warmup=0, repeat=1,
                              settings=['single-crop'])
    assert list(rates) == ['single-crop']
    assert all(rate > 0 for rate in rates['single-crop'])


def test_load_image_defaults_to_the_coffee_photograph(tmp_path):
    assert load_image().shape == (375, 500, 3)
    path = tmp_path / 'grey.png'
    Image.fromarray(np.full((8, 6), 7, np.uint8)).save(path)
    img = load_image(str(path))
    assert img.shape == (8, 6, 3) and (img == 7).all()
