"""prepare_cpu_distributed: the config changes a CPU (gloo) run relies on."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

from clsa_mm.utils import cpu_distributed, prepare_cpu_distributed
from cli_helpers import REPO

C4 = osp.join(REPO, 'configs/benchmarks/mmdetection/coco/'
              'mask-rcnn_r50-c4_ms-1x_coco.py')


def norm_layers(cfg):
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    sync = [name for name, m in model.named_modules()
            if isinstance(m, nn.SyncBatchNorm) or 'SyncBN' in
            type(m).__name__ or 'SyncBatchNorm' in type(m).__name__]
    plain = [name for name, m in model.named_modules()
             if type(m) is nn.BatchNorm2d]
    return sync, plain


def test_sync_bn_becomes_bn(monkeypatch):
    # The process group is "already started": only the config changes.
    monkeypatch.setattr(cpu_distributed, 'torch_dist',
                        SimpleNamespace(is_initialized=lambda: True))
    for name, value in dict(RANK='1', WORLD_SIZE='2', LOCAL_RANK='1').items():
        monkeypatch.setenv(name, value)
    cfg = Config.fromfile(C4)
    sync_before, plain_before = norm_layers(cfg)
    # backbone stem..res4 and the res5 RoI head (and its extra norm)
    assert any(n.startswith('backbone.') for n in sync_before)
    assert any(n.startswith('roi_head.shared_head.') for n in sync_before)

    prepare_cpu_distributed(cfg, 'pytorch')
    sync_after, plain_after = norm_layers(cfg)
    assert sync_after == []
    assert sorted(plain_after) == sorted(plain_before + sync_before)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert 'sync_bn' not in cfg


def test_missing_launcher_environment_is_named(monkeypatch):
    monkeypatch.delenv('SLURM_NTASKS', raising=False)
    with pytest.raises(RuntimeError, match='SLURM_NTASKS'):
        prepare_cpu_distributed(Config(dict(model=dict())), 'slurm')
