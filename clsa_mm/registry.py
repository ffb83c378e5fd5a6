"""clsa_mm registry nodes.

Each node is a child of the matching mmpretrain node with the scope
``clsa_mm``, so a config with ``default_scope = 'clsa_mm'`` finds our modules
first and falls back to mmpretrain's (``ResNet``, ``MoCoV2Neck``,
``MultiView``, ``PackInputs`` …) and then MMEngine's.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

__all__ = [
    'DATASETS', 'DATA_SAMPLERS', 'EVALUATORS', 'HOOKS', 'LOG_PROCESSORS',
    'LOOPS', 'METRICS', 'MODELS', 'MODEL_WRAPPERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'TASK_UTILS', 'TRANSFORMS',
    'VISBACKENDS', 'VISUALIZERS', 'WEIGHT_INITIALIZERS'
]


def _child(name, parent, locations):
    return Registry(
        name, parent=parent, scope='clsa_mm', locations=locations)


_engine = ['clsa_mm.engine']
_models = ['clsa_mm.models']
_datasets = ['clsa_mm.datasets']

RUNNERS = _child('runner', mmpretrain_registry.RUNNERS, _engine)
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             mmpretrain_registry.RUNNER_CONSTRUCTORS, _engine)
LOOPS = _child('loop', mmpretrain_registry.LOOPS, _engine)
HOOKS = _child('hook', mmpretrain_registry.HOOKS, _engine)
LOG_PROCESSORS = _child('log processor', mmpretrain_registry.LOG_PROCESSORS,
                        _engine)
OPTIMIZERS = _child('optimizer', mmpretrain_registry.OPTIMIZERS, _engine)
OPTIM_WRAPPERS = _child('optim_wrapper', mmpretrain_registry.OPTIM_WRAPPERS,
                        _engine)
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor',
    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS, _engine)
PARAM_SCHEDULERS = _child('parameter scheduler',
                          mmpretrain_registry.PARAM_SCHEDULERS, _engine)
DATASETS = _child('dataset', mmpretrain_registry.DATASETS, _datasets)
DATA_SAMPLERS = _child('data sampler', mmpretrain_registry.DATA_SAMPLERS,
                       _datasets)
TRANSFORMS = _child('transform', mmpretrain_registry.TRANSFORMS, _datasets)
MODELS = _child('model', mmpretrain_registry.MODELS, _models)
MODEL_WRAPPERS = _child('model_wrapper', mmpretrain_registry.MODEL_WRAPPERS,
                        _models)
WEIGHT_INITIALIZERS = _child('weight initializer',
                             mmpretrain_registry.WEIGHT_INITIALIZERS, _models)
TASK_UTILS = _child('task util', mmpretrain_registry.TASK_UTILS, _models)
METRICS = _child('metric', mmpretrain_registry.METRICS, ['clsa_mm.evaluation'])
EVALUATORS = _child('evaluator', mmpretrain_registry.EVALUATORS,
                    ['clsa_mm.evaluation'])
VISUALIZERS = _child('visualizer', mmpretrain_registry.VISUALIZERS,
                     ['clsa_mm.visualization'])
VISBACKENDS = _child('vis_backend', mmpretrain_registry.VISBACKENDS,
                     ['clsa_mm.visualization'])
