"""mmpretrain's and mmdet's packaged tools/train.py (what `mim train
mmpretrain/mmdet` run) with clsa_mm configs: nothing but the config tells them
about clsa_mm.
"""
import glob
import os.path as osp
import subprocess

import mmdet
import mmpretrain
import torch
from cli_helpers import PYTHON, REPO, tool_env
from mmengine.config import Config

from clsa_mm.checkpoint import backbone_checkpoint, load_local_checkpoint
from clsa_mm.testing import clsa_checkpoint, make_tiny_coco

MMPRETRAIN_TRAIN = osp.join(
    osp.dirname(mmpretrain.__file__), '.mim', 'tools', 'train.py')
MMDET_TRAIN = osp.join(
    osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')


def test_mmpretrain_train_py_runs_the_demo_config(tmp_path, tiny_imagenet):
    work_dir = tmp_path / 'work'
    # 12 tiny images, batch 4: 3 iterations; run outside the repository.
    cmd = [
        PYTHON, MMPRETRAIN_TRAIN,
        osp.join(REPO, 'configs/demo/clsa_r18_demo.py'), '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={tiny_imagenet}',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1'
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=tool_env(),
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'Epoch(train) [1][3/3]' in out
    ckpt = load_local_checkpoint(str(work_dir / 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 3
    # CLSA's own parts were built: the queue and the EMA key encoder.
    assert 'queue' in ckpt['state_dict']


def test_mmdet_train_py_applies_clsa_mm_pretrained_check(tmp_path):
    # The detection configs run in the mmdet scope; their custom_imports
    # bring clsa_mm's checked `Pretrained` init, which refuses a ResNet-18
    # backbone for the ResNet-50 before any training.
    make_tiny_coco(str(tmp_path / 'data' / 'tiny_coco'), num_train=2,
                   num_val=1)
    torch.save(backbone_checkpoint(clsa_checkpoint(18), 'r18.pth'),
               tmp_path / 'r18_backbone.pth')
    cmd = [
        PYTHON, MMDET_TRAIN,
        osp.join(REPO, 'configs/benchmarks/mmdetection/tiny_coco/'
                 'mask-rcnn_r50_fpn_ms-1x_tiny-coco.py'), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        'model.backbone.init_cfg.checkpoint=r18_backbone.pth'
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=tool_env(),
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert 'r18_backbone.pth does not fit' in out, out[-4000:]
    assert 'Epoch(train)' not in out


def test_configs_in_another_scope_import_clsa_mm():
    # mmpretrain's/mmdet's tools import nothing of clsa_mm by themselves; a
    # config outside the clsa_mm scope must bring it (its checked
    # `Pretrained` init, its modules) through custom_imports.
    configs = [
        path for path in glob.glob(
            osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in path.split(osp.sep)
    ]
    assert configs
    for path in configs:
        cfg = Config.fromfile(path)
        if cfg.get('default_scope') == 'clsa_mm':
            continue
        imports = cfg.get('custom_imports', {}).get('imports', [])
        assert 'clsa_mm' in imports, (
            f'{osp.relpath(path, REPO)} runs in the '
            f'{cfg.get("default_scope")!r} scope but its custom_imports '
            f'{imports} do not import clsa_mm')
