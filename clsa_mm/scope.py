"""Building clsa_mm modules whatever MMEngine default scope is current.

A Runner of another library (mmengine, mmpretrain, mmdet) leaves its own
default scope current in the process, and MMEngine's registries resolve
names in the current scope. clsa_mm therefore builds its parts in the
clsa_mm scope itself: every ``build`` on a :mod:`clsa_mm.registry` node does
(:func:`in_clsa_mm_scope`), and a module whose base class builds parts from
configs with another library's registry (mmpretrain's
``BaseSelfSupervisor``, ``BaseDataset``) decorates its ``__init__`` with
``@clsa_mm_scope()``.
"""
import functools
from contextlib import contextmanager

from mmengine.registry import DefaultScope


@contextmanager
def clsa_mm_scope():
    """Make ``clsa_mm`` the default scope inside the ``with`` block.

    Every registry build in the block, nested ones included (a model's data
    preprocessor, a dataset's pipeline), resolves names as under a Runner
    with ``default_scope='clsa_mm'``: clsa_mm first, then mmpretrain, then
    MMEngine. The previous scope is current again after the block. Also a
    decorator: ``@clsa_mm_scope()`` above an ``__init__``.
    """
    current = DefaultScope.get_current_instance()
    if current is not None and current.scope_name == 'clsa_mm':
        yield
        return
    with DefaultScope.overwrite_default_scope('clsa_mm'):
        yield


def in_clsa_mm_scope(build_func):
    """``build_func`` (a registry's build function) run in the clsa_mm
    scope.

    Args:
        build_func (callable): E.g. ``mmengine.registry.build_from_cfg``.
    """

    @functools.wraps(build_func)
    def build(*args, **kwargs):
        with clsa_mm_scope():
            return build_func(*args, **kwargs)

    return build
