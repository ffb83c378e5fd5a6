import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register clsa_mm and mmpretrain modules into the registries.

    Args:
        init_default_scope (bool): Whether to make ``clsa_mm`` the current
            default scope, so that ``type='CLSA'`` and every mmpretrain name
            resolve without a scope prefix. Defaults to True.
    """
    from mmpretrain.utils import register_all_modules as register_mmpretrain
    register_mmpretrain(init_default_scope=False)

    import clsa_mm.datasets  # noqa: F401
    import clsa_mm.engine  # noqa: F401
    import clsa_mm.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('clsa_mm', scope_name='clsa_mm')
    elif current.scope_name != 'clsa_mm':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "clsa_mm"; register_all_modules switches it to '
                      '"clsa_mm".',
                      stacklevel=2)
        DefaultScope.get_instance(
            f'clsa_mm-{datetime.datetime.now()}', scope_name='clsa_mm')
