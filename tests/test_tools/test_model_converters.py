import os.path as osp
import runpy
import sys

import pytest
import torch
import torchvision
from mmengine.config import Config

from clsa_mm.checkpoint import (backbone_checkpoint, convert_reference_clsa,
                                load_checkpoint_of_kind)
from clsa_mm.registry import MODELS
from clsa_mm.testing import clsa_checkpoint, reference_checkpoint
from clsa_mm.checkpoint import load_local_checkpoint
from clsa_mm.utils import register_all_modules
from cli_helpers import REPO, run_tool

EXTRACT = 'tools/model_converters/extract_backbone_weights.py'
CONVERT = 'tools/model_converters/convert_reference_clsa.py'


def build_clsa(depth, queue_len):
    """clsa_mm's CLSA model (its pretraining config) with a small ResNet."""
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/clsa_r50.py'))
    channels = 512 if depth == 18 else 2048
    cfg.merge_from_dict({
        'model.backbone.depth': depth,
        'model.neck.in_channels': channels,
        'model.neck.hid_channels': channels,
        'model.queue_len': queue_len,
    })
    return MODELS.build(cfg.model)


def run_script(monkeypatch, script, *args):
    """Run a tools/ script in this process (faster than a subprocess)."""
    monkeypatch.setattr(sys, 'argv', [script, *map(str, args)])
    runpy.run_path(osp.join(REPO, script), run_name='__main__')


def assert_same_tensors(actual, expected):
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def subdict(state_dict, prefix, drop=()):
    return {
        k[len(prefix):]: v
        for k, v in state_dict.items()
        if k.startswith(prefix) and not k[len(prefix):].startswith(drop)
    }


def test_extract_backbone_weights_for_mmpretrain_and_mmdet(
        tmp_path, monkeypatch):
    from mmdet.models import ResNet as DetResNet
    from mmpretrain.models import ResNet
    checkpoint = clsa_checkpoint(18)
    torch.save(checkpoint, tmp_path / 'clsa.pth')
    out = tmp_path / 'backbone.pth'
    run_script(monkeypatch, EXTRACT, tmp_path / 'clsa.pth', out)

    exported = load_local_checkpoint(str(out))
    assert set(exported) == {'state_dict', 'meta'}
    assert exported['meta']['source'] == str(tmp_path / 'clsa.pth')
    assert exported['meta']['epoch'] == 3
    backbone = subdict(checkpoint['state_dict'], 'backbone.')
    assert_same_tensors(exported['state_dict'], backbone)
    for resnet in (ResNet(depth=18), DetResNet(depth=18)):
        resnet.load_state_dict(exported['state_dict'])  # strict
        assert_same_tensors(resnet.state_dict(), backbone)


def test_extract_to_torchvision_loads_into_resnet50(tmp_path, monkeypatch):
    checkpoint = clsa_checkpoint(50)
    torch.save(checkpoint, tmp_path / 'clsa.pth')
    out = tmp_path / 'resnet50.pth'
    run_script(monkeypatch, EXTRACT, tmp_path / 'clsa.pth', out, '--to',
               'torchvision')
    state_dict = torch.load(out, weights_only=True)
    resnet = torchvision.models.resnet50()
    result = resnet.load_state_dict(state_dict, strict=False)
    assert sorted(result.missing_keys) == ['fc.bias', 'fc.weight']
    assert result.unexpected_keys == []
    assert_same_tensors(
        subdict(resnet.state_dict(), '', drop=('fc.', )),
        subdict(checkpoint['state_dict'], 'backbone.'))


