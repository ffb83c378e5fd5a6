from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def read_version():
    scope = {}
    with open('clsa_mm/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='clsa_mm',
    version=read_version(),
    description='CLSA (Contrastive Learning with Stronger Augmentations) '
    'for the OpenMMLab stack',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt') +
    read_requirements('requirements/mminstall.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
    },
    license='Apache License 2.0',
)
