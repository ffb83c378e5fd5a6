"""tools/install_env.sh on a fresh machine: empty cache, no venv.

The mmcv compile (about 11 min) is the one step left out: the installed
stack's own wheel is handed over through ``CLSA_MM_MMCV_WHEEL`` and goes
through the same publish path as a freshly built one. Every other step runs
as it does for a newcomer, in order, into a new venv.
"""
import glob
import os
import os.path as osp
import re
import subprocess

import pytest
from cli_helpers import run_tool

SCRIPT = 'tools/install_env.sh'
STEP = re.compile(r'^\[install_env [\d:]+\] (.*)$', re.M)


def cached_mmcv_wheel():
    """The wheel the current venv's mmcv was installed from."""
    from mmcv.ops import get_compiling_cuda_version
    version = get_compiling_cuda_version()
    flavour = 'cpu' if version == 'not available' else f'cuda{version}'
    cache = os.environ.get('CLSA_MM_CACHE') or osp.join(
        os.environ.get('XDG_CACHE_HOME') or osp.expanduser('~/.cache'),
        'clsa_mm')
    wheels = glob.glob(osp.join(cache, 'wheels', f'mmcv-*-{flavour}',
                                'mmcv-*.whl'))
    assert wheels, (f'no cached mmcv wheel of the {flavour} flavour in '
                    f'{cache}/wheels: run `make install` first')
    return wheels[0]


def install(cache, venv, **env):
    """Run the installer as a newcomer does (the machine's python3.11, not
    this venv's); its stdout and the steps it announced."""
    proc = run_tool([SCRIPT], timeout=1500, check=False, PYTHON='python3.11',
                    CLSA_MM_CACHE=cache, CLSA_MM_VENV=venv, **env)
    assert proc.returncode == 0, (f'exit {proc.returncode}\n'
                                  f'{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-3000:]}')
    return proc.stdout, STEP.findall(proc.stdout)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_cold_install_into_an_empty_cache_and_a_new_venv(tmp_path):
    cache, venv = tmp_path / 'cache', tmp_path / 'venv'
    wheel = cached_mmcv_wheel()
    stdout, steps = install(cache, venv, CLSA_MM_MMCV_WHEEL=wheel)
    order = [next(i for i, s in enumerate(steps) if s.startswith(prefix))
             for prefix in ('create virtual environment', 'install torch',
                            'install mmengine', 'take the prebuilt mmcv',
                            'built mmcv', 'install cached mmcv',
                            'install mmpretrain', 'install clsa_mm',
                            'check the installed stack', 'done')]
    assert order == sorted(order), steps
    assert not any(s.startswith('compile') for s in steps)
    # The stack check ran in the new venv and names every package.
    assert re.search(r'^torch \S+ torchvision \S+ .* mmcv 2\.1\.0 '
                     r'mmpretrain \S+ mmdet \S+ clsa_mm \S+$', stdout,
                     re.M), stdout[-2000:]
    assert (venv / 'bin' / 'python').exists()
    # The wheel is published under its flavour; nothing is left half-done.
    published = glob.glob(str(cache / 'wheels' / 'mmcv-*-*' / 'mmcv-*.whl'))
    assert [osp.basename(p) for p in published] == [osp.basename(wheel)]
    assert not glob.glob(str(cache / 'wheels' / '*.partial'))

    # A rerun whose last attempt left a complete wheel behind (killed after
    # the build) publishes that wheel instead of compiling again.
    subprocess.run([str(venv / 'bin' / 'python'), '-m', 'pip', 'uninstall',
                    '-y', '-q', 'mmcv'], check=True)
    published_dir = osp.dirname(published[0])
    partial = re.sub(r'-(cpu|cuda[\d.]+)$', '.partial', published_dir)
    os.rename(published_dir, partial)
    _, steps = install(cache, venv)
    assert any(s.startswith('reuse the complete wheel') for s in steps), steps
    assert not any(s.startswith('compile') for s in steps), steps
    assert glob.glob(osp.join(published_dir, 'mmcv-*.whl'))
    assert not osp.exists(partial)
