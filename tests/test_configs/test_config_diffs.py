"""The configs that are written as diffs of others mean what they say."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.utils import get_installed_path

from clsa_mm.utils import QUICK_RECIPE, scale_crops, shrink_config
from config_helpers import strip_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MIM = osp.join(get_installed_path('mmpretrain'), '.mim/configs/_base_/')
CONFIGS = sorted(
    osp.relpath(path, REPO)
    for path in glob.glob(osp.join(REPO, 'configs/**/*.py'), recursive=True))


def load(path):
    return Config.fromfile(osp.join(REPO, path)).to_dict()


@pytest.mark.parametrize('path', CONFIGS)
def test_every_config_parses(path):
    assert load(path)


def test_multi_crop_base_is_the_single_crop_one_with_five_crops():
    single = load('configs/_base_/datasets/imagenet_bs32_clsa.py')
    multi = load('configs/_base_/datasets/imagenet_bs32_clsa-mcrop.py')
    crops = [dict(size=224, scale=(0.2, 1.0)),
             dict(size=192, scale=(0.172, 0.86)),
             dict(size=160, scale=(0.143, 0.715)),
             dict(size=128, scale=(0.114, 0.571)),
             dict(size=96, scale=(0.086, 0.429))]
    views = multi['train_dataloader']['dataset']['pipeline'][1]
    assert views['weak_views'] == crops and views['strong_views'] == crops
    single['train_dataloader']['dataset']['pipeline'][1].update(
        weak_views=crops, strong_views=crops)
    assert multi == single  # no helper variable is left behind


def test_linear_probe_bases_are_mmpretrains_plus_the_frozen_backbone():
    data = load('configs/_base_/datasets/imagenet_bs32_linear.py')
    assert strip_scope(data) == dict(
        load(MIM + 'datasets/imagenet_bs32_pil_resize.py'),
        data_root='data/imagenet')
    model = load('configs/_base_/models/resnet50_linear.py')['model']
    expected = load(MIM + 'models/resnet50.py')['model']
    expected['backbone'].update(
        frozen_stages=4, norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='<PRETRAIN>',
                      prefix=None))
    assert strip_scope(model) == expected


def test_quick_shrink_changes_only_sizes_schedule_and_batch():
    full = load('configs/demo/clsa_r18_demo.py')
    shrink = {k: v for k, v in QUICK_RECIPE.items() if k != 'data'}
    quick = shrink_config(
        Config.fromfile(osp.join(REPO, 'configs/demo/clsa_r18_demo.py')),
        **shrink).to_dict()
    views = full['train_dataloader']['dataset']['pipeline'][1]
    views['key_view']['size'] = views['weak_views'][0]['size'] = 32
    views['strong_views'][0]['size'] = 16
    full['train_dataloader'].update(
        batch_size=4, num_workers=0, persistent_workers=False)
    full['model']['queue_len'] = 8
    full['train_cfg']['max_epochs'] = 1
    full['param_scheduler'][0].update(T_max=1, end=1)
    full['default_hooks']['checkpoint']['interval'] = 1
    full['default_hooks']['logger']['interval'] = 1
    assert quick == full

    full = load('configs/demo/r18_linear_demo.py')
    quick = shrink_config(
        Config.fromfile(osp.join(REPO, 'configs/demo/r18_linear_demo.py')),
        epochs=1, batch_size=8, crop_factor=0.5).to_dict()
    full['train_dataloader']['batch_size'] = 8
    full['train_dataloader']['dataset']['pipeline'][1]['scale'] = 32
    full['train_cfg'].update(max_epochs=1, val_interval=1)
    full['param_scheduler'].update(T_max=1, end=1)
    full['default_hooks']['checkpoint']['interval'] = 1
    assert quick == full


def test_shrink_refuses_a_schedule_of_several_schedulers():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/benchmarks/mmdetection/coco/'
        'mask-rcnn_r50-c4_ms-1x_coco.py'))
    with pytest.raises(ValueError, match=r'epochs=1.*param_scheduler has 2'):
        shrink_config(cfg, epochs=1)


def test_scale_crops_scales_every_view_and_nothing_else():
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='CLSAViews', key_view=dict(size=64, scale=(0.2, 1.0)),
             weak_views=[dict(size=64, scale=(0.2, 1.0))],
             strong_views=[dict(size=32, scale=(0.086, 0.429))]),
        dict(type='MultiView', transforms=[[
            dict(type='RandomResizedCrop', scale=64, backend='pillow'),
            dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
        ]]),
        dict(type='PackInputs'),
    ]
    assert scale_crops(pipeline, 0.5) == 4
    views = pipeline[1]
    assert views['key_view'] == dict(size=32, scale=(0.2, 1.0))
    assert views['weak_views'][0]['size'] == 32
    assert views['strong_views'][0] == dict(size=16, scale=(0.086, 0.429))
    assert pipeline[2]['transforms'][0][0]['scale'] == 32
    assert pipeline[2]['transforms'][0][1]['prob'] == 0.2


@pytest.mark.parametrize('arch', ['r50-c4', 'r50_fpn'])
def test_coco_2x_is_the_1x_with_the_longer_schedule(arch):
    coco = 'configs/benchmarks/mmdetection/coco/mask-rcnn_{}_ms-{}x_coco.py'
    one = strip_scope(load(coco.format(arch, 1)))
    two = strip_scope(load(coco.format(arch, 2)))
    one['train_cfg']['max_epochs'] = 24
    one['param_scheduler'][1].update(end=24, milestones=[16, 22])
    assert two == one


MMPRETRAIN = osp.join(get_installed_path('mmpretrain'), '.mim/configs/')
# -ddm config: (its mmpretrain base, what it adds to the base's model, the
# base view whose augmentation the strong view takes).
DDM_CONFIGS = {
    'configs/clsa/mocov3-ddm_r50_8xb512-amp-coslr-100e_in1k.py':
    ('mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py',
     dict(type='MoCoV3DDM'), 1),
    'configs/clsa/mocov3-ddm_vit-small-p16_16xb256-amp-coslr-300e_in1k.py':
    ('mocov3/mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py',
     dict(type='MoCoV3DDM'), 1),
    'configs/clsa/simclr-ddm_r50_16xb256-coslr-200e_in1k.py':
    ('simclr/simclr_resnet50_16xb256-coslr-200e_in1k.py',
     dict(type='SimCLRDDM',
          ddm_head=dict(type='DDMHead', ddm_temperature=0.1,
                        loss_weight=1.0)), 0),
    'configs/clsa/byol-ddm_r50_16xb256-coslr-200e_in1k.py':
    ('byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
     dict(type='BYOLDDM', queue_len=65536, feat_dim=256), 0),
}
CLSA_MM_HOOKS = dict(
    checkpoint='AtomicCheckpointHook', rng_state='RNGStateHook',
    finite_loss='FiniteLossHook', checkpoint_match='CheckpointMatchHook',
    empty_run_check='EmptyRunCheckHook')


@pytest.mark.parametrize('path', sorted(DDM_CONFIGS))
def test_ddm_config_is_its_mmpretrain_base_plus_the_ddm_diff(path):
    """Model type + DDM settings + the strong view + clsa_mm's data set and
    hooks: nothing else of the mmpretrain recipe changes."""
    base_path, model_diff, strong_of = DDM_CONFIGS[path]
    cfg = strip_scope(load(path))
    expected = strip_scope(load(MMPRETRAIN + base_path))
    expected['model'].update(
        num_strong_views=1,
        ddm_head=dict(type='DDMHead', ddm_temperature=0.2, loss_weight=1.0))
    expected['model'].update(model_diff)

    views = expected['train_dataloader']['dataset']['pipeline'][1]
    transforms = views['transforms']
    if views['num_views'] == 2:  # SimCLR: one pipeline for both crops
        transforms = transforms * 2
    crop, *augment = transforms[strong_of]
    strong = [
        dict(crop, scale=96, crop_ratio_range=(0.086, 0.429)), *augment,
        dict(type='StrongAugment', n=5, magnitude=10, prob=0.5,
             preset='released')
    ]
    got = cfg['train_dataloader']['dataset']['pipeline'][1]
    assert got['transforms'][-1] == strong
    # [x_1, x_2, x_s]: the base's two crops, then the strong view.
    num_views = [2, 1] if views['num_views'] == 2 else [1, 1, 1]
    views.update(num_views=num_views,
                 transforms=views['transforms'] + [strong])
    dataset = expected['train_dataloader']['dataset']
    expected['train_dataloader']['dataset'] = dict(
        type='UnlabeledImageDataset', data_root='data/imagenet/',
        data_prefix='train', pipeline=dataset['pipeline'])

    expected['default_scope'] = 'clsa_mm'
    expected['randomness'].update(seed=0, diff_rank_seed=True)
    for key, hook in CLSA_MM_HOOKS.items():
        expected['default_hooks'].setdefault(key, {})['type'] = hook
    if 'SimCLR' not in model_diff['type']:
        expected['custom_hooks'] = [dict(type='MomentumQueueHook')]
    expected.setdefault('auto_scale_lr', dict(base_batch_size=4096))
    # Helpers of the config file, not settings.
    for key in ('strong_pipeline', 'unlabeled_images', 'clsa_mm_hooks'):
        expected[key] = cfg[key]
    assert cfg == expected


def test_shrink_depth_sets_the_resnet_and_the_neck_input_only():
    path = osp.join(REPO, 'configs/clsa/r50_8xb32_200e.py')
    full = load('configs/clsa/r50_8xb32_200e.py')
    shrunk = shrink_config(Config.fromfile(path), depth=18).to_dict()
    assert shrunk['model']['backbone']['depth'] == 18
    assert shrunk['model']['neck']['in_channels'] == 512
    full['model']['backbone']['depth'] = 18
    full['model']['neck']['in_channels'] = 512
    assert shrunk == full  # hidden and output widths stay the recipe's
    deeper = shrink_config(Config.fromfile(path), depth=101).to_dict()
    assert deeper['model']['neck']['in_channels'] == 2048

    with pytest.raises(ValueError, match=r'depth=19.*\[18, 34, 50'):
        shrink_config(Config.fromfile(path), depth=19)
    vit = Config.fromfile(osp.join(
        REPO, 'configs/clsa/mocov3-ddm_vit-small-p16_16xb256-amp-coslr-'
        '300e_in1k.py'))
    with pytest.raises(ValueError, match=r'depth=18.*model\.backbone is '
                       r'.*ViT.*ResNet backbone only'):
        shrink_config(vit, depth=18)
