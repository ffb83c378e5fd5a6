import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))
# What MIM (`mim train/test/search clsa_mm`) looks for in the installed
# package's `.mim` folder, as mmpretrain and mmdet ship theirs.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_requirements(path):
    with open(osp.join(ROOT, path)) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def read_version():
    scope = {}
    with open(osp.join(ROOT, 'clsa_mm/version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


class BuildPyWithMim(build_py):
    """``build_py`` that also puts configs, tools and model-index.yml into the
    built package as ``clsa_mm/.mim/``, so a wheel (``pip install .``) carries
    them. The source tree is left untouched; an editable install keeps using
    the repository's own folders.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = osp.join(self.build_lib, 'clsa_mm', '.mim')
        shutil.rmtree(mim, ignore_errors=True)
        os.makedirs(mim)
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        for name in MIM_FILES:
            src = osp.join(ROOT, name)
            if osp.isdir(src):
                shutil.copytree(src, osp.join(mim, name), ignore=ignore)
            elif osp.isfile(src):
                shutil.copyfile(src, osp.join(mim, name))
            else:
                raise FileNotFoundError(
                    f'{src} is missing: the wheel must ship it in '
                    'clsa_mm/.mim for mim (see MANIFEST.in for sdists)')


setup(
    name='clsa_mm',
    version=read_version(),
    description='CLSA (Contrastive Learning with Stronger Augmentations) '
    'for the OpenMMLab stack',
    long_description=open(osp.join(ROOT, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'tests.*')),
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt') +
    read_requirements('requirements/mminstall.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
    },
    cmdclass={'build_py': BuildPyWithMim},
    zip_safe=False,
    license='Apache License 2.0',
)
