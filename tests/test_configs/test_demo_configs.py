"""The pretraining configs of configs/demo (the rows of the demo comparison,
docs/demo.md): each trains, and each differs from its reference row only
where docs/demo.md says."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The linear-probe configs need a pretrained checkpoint and labels; the
# demo tests train them.
PRETRAIN = sorted(
    osp.basename(path)
    for path in glob.glob(osp.join(REPO, 'configs/demo/*.py'))
    if 'linear' not in osp.basename(path))
ROWS = ['mocov2_r18_demo.py', 'mocov2-strong-queries_r18_demo.py',
        'mocov3_r18_demo.py', 'mocov3-ddm_r18_demo.py', 'simclr_r18_demo.py',
        'simclr-ddm_r18_demo.py', 'byol_r18_demo.py', 'byol-ddm_r18_demo.py']


def load(name):
    return Config.fromfile(osp.join(REPO, 'configs/demo', name))


def flat(value, prefix=''):
    """``{'a.b.0.c': leaf}`` of a config."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)) and value and all(
            isinstance(v, dict) for v in value):
        items = enumerate(value)
    else:
        return {prefix: value}
    out = {}
    for key, item in items:
        out.update(flat(item, f'{prefix}.{key}' if prefix else str(key)))
    return out


def diff(name_a, name_b):
    a = flat(load(name_a).to_dict())
    b = flat(load(name_b).to_dict())
    return {k: (a.get(k), b.get(k))
            for k in set(a) | set(b)
            if k != 'filename' and a.get(k, '-') != b.get(k, '-')}


def test_rows_exist():
    assert set(ROWS) <= set(PRETRAIN)


@pytest.mark.parametrize('name', PRETRAIN)
def test_trains_one_iteration(name, tiny_imagenet, tmp_path):
    cfg = load(name)
    cfg.merge_from_dict({
        'work_dir': str(tmp_path),
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(tiny_imagenet),
        'train_dataloader.dataset.indices': 4,
        'train_cfg.max_epochs': 1,
        'param_scheduler.0.T_max': 1,
        'param_scheduler.0.end': 1,
        'default_hooks.checkpoint': None,
    })
    if 'queue_len' in cfg.model:
        cfg.model.queue_len = 8
    runner = Runner.from_cfg(cfg)
    before = runner.model.backbone.conv1.weight.detach().clone()
    runner.train()
    assert runner.iter == 1
    assert not torch.equal(runner.model.backbone.conv1.weight, before)


@pytest.mark.parametrize('name', ROWS)
def test_demo_recipe(name):
    """Batch, epochs, schedule shape, seed and checkpoints of the demo."""
    cfg, demo = load(name), load('clsa_r18_demo.py')
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg == demo.train_cfg
    assert cfg.param_scheduler == demo.param_scheduler
    assert cfg.randomness == demo.randomness
    assert cfg.default_hooks == demo.default_hooks
    assert cfg.model.backbone.depth == 18
    views = cfg.train_dataloader.dataset.pipeline[1]
    demo_views = demo.train_dataloader.dataset.pipeline[1]
    for key in ('key_view', 'weak_views', 'weak_augment'):
        assert views[key] == demo_views[key]
    assert views.strong_views == (
        demo_views.strong_views if 'ddm' in name or 'strong' in name else [])


def test_mocov2_is_clsa_without_strong_view_and_ddm():
    changed = diff('clsa_r18_demo.py', 'mocov2_r18_demo.py')
    assert {k.split('.')[0] for k in changed} == {'model', 'train_dataloader'}
    assert all(k.startswith('train_dataloader.dataset.pipeline.1.strong_')
               for k in changed if k.startswith('train_dataloader'))
    moco, clsa = load('mocov2_r18_demo.py').model, load('clsa_r18_demo.py')
    clsa = clsa.model
    assert moco.type == 'MoCo'
    for key in ('queue_len', 'feat_dim', 'momentum', 'backbone', 'neck',
                'data_preprocessor'):
        assert moco[key] == clsa[key]
    assert moco.head.temperature == clsa.head.temperature


def test_naive_row_swaps_only_the_head():
    assert diff('clsa_r18_demo.py', 'mocov2-strong-queries_r18_demo.py') == {
        'model.head.type': ('DDMHead', 'StrongContrastiveHead'),
        'model.head.ddm_temperature': (0.2, None)}


@pytest.mark.parametrize('base,ddm,extra', [
    ('mocov3', 'MoCoV3DDM', {'model.ddm_head.ddm_temperature': (None, 0.2)}),
    ('simclr', 'SimCLRDDM', {'model.ddm_head.ddm_temperature': (None, 0.1)}),
    ('byol', 'BYOLDDM', {'model.ddm_head.ddm_temperature': (None, 0.2),
                         'model.queue_len': (None, 256)}),
])
def test_ddm_rows_add_only_strong_views_and_ddm(base, ddm, extra):
    changed = diff(f'{base}_r18_demo.py', f'{base}-ddm_r18_demo.py')
    views = 'train_dataloader.dataset.pipeline.1.strong_views'
    assert changed == {
        'model.type': (load(f'{base}_r18_demo.py').model.type, ddm),
        'model.num_strong_views': (None, 1),
        'model.ddm_head.type': (None, 'DDMHead'),
        'model.ddm_head.loss_weight': (None, 1.0),
        views: ([], None),
        f'{views}.0.size': (None, 32),
        f'{views}.0.scale': (None, (0.086, 0.429)),
        **extra}


