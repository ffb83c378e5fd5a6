"""The one-GPU recipes of configs/clsa: the 8 x 32 recipe with the lr of
the linear rule, split BN and a queue that fits the batch, and the
small-image recipe; each builds and takes a training step."""
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from clsa_mm.registry import MODELS
from clsa_mm.utils import check_split_bn, load_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IMAGENET = 'configs/clsa/r50_1xb64_200e.py'
SMALL = 'configs/clsa/r18-cifar_1xb256_200e_small-images.py'


def load(path):
    return load_config(osp.join(REPO, path))


@pytest.mark.parametrize('path', [IMAGENET, SMALL])
def test_recipe_is_faithful_on_one_gpu(path):
    cfg = load(path)
    batch = cfg.train_dataloader.batch_size
    splits = cfg.model.backbone.norm_cfg.num_splits
    check_split_bn(cfg)
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.03 * batch / 256)
    assert cfg.model.queue_len % batch == 0
    assert batch // splits == 32  # BN batches of one of the 8 GPUs
    assert cfg.get('launcher', 'none') == 'none'


def test_imagenet_recipe_differs_from_8xb32_only_in_batch_lr_and_bn():
    one = load(IMAGENET).to_dict()
    eight = load('configs/clsa/r50_8xb32_200e.py').to_dict()
    one['model']['backbone']['norm_cfg'] = dict(type='BN')
    one['train_dataloader']['batch_size'] = 32
    one['optim_wrapper']['optimizer']['lr'] = 0.03
    one.pop('filename', None), eight.pop('filename', None)
    assert one == eight


def test_small_image_recipe_trains_a_step():
    cfg = load(SMALL)
    views = cfg.train_dataloader.dataset.pipeline[1]
    sizes = [views.key_view.size, views.weak_views[0].size,
             views.strong_views[0].size]
    assert sizes == [32, 32, 16]
    assert cfg.model.backbone.type == 'ResNet_CIFAR'
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.neck.update(in_channels=64, hid_channels=64)
    cfg.model.queue_len = 32
    with DefaultScope.overwrite_default_scope('clsa_mm'):
        model = MODELS.build(cfg.model)
    torch.manual_seed(0)
    x = [torch.randn(16, 3, s, s) for s in sizes]
    losses = model(x, None, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.backbone.conv1.weight.shape[-1] == 3  # the 3x3 stem
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
