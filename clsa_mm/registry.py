"""clsa_mm registry nodes.

Each node is a child of the matching mmpretrain node with the scope
``clsa_mm``, so a config with ``default_scope = 'clsa_mm'`` finds our modules
first and falls back to mmpretrain's (``ResNet``, ``MoCoV2Neck``,
``PackInputs``, ``UniversalVisualizer`` …) and then MMEngine's.

The nodes import their modules lazily, on the first lookup: clsa_mm's
package for that kind of module (where it registers any) *and* mmpretrain's.
A child registry searches its parents' tables but does not make them import
their own modules, so without mmpretrain's locations here a name such as
``UniversalVisualizer`` would be found only after some other code had
imported ``mmpretrain.visualization``. With them, every entry point that
builds from a clsa_mm config finds every module: our tools, mmpretrain's and
mmdet's packaged tools, ``mim train/test`` and a plain
``Runner.from_cfg(cfg)`` in a user's script. mmdet's modules resolve through
the ``mmdet.`` scope prefix, which MMEngine imports on demand.

``build`` on a node runs in the clsa_mm scope whatever default scope is
current (see :mod:`clsa_mm.scope`), so clsa_mm modules build after a Runner
of another library in the same process.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

from clsa_mm.scope import clsa_mm_scope, in_clsa_mm_scope

__all__ = [
    'DATASETS', 'DATA_SAMPLERS', 'EVALUATORS', 'HOOKS', 'LOG_PROCESSORS',
    'LOOPS', 'METRICS', 'MODELS', 'MODEL_WRAPPERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'TASK_UTILS', 'TRANSFORMS',
    'VISBACKENDS', 'VISUALIZERS', 'WEIGHT_INITIALIZERS', 'clsa_mm_scope'
]

# clsa_mm's subpackages that register modules; the other kinds of module
# (visualizers …) come from mmpretrain only.
_OWN = {'engine', 'models', 'datasets', 'evaluation'}


def _child(name, parent, package):
    """A ``clsa_mm`` node under the mmpretrain node ``parent``.

    Args:
        name (str): The registry's name, as mmpretrain's.
        parent (Registry): The mmpretrain node.
        package (str): The subpackage (``engine``, ``models``, ``datasets``,
            ``evaluation`` or ``visualization``) whose import registers this
            kind of module, in mmpretrain and, where it has one, in clsa_mm.
    """
    locations = [f'mmpretrain.{package}']
    if package in _OWN:
        locations.append(f'clsa_mm.{package}')
    return Registry(
        name,
        parent=parent,
        scope='clsa_mm',
        locations=locations,
        build_func=in_clsa_mm_scope(parent.build_func))


RUNNERS = _child('runner', mmpretrain_registry.RUNNERS, 'engine')
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             mmpretrain_registry.RUNNER_CONSTRUCTORS, 'engine')
LOOPS = _child('loop', mmpretrain_registry.LOOPS, 'engine')
HOOKS = _child('hook', mmpretrain_registry.HOOKS, 'engine')
LOG_PROCESSORS = _child('log processor', mmpretrain_registry.LOG_PROCESSORS,
                        'engine')
OPTIMIZERS = _child('optimizer', mmpretrain_registry.OPTIMIZERS, 'engine')
OPTIM_WRAPPERS = _child('optim_wrapper', mmpretrain_registry.OPTIM_WRAPPERS,
                        'engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor',
    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS, 'engine')
PARAM_SCHEDULERS = _child('parameter scheduler',
                          mmpretrain_registry.PARAM_SCHEDULERS, 'engine')
DATASETS = _child('dataset', mmpretrain_registry.DATASETS, 'datasets')
DATA_SAMPLERS = _child('data sampler', mmpretrain_registry.DATA_SAMPLERS,
                       'datasets')
TRANSFORMS = _child('transform', mmpretrain_registry.TRANSFORMS, 'datasets')
MODELS = _child('model', mmpretrain_registry.MODELS, 'models')
MODEL_WRAPPERS = _child('model_wrapper', mmpretrain_registry.MODEL_WRAPPERS,
                        'models')
WEIGHT_INITIALIZERS = _child('weight initializer',
                             mmpretrain_registry.WEIGHT_INITIALIZERS, 'models')
TASK_UTILS = _child('task util', mmpretrain_registry.TASK_UTILS, 'models')
METRICS = _child('metric', mmpretrain_registry.METRICS, 'evaluation')
EVALUATORS = _child('evaluator', mmpretrain_registry.EVALUATORS, 'evaluation')
VISUALIZERS = _child('visualizer', mmpretrain_registry.VISUALIZERS,
                     'visualization')
VISBACKENDS = _child('vis_backend', mmpretrain_registry.VISBACKENDS,
                     'visualization')
