import json
import re

import mmcv
import numpy as np
import pytest
from cli_helpers import run_tool

from clsa_mm.datasets.demo_data import (hold_out_cells, load_photo,
                                    make_demo_data, sample_boxes)

TOOL = 'tools/dataset_converters/make_demo_data.py'
SMALL = dict(photos=['astronaut', 'coins', 'china'], train_per_class=4,
             val_per_class=2, size=32)
SMALL_ARGS = ['--photos', 'astronaut', 'coins', 'china', '--train-per-class',
              '4', '--val-per-class', '2', '--size', '32']


def tree(root):
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


def test_command_line_makes_an_imagenet_style_folder(tmp_path):
    out = tmp_path / 'demo'
    proc = run_tool([TOOL, '--out', str(out), *SMALL_ARGS, '--lighting',
                     '0.3'])
    assert 'Wrote 12 training and 6 validation patches of 3 classes' in (
        proc.stdout + proc.stderr)
    classes = ['astronaut', 'coins', 'china']
    for split, num in (('train', 4), ('val', 2)):
        assert sorted(p.name for p in (out / split).iterdir()) == sorted(
            classes)
        for name in classes:
            files = sorted((out / split / name).iterdir())
            assert [f.name for f in files
                    ] == [f'{name}_{i:04d}.jpg' for i in range(num)]
            img = mmcv.imread(str(files[0])).astype(int)
            assert img.shape == (32, 32, 3)
            # Grey by default (up to JPEG rounding), also astronaut/china.
            assert np.abs(img - img[..., :1]).max() <= 2
        lines = (out / 'meta' / f'{split}.txt').read_text().splitlines()
        assert len(lines) == 3 * num
        assert lines[0] == 'astronaut/astronaut_0000.jpg 0'
        assert lines[-1] == f'china/china_{num - 1:04d}.jpg 2'
    assert (out / 'meta/classes.txt').read_text().split() == classes
    manifest = json.loads((out / 'demo_data.json').read_text())
    assert manifest['counts'] == {'train': 12, 'val': 6}
    assert manifest['settings']['seed'] == 0
    assert manifest['settings']['lighting'] == 0.3
    # Only the finished folder is left, no temporary one next to it.
    assert [p.name for p in tmp_path.iterdir()] == ['demo']

    proc = run_tool([TOOL, '--out', str(out), *SMALL_ARGS, '--seed', '3'],
                    check=False)
    assert proc.returncode != 0
    assert 'make_demo_data.py: error:' in proc.stderr
    assert 'made with other settings' in proc.stderr


def test_seeded_and_never_clobbers(tmp_path):
    out = tmp_path / 'demo'
    assert make_demo_data(str(out), **SMALL) == {'train': 12, 'val': 6}
    before = tree(out)
    make_demo_data(str(tmp_path / 'same_seed'), **SMALL)
    assert tree(tmp_path / 'same_seed') == before

    # same settings: reused as it is
    assert make_demo_data(str(out), **SMALL) is None
    assert tree(out) == before

    with pytest.raises(FileExistsError) as error:
        make_demo_data(str(out), seed=3, **SMALL)
    assert 'made with other settings (seed: 0 -> 3)' in str(error.value)
    assert '--overwrite' in str(error.value)
    assert tree(out) == before

    make_demo_data(str(out), overwrite=True, seed=3, color=True, **SMALL)
    after = tree(out)
    settings = json.loads(after['demo_data.json'])['settings']
    assert settings['seed'] == 3 and settings['color']
    china = mmcv.imread(str(out / 'train/china/china_0000.jpg')).astype(int)
    assert np.abs(china - china[..., :1]).max() > 20
    assert after.keys() == before.keys()
    assert after['train/coins/coins_0000.jpg'] != before[
        'train/coins/coins_0000.jpg']

    users = tmp_path / 'users_folder'
    (users / 'train').mkdir(parents=True)
    (users / 'train' / 'precious.jpg').write_bytes(b'mine')
    with pytest.raises(FileExistsError) as error:
        make_demo_data(str(users), overwrite=True, **SMALL)
    assert 'was not made by this tool' in str(error.value)
    assert (users / 'train' / 'precious.jpg').read_bytes() == b'mine'


@pytest.mark.parametrize('bad, message', [
    (dict(scale=(0.3, 0.2)), 'scale (0.3, 0.2)'),
    (dict(val_cells=1.5), 'val_cells 1.5'),
    (dict(photos=['lena']), "photos ['lena']"),
    (dict(size=0), 'size 0'),
    (dict(colour=True), "unknown demo data settings ['colour']"),
])
def test_bad_settings_are_named(tmp_path, bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_demo_data(str(tmp_path / 'demo'), **dict(SMALL, **bad))
    assert not (tmp_path / 'demo').exists()


@pytest.mark.parametrize('photo', ['coins', 'china', 'retina'])
def test_train_and_val_patches_share_no_pixel(photo):
    scale = (0.12, 0.3)
    img = load_photo(photo)
    rng = np.random.default_rng(0)
    cell, val_cells = hold_out_cells(img, scale, 0.25, rng)
    assert cell == int(0.3 * min(img.shape[:2]))
    train = sample_boxes(img, 80, scale, rng, cell, val_cells, val=False)
    val = sample_boxes(img, 20, scale, rng, cell, val_cells, val=True)

    def pixels(boxes):
        mask = np.zeros(img.shape[:2], bool)
        for x, y, side in boxes:
            assert 0.12 * min(img.shape[:2]) - 1 <= side <= cell
            mask[y:y + side, x:x + side] = True
        return mask

    train_mask, val_mask = pixels(train), pixels(val)
    assert val_mask.any() and train_mask.sum() > val_mask.sum()
    assert not (train_mask & val_mask).any()
    # Near-uniform patches (retina's black border) were redrawn.
    assert all(img[y:y + s, x:x + s].std() >= 8 for x, y, s in train + val)
