import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from clsa_mm.datasets import UnlabeledImageDataset
from clsa_mm.datasets.transforms import LoadRGBImageFromFile, load_rgb_image


def dataset(root, **kwargs):
    kwargs.setdefault('data_prefix', 'train')
    return UnlabeledImageDataset(data_root=root, **kwargs)


def test_folder_layout(tiny_imagenet):
    ds = dataset(tiny_imagenet)
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert len(paths) == 12
    assert paths[0] == osp.join(tiny_imagenet, 'train', 'class0', '0.jpg')
    assert all(osp.isfile(p) for p in paths)


def test_list_file_with_and_without_labels(tiny_imagenet, tmp_path):
    root = tmp_path / 'imagenet'
    shutil.copytree(osp.join(tiny_imagenet, 'train'), root / 'train')
    (root / 'meta').mkdir()
    (root / 'meta' / 'train.txt').write_text(
        'class0/0.jpg 0\nclass1/2.jpg 1\n\nclass2/3.jpg\n')
    ds = dataset(str(root), ann_file='meta/train.txt')
    assert [ds.get_data_info(i)['img_path'] for i in range(len(ds))] == [
        str(root / 'train' / 'class0' / '0.jpg'),
        str(root / 'train' / 'class1' / '2.jpg'),
        str(root / 'train' / 'class2' / '3.jpg'),
    ]


def test_missing_or_empty_data(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        dataset(missing)
    with pytest.raises(FileNotFoundError, match=r'train.* does not exist'):
        dataset(str(tmp_path))
    (tmp_path / 'train' / 'class0').mkdir(parents=True)
    (tmp_path / 'train' / 'class0' / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match=r'train holds no images'):
        dataset(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'meta/train.txt'):
        dataset(str(tmp_path), ann_file='meta/train.txt')
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta' / 'train.txt').write_text('\n')
    with pytest.raises(ValueError, match=r'meta/train.txt names no images'):
        dataset(str(tmp_path), ann_file='meta/train.txt')


def test_decodes_rgb(tmp_path):
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    Image.fromarray(rgb).save(tmp_path / 'red.png')
    Image.fromarray(rgb[..., 0]).save(tmp_path / 'gray.png')
    out = LoadRGBImageFromFile()(dict(img_path=str(tmp_path / 'red.png')))
    assert np.array_equal(out['img'], rgb)
    assert out['img_shape'] == out['ori_shape'] == (4, 5)
    out = LoadRGBImageFromFile()(dict(img_path=str(tmp_path / 'gray.png')))
    assert out['img'].shape == (4, 5, 3) and out['img'].min() == 255
    assert out['img'].flags.writeable


@pytest.fixture
def broken(tiny_imagenet, tmp_path):
    """A folder with one good, one truncated and one garbage image."""
    folder = tmp_path / 'train'
    folder.mkdir()
    good = osp.join(tiny_imagenet, 'train', 'class0', '0.jpg')
    shutil.copy(good, folder / 'a_good.jpg')
    data = open(good, 'rb').read()
    (folder / 'b_truncated.jpg').write_bytes(data[:len(data) // 2])
    (folder / 'c_garbage.jpg').write_bytes(os.urandom(300))
    return tmp_path


@pytest.mark.parametrize('name', ['b_truncated.jpg', 'c_garbage.jpg',
                                  'd_missing.jpg'])
def test_bad_image_is_an_error_naming_the_file(broken, name):
    path = str(broken / 'train' / name)
    with pytest.raises(OSError, match=f'Cannot load image {path}'):
        LoadRGBImageFromFile()(dict(img_path=path))


def test_ignore_corrupt_skips_and_counts(broken, monkeypatch, clsa_scope):
    messages = []
    monkeypatch.setattr(load_rgb_image, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    ds = dataset(
        str(broken),
        pipeline=[dict(type='LoadRGBImageFromFile', ignore_corrupt=True)])
    assert len(ds) == 3
    good = ds[0]['img']
    np.random.seed(0)
    # The dataset fetches random other indices until one loads.
    for index in (1, 2, 1):
        assert np.array_equal(ds[index]['img'], good)
    assert len(messages) >= 3
    assert 'b_truncated.jpg' in messages[0]
    assert '1 skipped so far' in messages[0]
    assert f'{len(messages)} skipped so far' in messages[-1]
    assert any('c_garbage.jpg' in m for m in messages)


def test_without_ignore_corrupt_the_dataset_raises(broken, clsa_scope):
    ds = dataset(str(broken), pipeline=[dict(type='LoadRGBImageFromFile')])
    with pytest.raises(OSError, match='b_truncated.jpg'):
        ds[1]
