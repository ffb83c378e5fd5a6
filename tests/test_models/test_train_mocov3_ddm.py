"""The MoCo v3 DDM configs: mmpretrain's recipes plus one strong view, two
iterations each through tools/train.py on tiny images (CPU), and the
exported ViT backbone in the ViT linear-probe config."""
import math
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config

from clsa_mm.checkpoint import load_local_checkpoint
from cli_helpers import REPO, run_tool
from config_helpers import strip_scope

R50 = 'configs/clsa/mocov3-ddm_r50_8xb512-amp-coslr-100e_in1k.py'
VIT = 'configs/clsa/mocov3-ddm_vit-small-p16_16xb256-amp-coslr-300e_in1k.py'
VIT_LINEAR = ('configs/benchmarks/classification/imagenet/'
              'vit-small-p16_linear-8xb128-coslr-90e_in1k.py')
MMPRETRAIN = {
    R50: 'mmpretrain::mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py',
    VIT: 'mmpretrain::mocov3/'
    'mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py',
}



@pytest.mark.parametrize('name', [R50, VIT])
def test_config_is_mmpretrain_recipe_plus_strong_view(name):
    cfg = Config.fromfile(osp.join(REPO, name))
    base = get_config(MMPRETRAIN[name])
    model = strip_scope(cfg.model.to_dict())
    assert model.pop('type') == 'MoCoV3DDM'
    assert model.pop('num_strong_views') == 1
    assert model.pop('ddm_head') == dict(
        type='DDMHead', ddm_temperature=0.2, loss_weight=1.0)
    expected = strip_scope(base.model.to_dict())
    assert expected.pop('type') == 'MoCoV3'
    assert model == expected
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'auto_scale_lr'):
        assert strip_scope(cfg[key]) == strip_scope(base[key]), key
    assert cfg.train_dataloader.batch_size == \
        base.train_dataloader.batch_size
    views = cfg.train_dataloader.dataset.pipeline[1]
    base_views = base.train_dataloader.dataset.pipeline[1]
    assert views.num_views == [1, 1, 1]
    assert strip_scope(views.transforms[:2]) == \
        strip_scope(base_views.transforms)
    strong = views.transforms[2]
    assert strong[0] == dict(type='RandomResizedCrop', scale=96,
                             crop_ratio_range=(0.086, 0.429),
                             backend='pillow')
    assert strong[-1].type == 'StrongAugment'
    assert strip_scope(strong[1:-1]) == strip_scope(base_views.transforms[1]
                                                    [1:])


def cpu_config(tmp_path, name):
    """``name`` with a plain OptimWrapper (AMP needs a GPU), else equal."""
    cfg = Config.fromfile(osp.join(REPO, name))
    optim = {k: v for k, v in cfg.optim_wrapper.items()
             if k in ('optimizer', 'paramwise_cfg')}
    path = tmp_path / 'cpu.py'
    path.write_text(f'_base_ = {osp.join(REPO, name)!r}\n'
                    f'optim_wrapper = dict(_delete_=True, '
                    f"type='OptimWrapper', **{optim!r})\n")
    return str(path)


def shrink(data_root, vit=False):
    """--cfg-options for 2 iterations of batch 4 on 32/32/16 px views."""
    views = 'train_dataloader.dataset.pipeline.1.transforms'
    opts = [
        'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.pin_memory=False',
        f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.indices=8',
        f'{views}.0.0.scale=32', f'{views}.1.0.scale=32',
        f'{views}.2.0.scale=16',
        'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        'model.neck.hid_channels=64',
        'model.head.predictor.hid_channels=64',
        'env_cfg.dist_cfg.backend=gloo',
    ]
    if vit:
        opts += ['model.backbone.img_size=32']
    else:
        opts += ['model.backbone.depth=18', 'model.neck.in_channels=512']
    return opts


def logged(text, name):
    return [float(v) for v in re.findall(rf'\b{name}: ([-\d.e+naif]+)', text)]


def train(tmp_path, tiny_imagenet, name, vit=False):
    work_dir = tmp_path / 'work'
    proc = run_tool(['tools/train.py', cpu_config(tmp_path, name),
                     '--work-dir', str(work_dir), '--cfg-options',
                     *shrink(tiny_imagenet, vit=vit)])
    log = proc.stdout + proc.stderr
    assert 'Epoch(train) [1][2/2]' in log
    for key in ('loss', 'loss_contrastive', 'loss_ddm', 'pos_sim',
                'neg_sim', 'ddm_entropy'):
        values = logged(log, key)
        assert len(values) == 2 and all(map(math.isfinite, values)), key
    # ``loss`` is the total, not the base term.
    for total, base, ddm in zip(*(logged(log, key) for key in (
            'loss', 'loss_contrastive', 'loss_ddm'))):
        assert abs(total - (base + ddm)) < 2e-4 and ddm > 1e-3
    return work_dir


def test_r50_config_trains(tiny_imagenet, tmp_path):
    work_dir = train(tmp_path, tiny_imagenet, R50)
    state = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))['state_dict']
    assert int(state['momentum_encoder.steps']) == 2
    assert 'head.predictor.fc0.weight' in state


def test_vit_config_trains_and_backbone_loads_in_linear_probe(
        tiny_imagenet, tmp_path):
    work_dir = train(tmp_path, tiny_imagenet, VIT, vit=True)
    exported = str(tmp_path / 'vit_backbone.pth')
    run_tool(['tools/model_converters/extract_backbone_weights.py',
              str(work_dir / 'epoch_1.pth'), exported])
    weights = load_local_checkpoint(exported)['state_dict']
    assert 'cls_token' in weights and 'layers.11.ln2.weight' in weights

    from clsa_mm.registry import MODELS
    from clsa_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, VIT_LINEAR))
    assert cfg.model.backbone.frozen_stages == 12
    assert cfg.optim_wrapper.optimizer.lr == 12
    cfg.merge_from_dict({
        'model.backbone.img_size': 32,
        'model.backbone.init_cfg.checkpoint': exported,
    })
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.backbone.state_dict()
    assert set(weights) == set(state)
    for key, value in weights.items():
        assert torch.equal(state[key], value), key


def test_pipeline_views_must_fit_the_model(tiny_imagenet, tmp_path):
    """The pipeline gives 2 crops + 1 strong view, the model wants 2."""
    proc = run_tool(['tools/train.py', cpu_config(tmp_path, R50),
                     '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                     *shrink(tiny_imagenet), 'model.num_strong_views=2'],
                    check=False)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert ('MoCoV3DDM expects 4 views per sample (2 crops of the base '
            'method, then model.num_strong_views=2 strong views), but the '
            'data pipeline gave 3') in log
    assert 'Epoch(train)' not in log
