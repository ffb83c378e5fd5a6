"""The source distribution ships the licence setup.py declares, the
changelog and the config READMEs (MANIFEST.in)."""
import shutil
import subprocess
import tarfile
from pathlib import Path

from cli_helpers import PYTHON, REPO, tool_env

SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'LICENSE', 'CHANGELOG.md',
           'model-index.yml', 'requirements', 'clsa_mm', 'configs', 'tools')


def test_sdist_ships_license_changelog_and_config_readmes(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    for name in SOURCES:
        path = Path(REPO) / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy(path, src / name)
    proc = subprocess.run(
        [PYTHON, 'setup.py', '-q', 'sdist', '--dist-dir', str(tmp_path)],
        cwd=src, env=tool_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [sdist] = tmp_path.glob('clsa_mm-*.tar.gz')
    with tarfile.open(sdist) as tar:
        names = {name.split('/', 1)[1] for name in tar.getnames()
                 if '/' in name}
        license_text = tar.extractfile(
            f'{sdist.name[:-len(".tar.gz")]}/LICENSE').read().decode()
    for name in ('LICENSE', 'CHANGELOG.md', 'README.md',
                 'configs/clsa/README.md', 'tools/train.py'):
        assert name in names, name
    # The licence setup.py declares, in full.
    assert 'Apache License\n                           Version 2.0, January ' \
        '2004' in license_text
    assert 'END OF TERMS AND CONDITIONS' in license_text
    setup = (Path(REPO) / 'setup.py').read_text()
    assert "license='Apache License 2.0'" in setup
