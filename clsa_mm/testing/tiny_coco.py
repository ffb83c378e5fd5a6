"""A tiny COCO-format instance segmentation data set, drawn on the fly."""
import json
import os
import os.path as osp

import cv2
import numpy as np

from .shapes import shape_drawer


def _annotation(ann_id, image_id, category_id, corners):
    x0, y0 = corners.min(0)
    x1, y1 = corners.max(0)
    x, y = corners[:, 0], corners[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=category_id,
        segmentation=[[round(float(v), 2) for v in corners.reshape(-1)]],
        bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)],
        area=round(float(area), 2),
        iscrowd=0)


def make_tiny_coco(root,
                   num_train=4,
                   num_val=2,
                   image_size=(128, 96),
                   max_objects=3,
                   seed=0):
    """Write a COCO-style data set of images with polygon shapes.

    Layout: ``root/{train,val}/NNNNNN.jpg`` and
    ``root/annotations/instances_{train,val}.json`` with ``segmentation``
    (one polygon), ``bbox``, ``area`` and the 80 COCO ``categories`` (ids
    1-80), so that the stock 80-class configs and ``CocoMetric`` work
    unchanged. Rectangles, triangles and octagons (:func:`shape_drawer`) are
    ``person``, ``bicycle`` and ``car`` (ids 1-3).

    Args:
        root (str): Output folder.
        num_train (int): Training images. Defaults to 4.
        num_val (int): Validation images. Defaults to 2.
        image_size (tuple[int, int]): ``(width, height)``. Defaults to
            ``(128, 96)``.
        max_objects (int): At most this many (1-4) objects per image.
            Defaults to 3.
        seed (int): Random seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    draw = shape_drawer(image_size, max_objects, seed)
    width, height = image_size
    from mmdet.datasets import CocoDataset
    categories = [
        dict(id=i + 1, name=name)
        for i, name in enumerate(CocoDataset.METAINFO['classes'])
    ]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    ann_id = 1
    for split, num in (('train', num_train), ('val', num_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        for i in range(num):
            image_id = i + 1
            file_name = f'{image_id:06d}.jpg'
            image, objects = draw()
            cv2.imwrite(osp.join(root, split, file_name), image)
            images.append(
                dict(
                    id=image_id,
                    file_name=file_name,
                    width=width,
                    height=height))
            for category_id, corners in objects:
                annotations.append(
                    _annotation(ann_id, image_id, category_id, corners))
                ann_id += 1
        with open(osp.join(root, 'annotations', f'instances_{split}.json'),
                  'w') as f:
            json.dump(
                dict(
                    images=images,
                    annotations=annotations,
                    categories=categories),
                f)
    return root
