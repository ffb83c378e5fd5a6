"""A CLSA encoder with the small-image stem (ResNet_CIFAR), trained with
split BN, exports to a backbone that the k-NN tool and the linear probe
load, and that a probe with the ImageNet stem refuses (and vice versa)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from clsa_mm.checkpoint import backbone_checkpoint, pretrained_cfg_options
from clsa_mm.registry import MODELS
from clsa_mm.testing import clsa_checkpoint
from cli_helpers import run_tool
from eval_helpers import linear_probe_config

CIFAR_STEM = {'model.backbone.type': 'ResNet_CIFAR'}


@pytest.fixture(scope='module')
def cifar_backbone(tmp_path_factory):
    """An exported ResNet_CIFAR-18 backbone of a split-BN CLSA model, every
    tensor perturbed (so a test sees whether it was loaded)."""
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('clsa_mm'):
        model = MODELS.build(dict(
            type='CLSA',
            backbone=dict(type='ResNet_CIFAR', depth=18,
                          norm_cfg=dict(type='SplitBN', num_splits=2)),
            neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512,
                      out_channels=128, with_avg_pool=True),
            head=dict(type='DDMHead'), queue_len=64))
    gen = torch.Generator().manual_seed(1)
    state = {k: v + 0.01 * torch.randn(v.shape, generator=gen)
             if v.is_floating_point() else v
             for k, v in model.state_dict().items()}
    path = tmp_path_factory.mktemp('cifar') / 'backbone.pth'
    torch.save(backbone_checkpoint(
        dict(meta=dict(epoch=1, iter=1), state_dict=state), 'clsa.pth'), path)
    return str(path), state


def probe(tmp_path, data_root, checkpoint, options):
    cfg = Config.fromfile(
        linear_probe_config(tmp_path / 'probe.py', data_root))
    cfg.merge_from_dict(options)
    cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                       checkpoint=checkpoint)
    return cfg


def test_probe_with_the_small_image_stem_loads_the_export(
        tmp_path, tiny_imagenet, cifar_backbone):
    path, state = cifar_backbone
    cfg = probe(tmp_path, tiny_imagenet, path, CIFAR_STEM)
    cfg.merge_from_dict(pretrained_cfg_options(cfg, path))
    with DefaultScope.overwrite_default_scope('clsa_mm'):
        backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    loaded = backbone.state_dict()
    assert loaded['conv1.weight'].shape == (64, 3, 3, 3)
    for key, value in loaded.items():
        torch.testing.assert_close(value, state[f'backbone.{key}'])


def test_probe_with_the_imagenet_stem_refuses_the_export(
        tmp_path, tiny_imagenet, cifar_backbone):
    cfg = probe(tmp_path, tiny_imagenet, cifar_backbone[0], {})
    with pytest.raises(ValueError, match=r'conv1\.weight'):
        pretrained_cfg_options(cfg, cifar_backbone[0])


def test_probe_with_the_small_image_stem_refuses_an_imagenet_stem(
        tmp_path, tiny_imagenet):
    path = tmp_path / 'r18.pth'
    torch.save(backbone_checkpoint(clsa_checkpoint(18), 'x'), path)
    cfg = probe(tmp_path, tiny_imagenet, str(path), CIFAR_STEM)
    with pytest.raises(ValueError, match=r'conv1\.weight'):
        pretrained_cfg_options(cfg, str(path))


def test_knn_tool_on_the_small_image_stem(tmp_path, tiny_imagenet,
                                          cifar_backbone):
    # k = 1 on the training images: each finds itself.
    config = linear_probe_config(tmp_path / 'cfg.py', tiny_imagenet)
    proc = run_tool([
        'tools/benchmarks/knn_eval.py', config, cifar_backbone[0], '--k',
        '1', '--cfg-options', 'val_dataloader.dataset.data_prefix=train',
        'model.backbone.type=ResNet_CIFAR'
    ])
    assert 'knn/top1: 100.00' in proc.stdout + proc.stderr