@pytest.mark.parametrize('name, hooked', [
    ('clsa_r18_demo.py', True), ('mocov2_r18_demo.py', True),
    ('mocov3_r18_demo.py', True), ('mocov3-ddm_r18_demo.py', True),
    ('byol_r18_demo.py', True), ('byol-ddm_r18_demo.py', True),
    ('simclr_r18_demo.py', False), ('simclr-ddm_r18_demo.py', False)])
def test_rows_with_a_momentum_encoder_log_it(name, hooked):
    """MomentumQueueHook on every row whose model has a key encoder or a
    queue, and on no other."""
    hooks = [h.type for h in load(name).get('custom_hooks', [])]
    assert hooks == (['MomentumQueueHook'] if hooked else [])


# The rows whose model shuffles the key batch (mmpretrain's MoCo, CLSA):
# split BN in 2 emulates 2 ranks of shuffle-BN. The others use SyncBN in
# their recipes, whose statistics are global: plain BN on one process.
SPLIT_BN = {'mocov2_r18_demo.py', 'clsa_r18_demo.py',
            'mocov2-strong-queries_r18_demo.py'}


@pytest.mark.parametrize('name', PRETRAIN)
def test_faithful_single_process_bn(name):
    """Split BN (2 splits) on the rows with shuffle-BN and on no other; the
    demo's, the quick and the ablation's batches pass check_split_bn."""
    from clsa_mm.utils import QUICK_RECIPE, check_split_bn, shrink_config
    cfg = load(name)
    norm_cfg = cfg.model.backbone.norm_cfg
    if name in SPLIT_BN:
        assert norm_cfg == dict(type='SplitBN', num_splits=2)
    else:
        assert norm_cfg.type == 'BN'
    check_split_bn(cfg)
    shrink_config(cfg, batch_size=QUICK_RECIPE['batch_size'])
    check_split_bn(cfg)


MONITOR_KEYS = ('model.online_probe', 'val_dataloader', 'val_evaluator',
                'val_cfg', 'train_cfg.val_interval', 'custom_hooks',
                'optim_wrapper.paramwise_cfg.custom_keys.online_probe',
                'train_dataloader.dataset.')


@pytest.mark.parametrize('name', PRETRAIN)
def test_online_monitors_fit_every_row(name, tiny_imagenet):
    """add_online_monitors (the demo's and the ablation's) gives every row
    a model with the probe, labelled training data and the k-NN monitor,
    and changes nothing else but the model class of mmpretrain's MoCo (v2),
    MoCoV3, SimCLR and BYOL."""
    from clsa_mm.utils import add_online_monitors
    from clsa_mm.utils.online_monitors import PROBE_MODELS
    cfg = load(name)
    before = flat(cfg.to_dict())
    after = flat(add_online_monitors(load(name), tiny_imagenet).to_dict())
    swap = PROBE_MODELS.get(cfg.model.type, {})
    swapped = {f'model.{k}' for k in flat(swap)}
    changed = {k for k in set(before) | set(after)
               if before.get(k, '-') != after.get(k, '-')}
    assert changed and all(k.startswith(MONITOR_KEYS) or k in swapped
                           for k in changed), sorted(changed)
    assert after['model.online_probe.num_classes'] == 3
    assert after['train_dataloader.dataset.type'] == 'CustomDataset'
    hooks = load(name).get('custom_hooks', [])
    assert [h['type'] for h in add_online_monitors(
        load(name), tiny_imagenet).custom_hooks] == [
            h['type'] for h in hooks] + ['KNNMonitorHook']


def monitored_run(name, data_root, work_dir, monitors):
    """Two epochs of 2 steps of a demo row on ``data_root``."""
    from clsa_mm.utils import add_online_monitors
    cfg = load(name)
    cfg.merge_from_dict({
        'work_dir': str(work_dir),
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': data_root,
        'train_cfg.max_epochs': 2,
        'param_scheduler.0.T_max': 2,
        'param_scheduler.0.end': 2,
        'default_hooks.checkpoint': None,
        'default_hooks.logger.interval': 1,
        'model.queue_len': 8,
    })
    if monitors:
        add_online_monitors(cfg, data_root)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_monitors_leave_pretraining_as_it_is(tiny_imagenet, tmp_path):
    """CLSA (split BN: the key shuffle draws from torch's RNG; the views
    from numpy's in the main process) trains to the same weights with both
    monitors evaluated after each epoch as without them."""
    name = 'clsa_r18_demo.py'
    plain = monitored_run(name, tiny_imagenet, tmp_path / 'plain', False)
    watched = monitored_run(name, tiny_imagenet, tmp_path / 'watched', True)
    assert watched.iter == plain.iter == 2 * (12 // 4)
    watched_state = watched.model.state_dict()
    for key, value in plain.model.state_dict().items():
        assert torch.equal(value, watched_state[key]), key
    log = (tmp_path / 'watched').glob('*/*.log')
    text = next(log).read_text()
    assert text.count('Epoch(knn)') == 2
    assert text.count('online_probe/val_top1') >= 2
