"""The clsa_mm registries find mmpretrain's modules without any prior import.

Each check runs in a fresh interpreter: in the test process some other test
may already have imported mmpretrain's modules, which would hide the bug.
"""
import ast
import os
import os.path as osp
import subprocess

import pytest
from cli_helpers import PYTHON, REPO, stderr_tail, tool_env

from clsa_mm import registry

# (registry, name): mmpretrain's modules a clsa_mm config uses, and ours.
LOOKUPS = [
    ('VISUALIZERS', 'UniversalVisualizer'),
    ('VISBACKENDS', 'LocalVisBackend'),
    ('MODELS', 'ResNet'),
    ('MODELS', 'MoCoV2Neck'),
    ('MODELS', 'SelfSupDataPreprocessor'),
    ('MODELS', 'CLSA'),
    ('TRANSFORMS', 'PackInputs'),
    ('TRANSFORMS', 'CLSAViews'),
    ('DATASETS', 'CustomDataset'),
    ('DATASETS', 'UnlabeledImageDataset'),
    ('DATA_SAMPLERS', 'RepeatAugSampler'),
    ('HOOKS', 'VisualizationHook'),
    ('HOOKS', 'AtomicCheckpointHook'),
    ('METRICS', 'Accuracy'),
    ('OPTIMIZERS', 'LARS'),
    ('OPTIM_WRAPPER_CONSTRUCTORS',
     'LearningRateDecayOptimWrapperConstructor'),
]


def test_fresh_interpreter_resolves_mmpretrain_and_clsa_mm_names():
    script = ('import clsa_mm.registry as r\n'
              f'for reg, name in {LOOKUPS!r}:\n'
              '    if getattr(r, reg).get(name) is None:\n'
              '        print("MISSING", reg, name)\n')
    proc = subprocess.run([PYTHON, '-c', script], cwd=REPO, env=tool_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, stderr_tail(proc.stderr, 3000)
    assert 'MISSING' not in proc.stdout, proc.stdout


def _registrations():
    """(registry name, module) of every ``@X.register_module`` in clsa_mm
    where ``X`` is a node of clsa_mm/registry.py (not one of MMEngine's)."""
    found = []
    for dirpath, _, files in os.walk(osp.join(REPO, 'clsa_mm')):
        for fname in sorted(files):
            if not fname.endswith('.py'):
                continue
            path = osp.join(dirpath, fname)
            tree = ast.parse(open(path).read(), path)
            ours = {
                alias.asname or alias.name
                for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module == 'clsa_mm.registry' or
                     (node.level > 0 and node.module == 'registry'))
                for alias in node.names
            }
            module = osp.relpath(path, REPO)[:-3].replace(osp.sep, '.')
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute)
                        and node.attr == 'register_module'
                        and isinstance(node.value, ast.Name)
                        and node.value.id in ours):
                    found.append((node.value.id, module))
    return found


def test_every_registering_package_is_a_lazy_location():
    registrations = _registrations()
    assert len(registrations) >= 10  # hooks, transforms, datasets, models
    for reg_name, module in registrations:
        reg = getattr(registry, reg_name, None)
        if reg is None:
            pytest.fail(f'{module} registers into {reg_name}, which is not '
                        'a clsa_mm registry node (clsa_mm/registry.py)')
        if not any(module == loc or module.startswith(loc + '.')
                   for loc in reg._locations):
            pytest.fail(f'{module} registers into {reg_name}, whose lazy '
                        f'locations {reg._locations} do not import it: add '
                        'its package in clsa_mm/registry.py')
