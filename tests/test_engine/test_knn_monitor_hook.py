"""KNNMonitorHook: the k-NN protocol of knn_eval.py on the current backbone,
logged with its cost, without changing the run."""
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch

from clsa_mm.engine.hooks import KNNMonitorHook
from clsa_mm.models import CLSA
from clsa_mm.registry import clsa_mm_scope
from clsa_mm.evaluation import (build_feature_loader, extract_features,
                                knn_accuracy, knn_classify)
from knn_monitor_helpers import image_folder, knn_loader_cfg
from mmengine.config import Config


def tiny_model():
    """A CLSA model with a 1/8-width ResNet-18."""
    torch.manual_seed(0)
    return CLSA(
        backbone=dict(type='ResNet', depth=18, base_channels=8,
                      stem_channels=8, norm_cfg=dict(type='BN')),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32,
                  out_channels=16, with_avg_pool=True),
        head=dict(type='DDMHead'), queue_len=8, feat_dim=16)


@pytest.fixture(scope='module')
def unrelated(tmp_path_factory):
    """Labels unrelated to the images: the top-1 depends on every
    neighbour."""
    return image_folder(tmp_path_factory.mktemp('knn'), per_class=(8, 6),
                        separable=False)


def by_hand(model, data_root, k, temperature):
    cfg = Config(knn_loader_cfg(data_root))
    with clsa_mm_scope():
        loaders = {split: build_feature_loader(cfg, split)
                   for split in ('train', 'val')}
    feats = {split: extract_features(model.backbone, model.data_preprocessor,
                                     loader, progress=False)
             for split, loader in loaders.items()}
    scores = knn_classify(*feats['train'], feats['val'][0], 3, k=k,
                          temperature=temperature)
    return knn_accuracy(scores, feats['val'][1])['top1']


# Measured top-1 on these images: 44.4, 27.8 and 38.9: k and T matter.
@pytest.mark.parametrize('k, temperature', [(20, 0.07), (5, 0.07), (20, 0.5)])
def test_top1_is_knn_evals(unrelated, k, temperature):
    model = tiny_model()
    hook = KNNMonitorHook(**knn_loader_cfg(unrelated), k=k,
                          temperature=temperature)
    top1 = hook.evaluate(SimpleNamespace(model=model))
    assert top1 == by_hand(tiny_model(), unrelated, k, temperature)
    assert 0 < top1 < 100  # not a saturated value any bug would keep


def test_the_run_goes_on_as_without_it(unrelated):
    model = tiny_model().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    np.random.seed(5)
    KNNMonitorHook(**knn_loader_cfg(unrelated)).evaluate(
        SimpleNamespace(model=model))
    assert model.backbone.training  # back in training mode
    for key, value in model.state_dict().items():  # BN statistics included
        assert torch.equal(value, before[key]), key
    after = torch.rand(1), np.random.rand()
    torch.manual_seed(5)
    np.random.seed(5)
    assert after == (torch.rand(1), np.random.rand())


def test_logs_top1_and_seconds_every_interval(unrelated):
    hook = KNNMonitorHook(**knn_loader_cfg(unrelated), interval=2)
    runner = SimpleNamespace(
        model=tiny_model(), epoch=0, max_epochs=5,
        train_loop=SimpleNamespace(max_epochs=5),
        visualizer=mock.Mock(), logger=mock.Mock())
    steps = []
    for epoch in range(5):
        runner.epoch = epoch
        hook.after_train_epoch(runner)
    for call in runner.visualizer.add_scalars.call_args_list:
        metrics = call.args[0]
        assert set(metrics) == {'knn/top1', 'knn/seconds'}
        assert metrics['knn/seconds'] > 0
        steps.append(call.kwargs['step'])
    assert steps == [2, 4, 5]  # every 2 epochs and after the last
    assert 'knn/seconds' in runner.logger.info.call_args.args[0]


def test_bad_interval_is_refused(unrelated):
    with pytest.raises(ValueError, match='interval'):
        KNNMonitorHook(**knn_loader_cfg(unrelated), interval=0)
