"""A non-editable install (a wheel built by ``pip install .``) carries the
configs and tools in ``clsa_mm/.mim``, and MIM trains, tests and searches
from it in a fresh virtual environment, from a directory outside the
repository.

The fresh venv reuses the project venv's dependencies through a ``.pth``
line (torch, mmcv ... are not reinstalled), and such a line does not run the
project venv's own ``.pth`` files, so the editable clsa_mm of the project
venv is invisible there: only the wheel's clsa_mm can be imported.
"""
import os
import os.path as osp
import shutil
import subprocess
import sysconfig

import pytest
from cli_helpers import PYTHON, REPO, tool_env

# What setup.py and MANIFEST.in read to build the wheel.
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml',
           'requirements', 'clsa_mm', 'configs', 'tools')


def run(cmd, cwd, env, timeout=600):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(cmd)}\n{out[-4000:]}'
    return out


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``(python, site_packages)`` of a fresh venv with clsa_mm installed
    non-editable from a copy of the source."""
    tmp = tmp_path_factory.mktemp('install')
    src = tmp / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    for name in SOURCES:
        path = osp.join(REPO, name)
        if osp.isdir(path):
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy(path, src / name)
    venv = tmp / 'venv'
    run([PYTHON, '-m', 'venv', '--without-pip', str(venv)], tmp, tool_env())
    python = str(venv / 'bin' / 'python')
    site = run([python, '-c', 'import sysconfig; '
                'print(sysconfig.get_paths()["purelib"])'], tmp,
               tool_env()).strip()
    with open(osp.join(site, 'project_deps.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    # pip comes from the project venv; --ignore-installed: never touch the
    # project venv's editable clsa_mm.
    run([python, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index',
         '--no-build-isolation', '--ignore-installed', str(src)], tmp,
        tool_env())
    return python, site


def test_wheel_ships_configs_tools_and_model_index(installed):
    python, site = installed
    mim = osp.join(site, 'clsa_mm', '.mim')
    for path in ('model-index.yml', 'configs/clsa/r50_8xb32_200e.py',
                 'configs/_base_/default_runtime.py', 'tools/train.py',
                 'tools/test.py'):
        assert osp.isfile(osp.join(mim, path)), path
    out = run([python, '-c', 'import clsa_mm; print(clsa_mm.__file__)'],
              '/', tool_env())
    assert out.strip() == osp.join(site, 'clsa_mm', '__init__.py')


def test_mim_search_lists_the_configs(installed, tmp_path):
    python, _ = installed
    out = run([python, '-m', 'mim', 'search', 'clsa_mm', '--field',
               'config', 'epochs'], tmp_path, tool_env())
    for name in ('clsa_r50_8xb32_200e', 'clsa_r50_8xb32-mcrop_800e',
                 'r50_linear-8xb32-coslr-100e_in1k'):
        assert f'config id: {name}' in out


def test_mim_train_and_test_from_outside_the_repository(
        installed, tmp_path, tiny_imagenet):
    python, site = installed
    mim = osp.join(site, 'clsa_mm', '.mim')
    # The demo configs read data/demo relative to the working directory:
    # train/ holds 3 classes x 4 images, val/ 3 x 2.
    data = tmp_path / 'data' / 'demo'
    shutil.copytree(tiny_imagenet, data)
    os.makedirs(data / 'meta')
    (data / 'meta' / 'classes.txt').write_text('class0\nclass1\nclass2\n')
    env = tool_env(PATH=f'{osp.dirname(python)}:{os.environ["PATH"]}')

    # CLSA pretraining: 12 images, batch 4, one epoch of 3 iterations.
    out = run([
        python, '-m', 'mim', 'train', 'clsa_mm', 'clsa_r18_demo.py',
        '--work-dir', 'pretrain', '--cfg-options',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
        'default_hooks.checkpoint.interval=1'
    ], tmp_path, env)
    assert f'will use {mim}/configs/demo/clsa_r18_demo.py' in out
    assert f'{mim}/tools/train.py' in out
    assert 'Epoch(train) [1][3/3]' in out
    assert (tmp_path / 'pretrain' / 'epoch_1.pth').is_file()

    # The linear probe of that backbone: one epoch, then `mim test` on its
    # checkpoint.
    run([
        python, '-m', 'mim', 'train', 'clsa_mm', 'r18_linear_demo.py',
        '--work-dir', 'linear', '--cfg-options', 'train_cfg.max_epochs=1',
        'default_hooks.checkpoint.interval=1',
        'model.backbone.init_cfg.checkpoint=pretrain/epoch_1.pth',
        'model.backbone.init_cfg.prefix=backbone.'
    ], tmp_path, env)
    checkpoint = tmp_path / 'linear' / 'epoch_1.pth'
    assert checkpoint.is_file()
    out = run([
        python, '-m', 'mim', 'test', 'clsa_mm', 'r18_linear_demo.py',
        '--checkpoint', str(checkpoint), '--work-dir', 'test'
    ], tmp_path, env)
    assert f'{mim}/tools/test.py' in out
    assert 'Epoch(test) [1/1]' in out
    assert 'accuracy/top1:' in out
