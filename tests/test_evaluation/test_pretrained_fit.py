"""Pretrained inits refuse weights that do not fit, and load those that do.

Every file holds perturbed weights (clsa_mm.testing), never what a fresh
build gives, so the tensor-for-tensor checks fail if nothing was loaded.
"""
import glob
import io
import logging
import os
import os.path as osp
import re
import runpy
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, DefaultScope

import clsa_mm.evaluation
from clsa_mm.checkpoint import (backbone_checkpoint, backbone_state_dict,
                                load_local_checkpoint, pretrained_cfg_options)
from clsa_mm.testing import clsa_checkpoint, random_resnet_state_dict
from cli_helpers import REPO, run_tool, write_classifier_config
from eval_helpers import linear_probe_config

IN1K = osp.join(
    REPO, 'configs/benchmarks/classification/imagenet/'
    'r50_linear-8xb32-coslr-100e_in1k.py')
FPN = osp.join(
    REPO, 'configs/benchmarks/mmdetection/tiny_coco/'
    'mask-rcnn_r50_fpn_ms-1x_tiny-coco.py')
C4 = osp.join(
    REPO, 'configs/benchmarks/mmdetection/tiny_coco/'
    'mask-rcnn_r50-c4_ms-1x_tiny-coco.py')
VIT = dict(type='VisionTransformer', arch='deit-small', img_size=32,
           patch_size=16)
WRONG = 'layer4.1.conv2.weight'  # (512, 512, 3, 3) in a ResNet-50


def perturbed(state_dict, seed):
    gen = torch.Generator().manual_seed(seed)
    return {k: v + 0.01 * torch.randn(v.shape, generator=gen)
            for k, v in state_dict.items()}


@pytest.fixture(scope='module')
def files(tmp_path_factory, clsa_r50):
    """Paths of the files the tests load, by name."""
    folder = tmp_path_factory.mktemp('fit')
    paths = dict(clsa_r50=clsa_r50[0], r50=clsa_r50[1])

    def save(name, obj):
        paths[name] = str(folder / f'{name}.pth')
        torch.save(obj, paths[name])

    save('r18', backbone_checkpoint(clsa_checkpoint(18, seed=1), 'x'))
    r50 = load_local_checkpoint(clsa_r50[1])['state_dict']
    fc = dict(
        fc=torch.randn(1000, 2048) * 0.01, bias=torch.randn(1000) * 0.01)
    save('torchvision_r50', {
        **r50, 'fc.weight': fc['fc'], 'fc.bias': fc['bias']})
    r18 = random_resnet_state_dict(18, seed=2)
    save('torchvision_r18', {**r18, 'fc.weight': torch.zeros(1000, 512),
                             'fc.bias': torch.zeros(1000)})
    save('r50_wrong_shape', dict(
        state_dict={**r50, WRONG: torch.randn(512, 512, 1, 1)}))
    torch.manual_seed(3)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        vit = MODELS.build(VIT).state_dict()
    save('clsa_vit', dict(state_dict={
        f'backbone.{k}': v for k, v in perturbed(vit, 3).items()}))
    return paths


def vit_config(tmp_path):
    path = tmp_path / 'vit_linear.py'
    path.write_text(f'''
_base_ = [{IN1K!r}]
model = dict(
    backbone=dict(_delete_=True, **{VIT!r}, out_type='cls_token',
                  init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>')),
    neck=None,
    head=dict(in_channels=384))
''')
    return str(path)


def build(cfg):
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(cfg.model)


def build_with(config, pretrain):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(pretrained_cfg_options(cfg, pretrain))
    return build(cfg)


def init_weights_logged(model):
    """``model.init_weights()``; returns what it logged."""
    logger = MMLogger.get_current_instance()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        model.init_weights()
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def assert_same_tensors(actual, expected):
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def refusal(config, pretrain):
    with pytest.raises(ValueError) as error:
        pretrained_cfg_options(Config.fromfile(config), pretrain)
    return str(error.value)


@pytest.mark.parametrize(
    'config',
    sorted(glob.glob(osp.join(REPO, 'configs/benchmarks/**/*.py'),
                     recursive=True)),
    ids=lambda path: osp.basename(path))
