import difflib
import os.path as osp

from mmengine.config import Config

from .setup_env import register_all_modules


def check_cfg_options(cfg, options):
    """Refuse ``--cfg-options`` keys that would silently add a setting.

    MMEngine merges an unknown key into the config without complaint, so a
    typo such as ``trian_cfg.max_epochs=1`` would train with the default
    schedule. Every component of a key must exist in ``cfg``, except the last
    one inside a dict with a ``type`` (a constructor argument, which the
    builder itself checks) or inside a dict that is empty/None in ``cfg``.

    Args:
        cfg (mmengine.Config): The config before the options are merged.
        options (dict): ``{dotted.key: value}`` from ``--cfg-options``.

    Raises:
        KeyError: naming the key, the missing component and close matches.
    """
    for key in options:
        node = cfg
        parts = key.split('.')
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise KeyError(f'--cfg-options {key}: index {part} is out '
                                   f'of range for a list of {len(node)}')
                node = node[int(part)]
                continue
            if node is None:
                break
            if not hasattr(node, 'keys'):
                raise KeyError(
                    f'--cfg-options {key}: "{".".join(parts[:depth])}" is '
                    f'{type(node).__name__} {node!r}, not a dict')
            if part in node:
                node = node[part]
                continue
            if last and ('type' in node or len(node) == 0):
                break
            where = '.'.join(parts[:depth]) or 'the config'
            close = difflib.get_close_matches(part, list(node.keys()), n=3)
            hint = f' Did you mean: {", ".join(close)}?' if close else ''
            raise KeyError(f'--cfg-options {key}: "{part}" does not exist in '
                           f'{where}.{hint}')


def load_config(path, cfg_options=None):
    """Read a config file the way every tool of this repository does.

    Registers the clsa_mm and mmpretrain modules (leaving the default scope
    alone), reads ``path`` and merges ``--cfg-options`` after checking them
    with :func:`check_cfg_options`.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): ``{dotted.key: value}`` overrides.

    Returns:
        mmengine.Config: The merged config.

    Raises:
        FileNotFoundError: naming ``path`` when it is not a file.
        KeyError: from :func:`check_cfg_options`.
    """
    register_all_modules(init_default_scope=False)
    if not osp.isfile(path):
        raise FileNotFoundError(f'Config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg


def set_work_dir(cfg, config_path, work_dir=None):
    """Set ``cfg.work_dir``: ``work_dir``, else the config's own, else
    ``./work_dirs/<config name>``.

    Args:
        cfg (mmengine.Config): The config to change.
        config_path (str): The file ``cfg`` was read from.
        work_dir (str, optional): The ``--work-dir`` argument.
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
