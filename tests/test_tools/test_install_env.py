"""The mmcv flavour that tools/install_env.sh builds, without building."""
import re
import stat

import pytest
from cli_helpers import run_tool

SCRIPT = 'tools/install_env.sh'


@pytest.fixture
def cuda_home(tmp_path):
    """A CUDA_HOME whose bin/nvcc reports release 12.1."""
    nvcc = tmp_path / 'cuda' / 'bin' / 'nvcc'
    nvcc.parent.mkdir(parents=True)
    nvcc.write_text('#!/bin/sh\necho "nvcc: NVIDIA (R) Cuda compiler '
                    'driver"\necho "Cuda compilation tools, release 12.1, '
                    'V12.1.105"\n')
    nvcc.chmod(nvcc.stat().st_mode | stat.S_IXUSR)
    return tmp_path / 'cuda'


def flavour(*args, check=True, **env):
    env.setdefault('FORCE_CUDA', '')
    return run_tool([SCRIPT, *(args or ['--print-flavour'])], check=check,
                    **env)


@pytest.mark.parametrize('gpu, force, expected', [
    ('1', '', 'cuda12.1'),  # GPU and nvcc: CUDA without being told
    ('0', '', 'cpu'),       # nvcc but no GPU
    ('1', '0', 'cpu'),      # told not to
    ('0', '1', 'cuda12.1'),  # told to, nvcc found
])
def test_cuda_is_built_where_torch_sees_a_gpu_and_nvcc_is_found(
        cuda_home, gpu, force, expected):
    for how in (dict(NVCC=cuda_home / 'bin' / 'nvcc'),
                dict(CUDA_HOME=cuda_home)):
        proc = flavour(CLSA_MM_TORCH_CUDA=gpu, FORCE_CUDA=force, **how)
        assert proc.stdout.strip() == expected


def test_no_nvcc_means_cpu_or_a_clear_error(tmp_path):
    missing = tmp_path / 'no' / 'nvcc'
    assert flavour(CLSA_MM_TORCH_CUDA='1', NVCC=missing).stdout.strip() \
        == 'cpu'
    proc = flavour(CLSA_MM_TORCH_CUDA='1', NVCC=missing, FORCE_CUDA='1',
                   check=False)
    assert proc.returncode != 0
    assert 'FORCE_CUDA=1 but no nvcc found' in proc.stderr


def test_installed_flavour_is_asked_of_the_compiled_ops():
    from mmcv.ops import get_compiling_cuda_version
    version = get_compiling_cuda_version()
    proc = flavour('--print-installed-flavour')
    expected = 'cpu' if version == 'not available' else f'cuda{version}'
    assert proc.stdout.strip() == expected
    assert re.fullmatch(r'cpu|cuda[\d.]+', expected)


def test_unknown_argument_is_refused():
    proc = flavour('--flavour', check=False)
    assert proc.returncode == 2 and 'usage:' in proc.stderr
