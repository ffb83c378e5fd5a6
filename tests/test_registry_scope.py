"""clsa_mm modules build their parts in the clsa_mm scope.

A Runner of another library leaves MMEngine's default scope at its own
(``mmengine``, ``mmpretrain``, ``mmdet``); a clsa_mm module constructed
after it, directly as in a notebook or through a clsa_mm registry, must still
find ``WeakAugment``, ``DDMHead``, ``ResNet``, ... and leave that scope as
it was.
"""
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.models import BaseSelfSupervisor

from clsa_mm.registry import (DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS,
                              clsa_mm_scope)
from clsa_mm.utils import register_all_modules
from knn_monitor_helpers import knn_loader_cfg

SCOPES = ['mmengine', 'mmpretrain', 'mmdet']

VIEWS = dict(
    key_view=dict(size=24, scale=(0.2, 1.0)),
    weak_views=[dict(size=24, scale=(0.2, 1.0))],
    strong_views=[dict(size=16, scale=(0.1, 0.5))],
    weak_augment=dict(type='WeakAugment'),
    strong_augment=dict(type='StrongAugment'))
TINY_BACKBONE = dict(
    type='ResNet', depth=18, base_channels=8, stem_channels=8,
    norm_cfg=dict(type='BN'), zero_init_residual=False)


def mlp(in_channels, out_channels, with_avg_pool=False):
    return dict(
        type='NonLinearNeck', in_channels=in_channels, hid_channels=32,
        out_channels=out_channels, with_avg_pool=with_avg_pool)


def component_cfgs(data_root):
    """Constructor arguments of every registered clsa_mm module, by
    (registry name, type)."""
    return {
        ('model', 'CLSA'): dict(
            backbone=TINY_BACKBONE,
            neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32,
                      out_channels=16, with_avg_pool=True),
            head=dict(type='DDMHead'),
            queue_len=8,
            feat_dim=16),
        ('model', 'MoCoV3DDM'): dict(
            backbone=TINY_BACKBONE,
            neck=mlp(64, 16, with_avg_pool=True),
            head=dict(type='MoCoV3Head', predictor=mlp(16, 16),
                      loss=dict(type='CrossEntropyLoss')),
            ddm_head=dict(type='DDMHead')),
        ('model', 'SimCLRDDM'): dict(
            backbone=TINY_BACKBONE,
            neck=mlp(64, 16, with_avg_pool=True),
            head=dict(type='ContrastiveHead',
                      loss=dict(type='CrossEntropyLoss')),
            ddm_head=dict(type='DDMHead')),
        ('model', 'BYOLDDM'): dict(
            backbone=TINY_BACKBONE,
            neck=mlp(64, 16, with_avg_pool=True),
            head=dict(type='LatentPredictHead', predictor=mlp(16, 16),
                      loss=dict(type='CosineSimilarityLoss')),
            ddm_head=dict(type='DDMHead'),
            queue_len=8,
            feat_dim=16),
        ('model', 'MoCoWithProbe'): dict(
            backbone=TINY_BACKBONE,
            neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32,
                      out_channels=16, with_avg_pool=True),
            head=dict(type='ContrastiveHead',
                      loss=dict(type='CrossEntropyLoss')),
            queue_len=8,
            feat_dim=16,
            online_probe=dict(num_classes=3)),
        ('model', 'OnlineProbeHead'): dict(num_classes=3, in_channels=8),
        ('model', 'DDMHead'): dict(),
        ('model', 'SplitBN'): dict(num_features=4, num_splits=2),
        ('model', 'StrongContrastiveHead'): dict(),
        ('transform', 'CLSAViews'): VIEWS,
        ('transform', 'WeakAugment'): dict(),
        ('transform', 'StrongAugment'): dict(),
        ('transform', 'LoadRGBImageFromFile'): dict(),
        ('dataset', 'UnlabeledImageDataset'): dict(
            data_root=data_root,
            data_prefix='train',
            pipeline=[
                dict(type='LoadRGBImageFromFile'),
                dict(type='CLSAViews', **VIEWS),
                dict(type='PackInputs', meta_keys=('img_path', ))
            ]),
        ('hook', 'AtomicCheckpointHook'): dict(),
        ('hook', 'CheckpointMatchHook'): dict(),
        ('hook', 'EmptyRunCheckHook'): dict(),
        ('hook', 'FiniteLossHook'): dict(),
        ('hook', 'MomentumQueueHook'): dict(),
        ('hook', 'RNGStateHook'): dict(),
        ('hook', 'KNNMonitorHook'): knn_loader_cfg(data_root),
        ('metric', 'OnlineProbeAccuracy'): dict(),
    }


REGISTRIES = {
    r.name: r
    for r in (MODELS, TRANSFORMS, DATASETS, HOOKS, METRICS)
}


def check_built(obj):
    """The parts built from configs are the clsa_mm/mmpretrain modules."""
    name = type(obj).__name__
    if name == 'CLSAViews':
        assert type(obj.weak_augment).__name__ == 'WeakAugment'
        assert type(obj.strong_augment).__name__ == 'StrongAugment'
    elif isinstance(obj, BaseSelfSupervisor):
        assert type(obj.backbone).__name__ == 'ResNet'
        assert type(obj.data_preprocessor).__name__ == \
            'SelfSupDataPreprocessor'
        if name == 'CLSA':
            assert type(obj.head).__name__ == 'DDMHead'
        elif name == 'MoCoWithProbe':
            assert type(obj.online_probe).__name__ == 'OnlineProbeHead'
        else:
            assert type(obj.head.loss_module).__name__ in (
                'CrossEntropyLoss', 'CosineSimilarityLoss')
            assert type(obj.ddm_head).__name__ == 'DDMHead'
    elif name == 'UnlabeledImageDataset':
        np.random.seed(0)
        sample = obj[0]
        assert [tuple(t.shape) for t in sample['inputs']] == [
            (3, 24, 24), (3, 24, 24), (3, 16, 16)
        ]


def test_every_registered_module_is_covered(tiny_imagenet):
    register_all_modules(init_default_scope=False)
    # modules of the package (tests may register their own)
    registered = {(registry.name, name)
                  for registry in REGISTRIES.values()
                  for name, cls in registry.module_dict.items()
                  if cls.__module__.startswith('clsa_mm.')}
    assert registered == set(component_cfgs(tiny_imagenet)), (
        'Add the new clsa_mm module to component_cfgs so that it is built '
        'under every foreign scope')


@pytest.mark.parametrize('how', ['direct', 'registry'])
@pytest.mark.parametrize('scope', SCOPES)
def test_builds_under_a_foreign_scope(tiny_imagenet, scope, how):
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(scope):
        for (registry, name), cfg in component_cfgs(tiny_imagenet).items():
            registry = REGISTRIES[registry]
            if how == 'direct':
                obj = registry.get(name)(**cfg)
            else:
                obj = registry.build(dict(type=name, **cfg))
            check_built(obj)
            current = DefaultScope.get_current_instance()
            assert current.scope_name == scope, (
                f'building {name} left the default scope at '
                f'{current.scope_name}')


def test_clsa_mm_scope_restores_the_previous_scope():
    with DefaultScope.overwrite_default_scope('mmdet'):
        with clsa_mm_scope():
            assert DefaultScope.get_current_instance().scope_name == \
                'clsa_mm'
            with clsa_mm_scope():
                assert DefaultScope.get_current_instance().scope_name == \
                    'clsa_mm'
        assert DefaultScope.get_current_instance().scope_name == 'mmdet'