def test_reference_checkpoint_round_trip(tmp_path):
    reference = reference_checkpoint(18)
    ref = reference['state_dict']
    torch.save(reference, tmp_path / 'reference.pth')
    converted_path = tmp_path / 'clsa.pth'
    run_tool([CONVERT, str(tmp_path / 'reference.pth'), str(converted_path)])

    converted = load_local_checkpoint(str(converted_path))
    state = converted['state_dict']
    assert converted['meta']['epoch'] == 200
    # It fits clsa_mm's CLSA model exactly, as our test checkpoints do.
    model = build_clsa(18, queue_len=64)
    model.load_state_dict(state)  # strict
    layout = clsa_checkpoint(18)['state_dict']
    assert {k: v.shape for k, v in layout.items()} == {
        k: v.shape for k, v in model.state_dict().items()}
    assert_same_tensors(
        subdict(state, 'backbone.'),
        subdict(ref, 'module.encoder_q.', drop=('fc.', )))
    assert_same_tensors(
        subdict(state, 'encoder_k.module.0.'),
        subdict(ref, 'module.encoder_k.', drop=('fc.', )))
    assert_same_tensors(
        subdict(state, 'neck.mlp.'), subdict(ref, 'module.encoder_q.fc.'))
    assert_same_tensors(
        subdict(state, 'encoder_k.module.1.mlp.'),
        subdict(ref, 'module.encoder_k.fc.'))
    assert torch.equal(state['queue'], ref['module.queue'])
    assert torch.equal(state['queue_ptr'], ref['module.queue_ptr'])
    assert state['encoder_k.steps'] >= 1  # the EMA keeps encoder_k

    # ... and back to the torchvision layout of the reference encoder_q.
    run_tool([
        EXTRACT,
        str(converted_path),
        str(tmp_path / 'tv.pth'), '--to', 'torchvision'
    ])
    assert_same_tensors(
        torch.load(tmp_path / 'tv.pth', weights_only=True),
        subdict(ref, 'module.encoder_q.', drop=('fc.', )))


@pytest.mark.parametrize('tool, kind, expected', [
    (EXTRACT, 'reference', 'convert_reference_clsa.py'),
    (EXTRACT, 'exported', "is not a clsa_mm checkpoint ('backbone.*' keys"),
    (CONVERT, 'clsa_mm', "is not a checkpoint of the authors' CLSA code"),
])
def test_converters_refuse_a_file_of_the_wrong_kind(tmp_path, monkeypatch,
                                                    tool, kind, expected):
    checkpoint = {
        'reference': reference_checkpoint(18),
        'clsa_mm': clsa_checkpoint(18),
        'exported': backbone_checkpoint(clsa_checkpoint(18), 'x'),
    }[kind]
    path = tmp_path / f'{kind}.pth'
    torch.save(checkpoint, path)
    out = tmp_path / 'out.pth'
    with pytest.raises(ValueError) as error:
        run_script(monkeypatch, tool, path, out)
    assert str(error.value).startswith(str(path))
    assert expected in str(error.value)
    assert not out.exists()


def test_unknown_and_headless_files_are_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'roi_head.fc.weight': torch.zeros(2)}}, path)
    with pytest.raises(ValueError, match='keys roi_head.fc.weight'):
        load_checkpoint_of_kind(str(path), ('clsa_mm', 'backbone'))
    # The authors' code without --mlp has no MLP head to become the neck.
    reference = reference_checkpoint(18)
    for key in list(reference['state_dict']):
        if '.fc.' in key:
            del reference['state_dict'][key]
    reference['state_dict']['module.encoder_q.fc.weight'] = torch.zeros(2)
    with pytest.raises(ValueError, match='MLP head'):
        convert_reference_clsa(reference, 'ref.pth')


@pytest.mark.parametrize('tool', [EXTRACT, CONVERT])
def test_converters_do_not_overwrite_without_force(tmp_path, monkeypatch,
                                                   tool):
    checkpoint = (clsa_checkpoint if tool == EXTRACT else
                  reference_checkpoint)(18)
    torch.save(checkpoint, tmp_path / 'in.pth')
    out = tmp_path / 'out.pth'
    out.write_text('a file of the user')
    with pytest.raises(FileExistsError, match=f'{out} exists; pass --force'):
        run_script(monkeypatch, tool, tmp_path / 'in.pth', out)
    assert out.read_text() == 'a file of the user'
    run_script(monkeypatch, tool, tmp_path / 'in.pth', out, '--force')
    assert 'state_dict' in load_local_checkpoint(str(out))
