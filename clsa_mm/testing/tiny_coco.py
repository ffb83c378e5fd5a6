"""A tiny COCO-format instance segmentation data set, drawn on the fly."""
import json
import os
import os.path as osp

import cv2
import numpy as np

# Shapes drawn as the first COCO classes. The annotation files list all 80
# COCO classes (ids 1-80 in mmdet's order), so that the stock 80-class
# configs and CocoMetric work unchanged.
SHAPES = ('rectangle', 'triangle', 'octagon')


def _polygon(shape, cx, cy, radius, angle):
    """Corners of ``shape`` centred at (cx, cy), as an (n, 2) array."""
    if shape == 'rectangle':
        w, h = radius, radius * 0.6
        return np.array([[cx - w, cy - h], [cx + w, cy - h], [cx + w, cy + h],
                         [cx - w, cy + h]])
    n = 3 if shape == 'triangle' else 8
    t = angle + np.arange(n) * 2 * np.pi / n
    return np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], 1)


def _draw_image(rng, width, height, max_objects):
    image = rng.integers(0, 80, (height, width, 3)).astype(np.uint8)
    # Objects lie in different cells of a 2 x 2 grid, so they never overlap.
    cells = rng.permutation(4)[:rng.integers(1, max_objects + 1)]
    objects = []
    for cell in cells:
        cw, ch = width / 2, height / 2
        cx0, cy0 = (cell % 2) * cw, (cell // 2) * ch
        radius = rng.uniform(0.25, 0.4) * min(cw, ch)
        cx = cx0 + rng.uniform(radius + 1, cw - radius - 1)
        cy = cy0 + rng.uniform(radius + 1, ch - radius - 1)
        label = rng.integers(len(SHAPES))
        corners = _polygon(SHAPES[label], cx, cy, radius,
                           rng.uniform(0, np.pi))
        color = [int(c) for c in rng.integers(120, 256, 3)]
        cv2.fillPoly(image, [np.round(corners).astype(np.int32)], color)
        objects.append((int(label) + 1, corners))
    return image, objects


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
    1-80). Rectangles, triangles and octagons are ``person``, ``bicycle``
    and ``car`` (ids 1-3).

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
    if not 1 <= max_objects <= 4:
        raise ValueError(f'max_objects must be 1..4, got {max_objects}')
    rng = np.random.default_rng(seed)
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
            image, objects = _draw_image(rng, width, height, max_objects)
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