def test_every_benchmark_config_is_checked(files, config):
    # No list of configs: each module with a Pretrained init is found in
    # the built model (C4 heads, ViT backbones, configs added later).
    message = refusal(config, files['r18'])
    assert message.startswith(f'{files["r18"]} does not fit model.')
    assert f' of {config} (' in message
    assert 'The file holds a ResNet-18 backbone (120 tensors)' in message


@pytest.mark.parametrize('config, module', [
    (IN1K, 'a ResNet-50 backbone (318 tensors)'),
    (FPN, 'a ResNet-50 backbone (318 tensors)'),
    (C4, 'the stem and layer1-3 of a ResNet-50 (258 tensors)'),
])
def test_resnet18_is_refused_by_resnet50_configs(files, config, module):
    message = refusal(config, files['r18'])
    assert message.startswith(
        f'{files["r18"]} does not fit model.backbone (ResNet) of {config} ')
    assert ('layer1.0.conv1.weight: file (64, 64, 3, 3) vs model '
            '(64, 64, 1, 1)') in message
    assert re.search(r'tensors\): [1-9]\d* with another shape in the file, '
                     r'[1-9]\d* missing from it: ', message)
    assert 'The file holds a ResNet-18 backbone (120 tensors)' in message
    assert f'the module is {module}' in message


def test_one_wrong_shape_is_refused_also_in_the_c4_head(files):
    path = files['r50_wrong_shape']
    expected = f'{WRONG}: file (512, 512, 1, 1) vs model (512, 512, 3, 3)'
    for config in (IN1K, FPN):
        message = refusal(config, path)
        assert f'model.backbone (ResNet) of {config} (318 tensors): 1 ' \
            'with another shape in the file, 0 missing from it: ' in message
        assert expected in message
    # The C4 backbone stops at layer3; res5 belongs to the RoI head.
    message = refusal(C4, path)
    assert message.startswith(
        f'{path} does not fit model.roi_head.shared_head '
        f'(ResLayerExtraNorm) of {C4} (65 tensors): 1 with another shape')
    assert expected in message
    assert 'the module is layer4 of a ResNet-50/101/152' in message


@pytest.mark.parametrize('kind', ['clsa_r50', 'r50', 'torchvision_r50'])
def test_matching_files_load_tensor_for_tensor(files, kind):
    # A clsa_mm checkpoint (prefix 'backbone.'), an exported backbone and a
    # torchvision file (fc ignored) into the ResNet-50 linear probe.
    model = build_with(IN1K, files[kind])
    log = init_weights_logged(model)
    expected = backbone_state_dict(load_local_checkpoint(files[kind]))
    assert_same_tensors(model.backbone.state_dict(), expected)
    assert (f'{files[kind]}: 318 tensors into ResNet (all of its 318), '
            '0 missing') in log


@pytest.mark.parametrize('kind, prefix, hint', [
    ('clsa_r50', None, "in the file under 'backbone.': set "
     "init_cfg.prefix='backbone.'"),
    ('r50', 'backbone.', 'in the file at the top level: set '
     'init_cfg.prefix=None'),
])
def test_a_pretrained_init_set_by_hand_with_the_wrong_prefix(
        files, kind, prefix, hint):
    # tools/train.py builds and initialises the model the same way.
    cfg = Config.fromfile(IN1K)
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=files[kind], prefix=prefix)
    model = build(cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=re.escape(
            f'{files[kind]} does not fit ResNet (318 tensors): 0 with '
            'another shape in the file')) as error:
        model.init_weights()
    assert hint in str(error.value)
    assert_same_tensors(model.state_dict(), before)


def test_torchvision_resnet18_is_refused(files):
    message = refusal(IN1K, files['torchvision_r18'])
    assert ('The file holds a ResNet-18 backbone, as a bare state dict '
            '(torchvision layout) with a 1000-class fc classifier '
            '(122 tensors)') in message


