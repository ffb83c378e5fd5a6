"""``extract_backbone_weights.py --to detectron2``: names, tensors, errors."""
import os.path as osp
import pickle
import runpy
import sys

import numpy as np
import pytest
import torch

from clsa_mm.checkpoint import backbone_checkpoint, convert_reference_clsa
from clsa_mm.testing import clsa_checkpoint, reference_checkpoint
from cli_helpers import REPO

EXTRACT = 'tools/model_converters/extract_backbone_weights.py'


def run_extract(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', [EXTRACT, *map(str, args)])
    runpy.run_path(osp.join(REPO, EXTRACT), run_name='__main__')


def moco_convert(state_dict):
    """MoCo's convert-pretrain-to-detectron2.py, step by step, on a dict."""
    model = {}
    for k, v in state_dict.items():
        if not k.startswith('module.encoder_q.'):
            continue
        k = k.replace('module.encoder_q.', '')
        if 'layer' not in k:
            k = 'stem.' + k
        for t in [1, 2, 3, 4]:
            k = k.replace(f'layer{t}', f'res{t + 1}')
        for t in [1, 2, 3]:
            k = k.replace(f'bn{t}', f'conv{t}.norm')
        k = k.replace('downsample.0', 'shortcut')
        k = k.replace('downsample.1', 'shortcut.norm')
        model[k] = v.numpy()
    return model


def load_pickle(path):
    with open(path, 'rb') as f:
        # as detectron2's DetectionCheckpointer reads .pkl files
        return pickle.load(f, encoding='latin1')


def assert_same_arrays(actual, expected):
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert isinstance(actual[key], np.ndarray), key
        assert actual[key].dtype == value.dtype, key
        assert np.array_equal(actual[key], value), key


@pytest.fixture(scope='module')
def r50(tmp_path_factory):
    """A clsa_mm R50 checkpoint, its export and the reference it came from.

    The clsa_mm checkpoint is converted from an authors'-code checkpoint, so
    the detectron2 export can be compared with what MoCo's converter makes
    of the authors' file.
    """
    folder = tmp_path_factory.mktemp('d2')
    reference = reference_checkpoint(50)
    converted = convert_reference_clsa(reference, 'ref.pth.tar')
    torch.save(converted, folder / 'clsa.pth')
    torch.save(backbone_checkpoint(converted, 'clsa.pth'),
               folder / 'backbone.pth')
    return folder, reference


def test_detectron2_export_matches_moco_converter(tmp_path, monkeypatch, r50):
    folder, reference = r50
    out = tmp_path / 'clsa_r50.pkl'
    run_extract(monkeypatch, folder / 'clsa.pth', out, '--to', 'detectron2')
    exported = load_pickle(out)
    assert set(exported) == {'model', '__author__', 'matching_heuristics'}
    assert exported['matching_heuristics'] is True
    assert exported['__author__'] == 'clsa_mm'
    model = exported['model']

    # Every tensor of the encoder, under MoCo's name, equal to the source.
    # MoCo's converter also carries the projection MLP (as stem.fc.*, which
    # detectron2 leaves unused); the export holds the encoder only.
    moco = moco_convert(reference['state_dict'])
    assert sorted(k for k in moco if k not in model) == [
        'stem.fc.0.bias', 'stem.fc.0.weight', 'stem.fc.2.bias',
        'stem.fc.2.weight'
    ]
    assert_same_arrays(
        model, {k: v for k, v in moco.items() if not k.startswith('stem.fc')})
    # ... which is the 53 convs and 53 batch norms of a ResNet-50.
    assert len(model) == 53 + 53 * 5
    for key in ('stem.conv1.weight', 'stem.conv1.norm.running_var',
                'res2.0.conv1.weight', 'res2.0.conv1.norm.bias',
                'res2.0.shortcut.weight', 'res2.0.shortcut.norm.weight',
                'res5.2.conv3.norm.running_mean'):
        assert key in model, key
    assert model['res2.0.shortcut.weight'].shape == (256, 64, 1, 1)
    assert model['res5.0.conv2.weight'].shape == (512, 512, 3, 3)

    # An exported backbone gives the same file.
    out2 = tmp_path / 'from_backbone.pkl'
    run_extract(monkeypatch, folder / 'backbone.pth', out2, '--to',
                'detectron2')
    assert_same_arrays(load_pickle(out2)['model'], model)

    # An existing output is kept unless --force.
    with pytest.raises(FileExistsError, match='--force'):
        run_extract(monkeypatch, folder / 'clsa.pth', out, '--to',
                    'detectron2')
    run_extract(monkeypatch, folder / 'clsa.pth', out, '--to', 'detectron2',
                '--force')


def test_detectron2_export_refuses_what_is_not_a_resnet50(
        tmp_path, monkeypatch):
    r18 = tmp_path / 'clsa_r18.pth'
    torch.save(clsa_checkpoint(18), r18)
    with pytest.raises(ValueError) as info:
        run_extract(monkeypatch, r18, tmp_path / 'out.pkl', '--to',
                    'detectron2')
    message = str(info.value)
    assert str(r18) in message and 'ResNet-50' in message
    assert 'missing keys' in message and 'wrong shapes' in message
    assert not (tmp_path / 'out.pkl').exists()

    # A ResNet-50 with one tensor of the wrong shape.
    state_dict = clsa_checkpoint(50)['state_dict']
    state_dict['backbone.layer3.1.conv2.weight'] = torch.zeros(256, 256, 1, 1)
    bad = tmp_path / 'bad_r50.pth'
    torch.save(dict(state_dict=state_dict), bad)
    with pytest.raises(ValueError,
                       match=r'layer3\.1\.conv2\.weight \(256, 256, 1, 1\)'):
        run_extract(monkeypatch, bad, tmp_path / 'out.pkl', '--to',
                    'detectron2')

    # Not a checkpoint with a backbone at all.
    other = tmp_path / 'other.pth'
    torch.save(dict(state_dict=dict(weight=torch.zeros(3))), other)
    with pytest.raises(ValueError, match=str(other)):
        run_extract(monkeypatch, other, tmp_path / 'out.pkl', '--to',
                    'detectron2')
