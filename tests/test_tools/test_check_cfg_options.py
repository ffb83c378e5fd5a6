import pytest
from mmengine.config import Config

from clsa_mm.utils import check_cfg_options


@pytest.fixture
def cfg():
    return Config(
        dict(
            model=dict(type='CLSA', backbone=dict(type='ResNet', depth=50),
                       init_cfg=None),
            train_cfg=dict(max_epochs=200),
            custom_hooks=[dict(type='MomentumQueueHook')],
            load_from=None))


@pytest.mark.parametrize('key', [
    'model.backbone.depth', 'model.backbone.frozen_stages',
    'model.init_cfg.checkpoint', 'train_cfg.max_epochs', 'load_from',
    'custom_hooks.0.momentum'
])
def test_accepts_existing_keys_and_constructor_arguments(cfg, key):
    check_cfg_options(cfg, {key: 1})


@pytest.mark.parametrize('key,message', [
    ('trian_cfg.max_epochs', '"trian_cfg" does not exist in the config. '
     'Did you mean: train_cfg'),
    ('train_cfg.max_epoch', '"max_epoch" does not exist in train_cfg'),
    ('model.bakbone.depth', '"bakbone" does not exist in model'),
    ('custom_hooks.3.momentum', 'index 3 is out of range'),
    ('train_cfg.max_epochs.x', '"train_cfg.max_epochs" is int'),
])
def test_rejects_unknown_keys(cfg, key, message):
    with pytest.raises(KeyError, match=message):
        check_cfg_options(cfg, {key: 1})
