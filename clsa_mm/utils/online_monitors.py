import os
import os.path as osp

from clsa_mm.evaluation import KNN_DEFAULTS

# The model that carries an online probe (model.online_probe), for each
# pretraining algorithm without one: mmpretrain's MoCo (v2) is MoCoWithProbe
# (the same loss, bit for bit); its MoCoV3, SimCLR and BYOL are their DDM
# models without strong views, whose losses and gradients equal
# mmpretrain's (tests/test_models/test_{mocov3,simclr,byol}_ddm.py); BYOL's
# DDM queue is empty (queue_len=0).
NO_DDM = dict(num_strong_views=0, ddm_head=dict(type='DDMHead'))
PROBE_MODELS = dict(
    MoCo=dict(type='MoCoWithProbe'),
    MoCoV3=dict(type='MoCoV3DDM', **NO_DDM),
    SimCLR=dict(type='SimCLRDDM', **NO_DDM),
    BYOL=dict(type='BYOLDDM', queue_len=0, **NO_DDM),
)
# The images the monitors read: RGB, as the pretraining pipelines load them
# (the model's data preprocessor normalises them), unaugmented.
MONITOR_PIPELINE = [dict(type='LoadRGBImageFromFile'), dict(type='PackInputs')]


def add_online_monitors(cfg,
                        data_root,
                        probe_lr=0.5,
                        k=KNN_DEFAULTS['k'],
                        temperature=KNN_DEFAULTS['temperature'],
                        interval=1):
    """Watch a pretraining on an ImageNet-style folder, in place: the online
    linear probe (val top-1 on ``val/`` every ``interval`` epochs) and the
    k-NN monitor (``KNNMonitorHook``, bank ``train/``, queries ``val/``).

    The training data set becomes mmpretrain's ``CustomDataset`` over
    ``data_root/train`` (labels from its class folders, the images in the
    order of the folder scan of ``UnlabeledImageDataset``, so pretraining
    sees the same samples in the same order). The probe has its own
    learning rate ``probe_lr`` (``lr_mult`` of the base lr, no weight
    decay, outside LARS's trust ratio). The val loop's sampler has a fixed
    seed, so building it draws no random number, and ``RNGStateHook``
    restores the random states after each validation: the monitors leave
    pretraining as it is.

    Args:
        cfg (mmengine.Config): A pretraining config whose model is a
            clsa_mm model or a key of :data:`PROBE_MODELS`.
        data_root (str): The folder with ``train/<class>/*`` and
            ``val/<class>/*`` (the demo data).
        probe_lr (float): The probe's learning rate at the start.
        k (int): k of the k-NN monitor (as ``knn_eval.py``).
        temperature (float): T of the k-NN monitor (as ``knn_eval.py``).
        interval (int): Epochs between evaluations (and after the last).

    Returns:
        mmengine.Config: ``cfg``.

    Raises:
        FileNotFoundError: ``data_root/train`` holds no class folders.
    """
    train_dir = osp.join(data_root, 'train')
    classes = sorted(d for d in os.listdir(train_dir)
                     if osp.isdir(osp.join(train_dir, d))) if osp.isdir(
                         train_dir) else []
    if not classes:
        raise FileNotFoundError(
            f'add_online_monitors: {train_dir} holds no class folders; the '
            'monitors need labelled data (train/<class>/*, val/<class>/*)')
    model = cfg.model
    model.update(PROBE_MODELS.get(model.type, {}))
    model.online_probe = dict(num_classes=len(classes))

    dataset = cfg.train_dataloader.dataset
    dataset.type = 'CustomDataset'
    dataset.data_root = data_root
    dataset.data_prefix = 'train'
    dataset.ann_file = ''

    optim = cfg.optim_wrapper
    probe = dict(lr_mult=probe_lr / optim.optimizer.lr, decay_mult=0.0)
    if optim.optimizer.type == 'LARS':
        probe['lars_exclude'] = True
    paramwise = dict(optim.get('paramwise_cfg') or {})
    paramwise['custom_keys'] = dict(paramwise.get('custom_keys') or {},
                                    online_probe=probe)
    optim.paramwise_cfg = paramwise

    def loader(split):
        return dict(
            batch_size=128,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False, seed=0),
            collate_fn=dict(type='default_collate'),
            dataset=dict(
                type='CustomDataset',
                data_root=data_root,
                data_prefix=split,
                pipeline=MONITOR_PIPELINE))

    cfg.val_dataloader = loader('val')
    cfg.val_evaluator = dict(type='OnlineProbeAccuracy')
    cfg.val_cfg = dict()
    cfg.train_cfg.val_interval = interval
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(
            type='KNNMonitorHook',
            interval=interval,
            k=k,
            temperature=temperature,
            train_dataloader=loader('train'),
            val_dataloader=loader('val'))
    ]
    return cfg


# The monitors' scalars and their names in read_online_monitors' records.
MONITOR_KEYS = {'online_probe/val_top1': 'online_probe_top1',
                'knn/top1': 'knn_top1', 'knn/seconds': 'knn_seconds'}


def read_online_monitors(work_dir):
    """The monitors' values per epoch of a pretraining, from its scalar
    logs (:func:`clsa_mm.visualization.load_scalar_logs`).

    Args:
        work_dir (str): The work dir of the pretraining.

    Returns:
        list[dict]: ``{'epoch', 'online_probe_top1', 'knn_top1',
        'knn_seconds'}`` per evaluated epoch (the keys that were logged).
    """
    from clsa_mm.visualization import load_scalar_logs
    _, val = load_scalar_logs(work_dir)
    epochs = {}
    for record in val:
        for key, name in MONITOR_KEYS.items():
            if key in record:
                epochs.setdefault(record['step'], {})[name] = record[key]
    return [dict(epoch=epoch, **values)
            for epoch, values in sorted(epochs.items())]
