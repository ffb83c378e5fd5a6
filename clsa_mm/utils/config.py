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


# The smoke-run recipe of the demo and the ablation (``--quick``): ``data``,
# the settings of the demo data (clsa_mm.datasets.make_demo_data: 3
# photographs, 32-pixel patches); the rest, the arguments of
# :func:`shrink_config` for each pretraining config.
QUICK_RECIPE = dict(
    data=dict(
        photos=['brick', 'coins', 'china'],
        train_per_class=8,
        val_per_class=4,
        size=32),
    crop_factor=0.5,
    epochs=1,
    batch_size=4,
    queue_len=8,
    log_interval=1)


def scale_crops(pipeline, factor):
    """Multiply every crop size of a train pipeline by ``factor``, in place.

    Crop sizes are the ``size`` of CLSAViews' view dicts and the integer
    ``scale`` of ``RandomResizedCrop`` (mmpretrain's output size), found at
    any depth (``MultiView`` transforms included).

    Args:
        pipeline (list | dict): The pipeline or a part of it.
        factor (float): The factor; a size becomes
            ``max(1, round(size * factor))``.

    Returns:
        int: How many sizes were changed.
    """
    changed = 0
    if isinstance(pipeline, dict):
        for key, value in pipeline.items():
            is_crop = (key == 'size' or key == 'scale' and str(
                pipeline.get('type', '')).endswith('RandomResizedCrop'))
            if is_crop and isinstance(value, int) and not isinstance(
                    value, bool):
                pipeline[key] = max(1, round(value * factor))
                changed += 1
            else:
                changed += scale_crops(value, factor)
    elif isinstance(pipeline, (list, tuple)):
        changed += sum(scale_crops(item, factor) for item in pipeline)
    return changed


def shrink_config(cfg, epochs=None, batch_size=None, crop_factor=None,
                  queue_len=None, log_interval=None,
                  checkpoint_interval=None, depth=None):
    """Shrink a training config to a smaller run, in place.

    The one way the demo, the ablation, ``tools/benchmarks/bench_step.py``
    and the tests make a recipe smaller (docs/demo.md, "Shrinking a
    recipe"). Every argument left ``None`` keeps the config's setting.

    Args:
        cfg (mmengine.Config): A config with ``train_cfg.max_epochs``, one
            ``param_scheduler`` over the whole run and ``train_dataloader``.
        epochs (int, optional): Training epochs; the schedule (``T_max`` and
            ``end``), ``train_cfg.val_interval`` and the checkpoint interval
            are cut to them.
        batch_size (int, optional): Images per batch; below 8 the data are
            loaded in the main process (``num_workers=0``).
        crop_factor (float, optional): Every crop size of the train pipeline
            is multiplied by it (:func:`scale_crops`).
        queue_len (int, optional): The model's queue, where it has one.
        log_interval (int, optional): Iterations per log line.
        checkpoint_interval (int, optional): Epochs per checkpoint.
        depth (int, optional): The depth of a ResNet ``model.backbone``;
            ``model.neck.in_channels`` follows its output channels (512 for
            depths 18 and 34, 2048 from 50). Hidden and output widths stay.

    Returns:
        mmengine.Config: ``cfg``.

    Raises:
        ValueError: naming the config's key that cannot be shrunk (several
            schedulers, no crop size in the pipeline, a backbone that is no
            ResNet, a depth ResNet does not have).
    """
    if epochs is not None:
        schedulers = cfg.param_scheduler
        if isinstance(schedulers, dict):
            schedulers = [schedulers]
        if len(schedulers) != 1:
            raise ValueError(
                f'shrink_config(epochs={epochs}): param_scheduler has '
                f'{len(schedulers)} schedulers; it shrinks one schedule over '
                'the whole run only')
        schedulers[0].end = epochs
        if 'T_max' in schedulers[0]:
            schedulers[0].T_max = epochs
        cfg.train_cfg.max_epochs = epochs
        if 'val_interval' in cfg.train_cfg:
            cfg.train_cfg.val_interval = min(cfg.train_cfg.val_interval,
                                             epochs)
        checkpoint = cfg.default_hooks.checkpoint
        checkpoint.interval = min(checkpoint.interval, epochs)
    if checkpoint_interval is not None:
        cfg.default_hooks.checkpoint.interval = checkpoint_interval
    if batch_size is not None:
        cfg.train_dataloader.batch_size = batch_size
        if batch_size < 8:
            cfg.train_dataloader.update(
                num_workers=0, persistent_workers=False)
    if queue_len is not None and 'queue_len' in cfg.model:
        cfg.model.queue_len = queue_len
    if crop_factor is not None and not scale_crops(
            cfg.train_dataloader.dataset.pipeline, crop_factor):
        raise ValueError(
            f'shrink_config(crop_factor={crop_factor}): no crop size in '
            'train_dataloader.dataset.pipeline to scale')
    if log_interval is not None:
        cfg.default_hooks.logger.interval = log_interval
    if depth is not None:
        _set_resnet_depth(cfg.model, depth)
    return cfg


def _set_resnet_depth(model, depth):
    """Set the depth of ``model.backbone`` and the neck's input width."""
    from mmpretrain.models.backbones.resnet import ResNet, get_expansion
    backbone = model.backbone
    if 'ResNet' not in str(backbone.type) or 'depth' not in backbone:
        raise ValueError(
            f'shrink_config(depth={depth}): model.backbone is '
            f'{backbone.type}; depth applies to a ResNet backbone only')
    if depth not in ResNet.arch_settings:
        raise ValueError(
            f'shrink_config(depth={depth}): ResNet has depths '
            f'{sorted(ResNet.arch_settings)}')
    backbone.depth = depth
    if 'in_channels' in model.get('neck', {}):
        block = ResNet.arch_settings[depth][0]
        model.neck.in_channels = 512 * get_expansion(block)