def test_vit_and_resnet_are_not_mixed_up(files, tmp_path):
    vit = vit_config(tmp_path)
    message = refusal(IN1K, files['clsa_vit'])
    assert "The file holds a ViT-S/16 backbone under 'backbone.'" in message
    assert 'conv1.weight: model (64, 3, 7, 7), not in the file' in message
    message = refusal(vit, files['r50'])
    assert message.startswith(
        f'{files["r50"]} does not fit model.backbone (VisionTransformer) '
        f'of {vit}')
    assert 'The file holds a ResNet-50 backbone (318 tensors); the module ' \
        'is a ViT-S/16 backbone' in message

    model = build_with(vit, files['clsa_vit'])
    log = init_weights_logged(model)
    assert_same_tensors(
        model.backbone.state_dict(),
        backbone_state_dict(load_local_checkpoint(files['clsa_vit'])))
    total = len(model.backbone.state_dict())
    assert f'{total} tensors into VisionTransformer (all of its {total}), ' \
        '0 missing' in log


def test_train_py_refuses_a_pretrained_init_from_cfg_options(
        files, tmp_path, tiny_imagenet):
    config = write_classifier_config(tmp_path / 'cfg.py', tiny_imagenet)
    with open(config, 'a') as f:
        f.write("model['backbone']['init_cfg'] = dict(type='Pretrained', "
                "checkpoint='<PRETRAIN>')\n")
    proc = run_tool([
        'tools/train.py', config, '--work-dir', str(tmp_path / 'work'),
        '--cfg-options', f'model.backbone.init_cfg.checkpoint={files["r50"]}'
    ], check=False)
    assert proc.returncode != 0
    assert f'ValueError: {files["r50"]} does not fit ResNet (120 tensors): ' \
        in proc.stderr
    assert 'The file holds a ResNet-50 backbone (318 tensors); the module ' \
        'is a ResNet-18 backbone (120 tensors)' in proc.stderr
    assert not list((tmp_path / 'work').glob('*.pth'))


@pytest.fixture
def fake_srun(tmp_path):
    """A ``srun`` on PATH that only records that it was called."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(f'#!/bin/sh\ntouch {tmp_path / "srun_called"}\n')
    srun.chmod(0o755)
    return dict(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                called=tmp_path / 'srun_called')


@pytest.mark.parametrize('script, config', [
    ('tools/benchmarks/linear_eval.sh', IN1K),
    ('tools/benchmarks/mmdetection/train_det.sh', FPN),
    ('tools/benchmarks/slurm_linear_eval.sh', IN1K),
    ('tools/benchmarks/mmdetection/slurm_train_det.sh', C4),
])
def test_benchmark_scripts_refuse_before_launching(files, tmp_path, fake_srun,
                                                   script, config):
    args = ([script, 'partition', config, files['r18']] if 'slurm' in script
            else [script, config, files['r18'], '1'])
    work_dir = tmp_path / 'work'
    proc = run_tool(args, check=False, WORK_DIR=work_dir,
                    PATH=fake_srun['PATH'])
    assert proc.returncode == 1
    assert (f'error: {files["r18"]} does not fit model.backbone (ResNet) of '
            f'{config} (') in proc.stderr
    assert 'The file holds a ResNet-18 backbone' in proc.stderr
    assert not work_dir.exists() and not fake_srun['called'].exists()


def test_knn_eval_loads_and_refuses_through_the_same_check(
        files, tmp_path, tiny_imagenet, monkeypatch):
    config = linear_probe_config(tmp_path / 'cfg.py', tiny_imagenet)
    script = osp.join(REPO, 'tools/benchmarks/knn_eval.py')
    extract = clsa_mm.evaluation.extract_features
    backbones = []

    def record(backbone, *args, **kwargs):
        backbones.append(backbone)
        return extract(backbone, *args, **kwargs)

    monkeypatch.setattr(clsa_mm.evaluation, 'extract_features', record)
    for pretrain in (files['r50'], files['r18']):
        monkeypatch.setattr(
            sys, 'argv', [script, config, pretrain, '--device', 'cpu'])
        if pretrain == files['r50']:
            with pytest.raises(ValueError, match=re.escape(
                    f'{pretrain} does not fit model.backbone')):
                runpy.run_path(script, run_name='__main__')
        else:
            runpy.run_path(script, run_name='__main__')
    assert_same_tensors(
        backbones[0].state_dict(),
        backbone_state_dict(load_local_checkpoint(files['r18'])))
