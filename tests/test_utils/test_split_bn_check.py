"""Split BN is refused where it cannot emulate shuffle-BN, and its layer
refuses a batch it cannot split."""
import pytest
import torch
from mmengine.config import Config

from clsa_mm.apis import build_runner
from clsa_mm.models.utils import SplitBatchNorm
from clsa_mm.utils import check_split_bn

SPLIT = dict(type='SplitBN', num_splits=2)


def cfg(model_type='CLSA', backbone='ResNet', **extra):
    return Config(dict(
        model=dict(type=model_type,
                   backbone=dict(type=backbone, depth=18, norm_cfg=SPLIT),
                   neck=dict(type='MoCoV2Neck')),
        train_dataloader=dict(batch_size=32), **extra))


@pytest.mark.parametrize('model_type', ['CLSA', 'MoCo', 'mmpretrain.MoCo'])
@pytest.mark.parametrize('backbone', ['ResNet', 'ResNet_CIFAR'])
def test_key_shuffling_models_with_resnets_pass(model_type, backbone):
    check_split_bn(cfg(model_type, backbone))


@pytest.mark.parametrize('model_type',
                         ['MoCoV3', 'SimCLR', 'BYOL', 'BYOLDDM', 'SimCLRDDM'])
def test_models_without_key_shuffle_are_refused(model_type):
    with pytest.raises(ValueError, match=rf'model.backbone.norm_cfg.*'
                       rf'model.type={model_type}.*SyncBN'):
        check_split_bn(cfg(model_type))


def test_backbone_without_batch_norm_is_refused():
    with pytest.raises(ValueError,
                       match='model.backbone.type=VisionTransformer'):
        check_split_bn(cfg(backbone='VisionTransformer'))


def test_split_bn_outside_the_backbone_is_refused():
    config = cfg()
    config.model.neck.norm_cfg = SPLIT
    with pytest.raises(ValueError, match=r'model.neck.norm_cfg.type=SplitBN'):
        check_split_bn(config)


def test_sync_bn_with_split_bn_is_refused():
    with pytest.raises(ValueError, match=r"sync_bn='torch'"):
        check_split_bn(cfg(sync_bn='torch'))


def test_batch_not_a_multiple_of_the_splits_is_refused():
    config = cfg()
    config.train_dataloader.batch_size = 33
    with pytest.raises(ValueError, match=r'batch_size=33.*num_splits=2'):
        check_split_bn(config)


def test_build_runner_checks_split_bn():
    with pytest.raises(ValueError, match='model.type=SimCLR'):
        build_runner(cfg('SimCLR'))


def test_split_bn_layer():
    bn = SplitBatchNorm(3, num_splits=2)
    with pytest.raises(ValueError, match='num_splits=2.*got 3'):
        bn(torch.randn(3, 3, 2, 2))
    x = torch.randn(4, 3, 2, 2)
    ref = torch.nn.BatchNorm2d(3)
    halves = torch.cat([ref(x[:2]), ref(x[2:])])
    torch.testing.assert_close(bn(x), halves)
    # running statistics: the mean of the two halves' updates
    torch.testing.assert_close(bn.running_mean, ref.running_mean.new_tensor(
        0.1 * (x[:2].mean((0, 2, 3)) + x[2:].mean((0, 2, 3))) / 2))
    bn.eval()
    torch.testing.assert_close(bn(x), torch.nn.functional.batch_norm(
        x, bn.running_mean, bn.running_var, bn.weight, bn.bias))
    with pytest.raises(ValueError, match='num_splits'):
        SplitBatchNorm(3, num_splits=0)
