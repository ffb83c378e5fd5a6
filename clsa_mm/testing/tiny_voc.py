"""A tiny PASCAL VOC-format data set (VOCdevkit layout), drawn on the fly."""
import os
import os.path as osp
from xml.sax.saxutils import escape

import cv2
import numpy as np

from .shapes import shape_drawer

# The shapes (rectangle, triangle, octagon) stand for the first three VOC
# classes; the stock 20-class configs and metrics work unchanged.
CLASSES = ('aeroplane', 'bicycle', 'bird')


def _annotation_xml(folder, file_name, width, height, objects):
    lines = [
        '<annotation>', f'  <folder>{folder}</folder>',
        f'  <filename>{escape(file_name)}</filename>',
        f'  <size><width>{width}</width><height>{height}</height>'
        '<depth>3</depth></size>', '  <segmented>0</segmented>'
    ]
    for label, corners in objects:
        # VOC boxes are 1-based pixel indices, inclusive.
        x0, y0 = np.floor(corners.min(0)).astype(int) + 1
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
        x0, y0 = max(x0, 1), max(y0, 1)
        x1, y1 = min(x1, width), min(y1, height)
        lines += [
            '  <object>', f'    <name>{CLASSES[label - 1]}</name>',
            '    <pose>Unspecified</pose>', '    <truncated>0</truncated>',
            '    <difficult>0</difficult>',
            f'    <bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>'
            f'<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox>', '  </object>'
        ]
    lines.append('</annotation>')
    return '\n'.join(lines) + '\n'


def _write_year(draw, root, year, splits, image_size):
    folder = f'VOC{year}'
    base = osp.join(root, folder)
    for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(base, sub), exist_ok=True)
    width, height = image_size
    ids = {}
    index = 1
    for split, num in splits:
        ids[split] = []
        for _ in range(num):
            img_id = f'{index:06d}' if year == 2007 else f'{year}_{index:06d}'
            index += 1
            image, objects = draw()
            cv2.imwrite(osp.join(base, 'JPEGImages', f'{img_id}.jpg'), image)
            with open(osp.join(base, 'Annotations', f'{img_id}.xml'),
                      'w') as f:
                f.write(
                    _annotation_xml(folder, f'{img_id}.jpg', width, height,
                                    objects))
            ids[split].append(img_id)
    ids['trainval'] = ids['train'] + ids['val']
    for split, split_ids in ids.items():
        with open(osp.join(base, 'ImageSets', 'Main', f'{split}.txt'),
                  'w') as f:
            f.write(''.join(f'{i}\n' for i in split_ids))


def make_tiny_voc(root,
                  num_train=4,
                  num_val=2,
                  num_test=2,
                  image_size=(128, 96),
                  max_objects=3,
                  seed=0):
    """Write a VOCdevkit-style folder of images with polygon shapes.

    Layout, as PASCAL VOC ships it: ``root/VOC2007`` and ``root/VOC2012``,
    each with ``JPEGImages/<id>.jpg``, ``Annotations/<id>.xml`` (size,
    objects with ``name``, ``difficult`` and a 1-based ``bndbox``) and
    ``ImageSets/Main/{train,val,trainval}.txt``; VOC2007 also has
    ``test.txt``. Rectangles, triangles and octagons (:func:`shape_drawer`)
    are ``aeroplane``, ``bicycle`` and ``bird``. mmpretrain's ``VOC``
    (``data_root=root/VOC2007``) and mmdet's ``VOCDataset``
    (``data_root=root``) read it.

    Args:
        root (str): Output folder (the ``VOCdevkit``).
        num_train (int): ``train`` images per year. Defaults to 4.
        num_val (int): ``val`` images per year. Defaults to 2.
        num_test (int): VOC2007 ``test`` images. Defaults to 2.
        image_size (tuple[int, int]): ``(width, height)``. Defaults to
            ``(128, 96)``.
        max_objects (int): At most this many (1-4) objects per image.
            Defaults to 3.
        seed (int): Random seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    draw = shape_drawer(image_size, max_objects, seed)
    _write_year(draw, root, 2007, (('train', num_train), ('val', num_val),
                                   ('test', num_test)), image_size)
    _write_year(draw, root, 2012, (('train', num_train), ('val', num_val)),
                image_size)
    return root
