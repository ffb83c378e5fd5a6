"""A tiny labelled image folder and the KNNMonitorHook loaders over it."""
import os
import os.path as osp

import cv2
import numpy as np

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]


def image_folder(root, per_class=(6, 3), separable=True):
    """``root/{train,val}/class<c>/<i>.png``: class c is a colour, each
    image has its own noise; with ``separable=False`` each image has a
    random colour, whatever its class. Returns ``root``."""
    root = str(root)
    for split, count, seed in (('train', per_class[0], 0),
                               ('val', per_class[1], 1)):
        rng = np.random.default_rng(seed)
        for c, colour in enumerate(COLOURS):
            folder = osp.join(root, split, f'class{c}')
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                base = colour if separable else rng.integers(0, 256, 3)
                img = np.array(base) + rng.integers(-40, 41, (32, 32, 3))
                cv2.imwrite(osp.join(folder, f'{i}.png'),
                            np.clip(img, 0, 255).astype(np.uint8))
    return root


def knn_loader_cfg(data_root, batch_size=2):
    """``train_dataloader`` and ``val_dataloader`` of the hook."""
    val = dict(
        batch_size=batch_size,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(
            type='CustomDataset',
            data_root=data_root,
            data_prefix='val',
            pipeline=[dict(type='LoadRGBImageFromFile'),
                      dict(type='PackInputs')]))
    train = dict(val, dataset=dict(val['dataset'], data_prefix='train'))
    return dict(train_dataloader=train, val_dataloader=val)
