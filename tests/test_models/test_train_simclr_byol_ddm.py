"""The SimCLR-DDM and BYOL-DDM configs: recipe, views, two iterations
through tools/train.py on tiny images, and the exported backbone in the
linear probe."""
import math
import os.path as osp
import re

import mmpretrain
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from clsa_mm.checkpoint import (backbone_checkpoint, backbone_state_dict,
                                load_local_checkpoint, pretrained_cfg_options)
from clsa_mm.registry import DATASETS, MODELS, clsa_mm_scope
from clsa_mm.utils import register_all_modules
from cli_helpers import REPO, run_tool
from config_helpers import strip_scope

CONFIGS = dict(
    simclr='configs/clsa/simclr-ddm_r50_16xb256-coslr-200e_in1k.py',
    byol='configs/clsa/byol-ddm_r50_16xb256-coslr-200e_in1k.py')
# mmpretrain's published configs, installed with it.
MMPRETRAIN = dict(
    simclr=osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs',
                    'simclr', 'simclr_resnet50_16xb256-coslr-200e_in1k.py'),
    byol=osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs',
                  'byol', 'byol_resnet50_16xb256-coslr-200e_in1k.py'))
PROBE = ('configs/benchmarks/classification/imagenet/'
         'r50_linear-8xb32-coslr-100e_in1k.py')
# Where each config's view sizes live, and what they become here.
SIZES = dict(
    simclr={'pipeline.1.transforms.0.0.scale': 32,
            'pipeline.1.transforms.1.0.scale': 16},
    byol={'pipeline.1.transforms.0.0.scale': 32,
          'pipeline.1.transforms.1.0.scale': 32,
          'pipeline.1.transforms.2.0.scale': 16})


def tiny_options(method, data_root):
    """Options that shrink a config to 2 iterations of 4 tiny images."""
    options = {
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.indices': 8,
        'train_cfg.max_epochs': 1,
        'default_hooks.logger.interval': 1,
    }
    options.update({f'train_dataloader.dataset.{k}': v
                    for k, v in SIZES[method].items()})
    if method == 'byol':
        options['model.queue_len'] = 16
    return options


def load(method, options=None):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, CONFIGS[method]))
    cfg.merge_from_dict(options or {})
    return cfg



@pytest.mark.parametrize('method', ['simclr', 'byol'])
def test_config_is_the_mmpretrain_recipe_plus_ddm(method):
    cfg = load(method)
    base = Config.fromfile(MMPRETRAIN[method])
    model = strip_scope(cfg.model.to_dict())
    expected = strip_scope(base.model.to_dict())
    assert model.pop('type') == expected.pop('type') + 'DDM'
    assert model.pop('num_strong_views') == 1
    assert model.pop('ddm_head') == dict(
        type='DDMHead', ddm_temperature=dict(simclr=0.1, byol=0.2)[method],
        loss_weight=1.0)
    if method == 'byol':
        assert model.pop('feat_dim') == expected['neck']['out_channels']
        # Each step enqueues 2 x 4096 target projections.
        assert model.pop('queue_len') == 65536
    assert model == expected
    for key in ('optim_wrapper', 'param_scheduler'):
        assert strip_scope(cfg[key]) == strip_scope(base[key]), key
    # lr 4.8 is for 16 x 256 images (mmpretrain's SimCLR config omits it).
    assert cfg.auto_scale_lr == base.get('auto_scale_lr',
                                         dict(base_batch_size=4096))
    assert cfg.train_cfg.max_epochs == base.train_cfg.max_epochs == 200
    assert cfg.train_dataloader.batch_size == \
        base.train_dataloader.batch_size == 256


@pytest.mark.parametrize('method', ['simclr', 'byol'])
def test_pipeline_builds_the_views_the_model_uses(method, tiny_imagenet):
    cfg = load(method, tiny_options(method, tiny_imagenet))
    with clsa_mm_scope():
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        inputs = dataset[0]['inputs']
    assert [tuple(x.shape) for x in inputs] == [(3, 32, 32), (3, 32, 32),
                                                (3, 16, 16)]
    # Crops are independent: the two weak crops differ.
    assert not torch.equal(inputs[0], inputs[1])
    cfg.model.num_strong_views = 2
    with clsa_mm_scope():
        model = MODELS.build(cfg.model)
        data = model.data_preprocessor(default_collate([dataset[1]]), True)
    with pytest.raises(ValueError, match=r'model\.num_strong_views=2'):
        model(**data, mode='loss')


def logged(text, name):
    return [float(v) for v in re.findall(rf'\b{name}: ([-\d.e+naif]+)', text)]


@pytest.mark.parametrize('method', ['simclr', 'byol'])
def test_config_trains_and_its_backbone_loads_in_the_probe(
        method, tiny_imagenet, tmp_path):
    work_dir = tmp_path / 'work'
    options = [f'{k}={v}' for k, v in tiny_options(method,
                                                   tiny_imagenet).items()]
    proc = run_tool(['tools/train.py', osp.join(REPO, CONFIGS[method]),
                     '--work-dir', str(work_dir), '--cfg-options', *options])
    log = proc.stdout + proc.stderr
    assert 'Epoch(train) [1][2/2]' in log
    base = 'loss_contrastive' if method == 'simclr' else 'loss_byol'
    for name in ('loss', base, 'loss_ddm', 'ddm_entropy'):
        values = logged(log, name)
        assert len(values) == 2 and all(map(math.isfinite, values)), name
    # ``loss`` is the total, not the base term.
    for total, base_loss, ddm in zip(*(logged(log, key) for key in (
            'loss', base, 'loss_ddm'))):
        assert abs(total - (base_loss + ddm)) < 2e-4 and ddm > 1e-3
    checkpoint = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))
    state = checkpoint['state_dict']
    if method == 'byol':
        assert int(state['queue_ptr']) == 2 * 2 * 4 % 16
        assert state['queue'].shape == (256, 16)

    exported = tmp_path / 'backbone.pth'
    torch.save(backbone_checkpoint(checkpoint, 'x'), exported)
    register_all_modules(init_default_scope=False)
    probe = Config.fromfile(osp.join(REPO, PROBE))
    probe.merge_from_dict(pretrained_cfg_options(probe, str(exported)))
    with clsa_mm_scope():
        model = MODELS.build(probe.model)
        model.init_weights()
    expected = backbone_state_dict(checkpoint)
    actual = model.backbone.state_dict()
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key
