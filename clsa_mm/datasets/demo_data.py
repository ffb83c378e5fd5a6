"""The demo data set, cut from photographs shipped inside installed packages.

Each photograph of ``skimage.data`` and ``sklearn.datasets`` becomes one
class; random square patches of it become its images, grey by default (a
randomly initialised network already tells most photographs apart by their
colour statistics; texture and shape are what pretraining has to add). The
photograph is tiled with a grid of cells as large as the largest patch;
validation patches come from a quarter of the cells, drawn at random, and
training patches avoid those cells, so no pixel is in both splits. The
result is an ImageNet-style folder::

    data/demo/train/<photo>/<photo>_0000.jpg
    data/demo/val/<photo>/<photo>_0000.jpg
    data/demo/meta/{train,val}.txt, classes.txt
    data/demo/demo_data.json        # the settings it was made with

Making it again with the same settings reuses the folder; a folder made with
other settings is replaced only with ``overwrite=True``, and a folder this
module did not make is never touched.
"""
import json
import os
import os.path as osp
import shutil
import tempfile

import cv2
import mmcv
import numpy as np
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from clsa_mm.datasets.transforms import functional as F

MANIFEST = 'demo_data.json'
FORMAT_VERSION = 1

# Photographs (no drawings or synthetic images) that scikit-image and
# scikit-learn install with their packages, so no download is needed.
SKIMAGE_PHOTOS = [
    'astronaut', 'brick', 'camera', 'chelsea', 'coffee', 'coins',
    'grass', 'gravel', 'hubble_deep_field', 'immunohistochemistry', 'moon',
    'page', 'retina', 'rocket', 'text', 'motorcycle'
]
SKLEARN_PHOTOS = ['china', 'flower']
ALL_PHOTOS = SKIMAGE_PHOTOS + SKLEARN_PHOTOS

# The settings of make_demo_data and their defaults (the demo's data set).
DEFAULTS = dict(
    photos=ALL_PHOTOS,
    train_per_class=80,
    val_per_class=20,
    size=64,
    scale=(0.12, 0.3),
    val_cells=0.25,
    lighting=0.0,
    color=False,
    seed=0)


def demo_data_settings(**settings):
    """The full, checked settings of a demo data set.

    Args:
        **settings: Any of the keys of :data:`DEFAULTS`; the rest keep their
            defaults.

    Returns:
        dict: The settings as written into ``demo_data.json``.

    Raises:
        ValueError: naming the setting and the value at fault.
    """
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f'unknown demo data settings {unknown}; known: '
                         f'{sorted(DEFAULTS)}')
    merged = dict(DEFAULTS, **settings)
    bad = [p for p in merged['photos'] if p not in ALL_PHOTOS]
    if bad or not merged['photos']:
        raise ValueError(f'photos {bad or "[]"} are not among the shipped '
                         f'photographs {ALL_PHOTOS}')
    scale = merged['scale']
    if not 0 < scale[0] <= scale[1] <= 0.5:
        raise ValueError(f'scale {tuple(scale)}: need 0 < MIN <= MAX <= 0.5')
    if not 0 < merged['val_cells'] < 1:
        raise ValueError(f'val_cells {merged["val_cells"]}: need 0 < '
                         'val_cells < 1')
    for key in ('train_per_class', 'val_per_class', 'size'):
        if merged[key] < 1:
            raise ValueError(f'{key} {merged[key]}: need at least 1')
    return dict(
        format_version=FORMAT_VERSION,
        photos=list(merged['photos']),
        train_per_class=merged['train_per_class'],
        val_per_class=merged['val_per_class'],
        size=merged['size'],
        scale=list(scale),
        val_cells=merged['val_cells'],
        lighting=merged['lighting'],
        color=merged['color'],
        seed=merged['seed'])


def load_photo(name, grayscale=False):
    """An RGB ``uint8`` array of one shipped photograph."""
    if name in SKLEARN_PHOTOS:
        from sklearn.datasets import load_sample_image
        img = load_sample_image(f'{name}.jpg')
    else:
        import skimage.data
        img = (skimage.data.stereo_motorcycle()[0]
               if name == 'motorcycle' else getattr(skimage.data, name)())
    img = np.asarray(img)
    if grayscale and img.ndim == 3:
        img = F.grayscale(np.ascontiguousarray(img[..., :3]))
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8)


def relight(patch, strength, rng):
    """Change brightness, contrast, saturation and hue of a patch."""
    if strength <= 0:
        return patch
    factors = rng.uniform(1 - strength, 1 + strength, 3)
    patch = F.adjust_brightness(patch, factors[0])
    patch = F.adjust_contrast(patch, factors[1])
    patch = F.adjust_saturation(patch, factors[2])
    return F.adjust_hue(patch, rng.uniform(-strength / 4, strength / 4))


def hold_out_cells(img, scale, val_cells, rng):
    """Pick the grid cells that validation patches come from.

    Args:
        img (np.ndarray): The photograph.
        scale (tuple[float, float]): Patch side range as fractions of the
            shorter photograph side; the cell side is the largest patch.
        val_cells (float): Fraction of the cells held out, drawn at random.
        rng (np.random.Generator): Random generator.

    Returns:
        tuple[int, list[tuple[int, int]]]: The cell side and the top-left
        corners (x, y) of the held-out cells.
    """
    h, w = img.shape[:2]
    cell = int(scale[1] * min(h, w))
    corners = [(x, y) for y in range(0, h - cell + 1, cell)
               for x in range(0, w - cell + 1, cell)]
    num = max(1, round(val_cells * len(corners)))
    picked = rng.choice(len(corners), num, replace=False)
    return cell, [corners[i] for i in sorted(picked)]


def sample_boxes(img, num, scale, rng, cell, val_cells, val, min_std=8.0):
    """``num`` random square boxes ``(x, y, side)`` of a photograph.

    Validation boxes lie inside one held-out cell; training boxes do not
    touch any held-out cell, so no pixel is in both splits. Near-uniform
    boxes (pixel std below ``min_std``, e.g. the black border of ``retina``)
    are redrawn: they would look the same in every class.

    Args:
        img (np.ndarray): The photograph.
        num (int): Number of boxes.
        scale (tuple[float, float]): Box side range as fractions of the
            shorter photograph side.
        rng (np.random.Generator): Random generator.
        cell (int): Side of the grid cells.
        val_cells (list[tuple[int, int]]): Corners of the held-out cells.
        val (bool): Validation boxes (inside) or training boxes (outside).
        min_std (float): Smallest pixel std of a box.
    """
    h, w = img.shape[:2]
    short = min(h, w)
    boxes = []
    for _ in range(num * 200):
        side = int(rng.uniform(*scale) * short)
        if val:
            cx, cy = val_cells[rng.integers(len(val_cells))]
            x = cx + int(rng.integers(0, cell - side + 1))
            y = cy + int(rng.integers(0, cell - side + 1))
        else:
            x = int(rng.integers(0, w - side + 1))
            y = int(rng.integers(0, h - side + 1))
            if any(x < cx + cell and cx < x + side and y < cy + cell
                   and cy < y + side for cx, cy in val_cells):
                continue
        if img[y:y + side, x:x + side].std() < min_std:
            continue
        boxes.append((x, y, side))
        if len(boxes) == num:
            return boxes
    split = 'validation' if val else 'training'
    raise RuntimeError(f'Could not find {num} textured {split} patches in a '
                       f'{w}x{h} photograph')


def cut_patches(img, boxes, size, lighting, rng):
    """The boxes of ``img``, resized to ``size`` and relit."""
    return [
        relight(
            mmcv.imresize(img[y:y + side, x:x + side], (size, size),
                          interpolation='area'), lighting, rng)
        for x, y, side in boxes
    ]


def check_existing(out, settings, overwrite):
    """Return True if ``out`` already holds this data set.

    Raise FileExistsError if it holds something else that may not be
    replaced.
    """
    if not osp.exists(out) or (osp.isdir(out) and not os.listdir(out)):
        return False
    manifest = osp.join(out, MANIFEST)
    if not osp.isfile(manifest):
        raise FileExistsError(
            f'{out} exists and was not made by this tool (no {MANIFEST}); '
            'it is left untouched. Pass another --out.')
    with open(manifest) as f:
        old = json.load(f).get('settings')
    if old == settings:
        return True
    changed = ', '.join(f'{k}: {old.get(k)} -> {v}'
                        for k, v in settings.items() if old.get(k) != v)
    if not overwrite:
        raise FileExistsError(
            f'{out} was made with other settings ({changed}). Pass '
            '--overwrite to replace it, or another --out.')
    print_log(f'Replacing {out} ({changed}).', logger='current')
    return False


def write_split(root, split, photos, patches):
    """Save ``patches[name]`` as ``root/split/name/*.jpg`` plus meta lists."""
    lines = []
    for label, name in enumerate(photos):
        os.makedirs(osp.join(root, split, name))
        for i, patch in enumerate(patches[name]):
            rel = f'{name}/{name}_{i:04d}.jpg'
            mmcv.imwrite(
                mmcv.rgb2bgr(patch), osp.join(root, split, rel),
                params=[cv2.IMWRITE_JPEG_QUALITY, 95])
            lines.append(f'{rel} {label}\n')
    with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
        f.writelines(lines)
    return len(lines)


def cut_demo_patches(settings, progress=False):
    """Training and validation patches per photograph.

    Returns:
        tuple[dict, dict]: ``{photo: [patch, ...]}`` of each split.
    """
    rng = np.random.default_rng(settings['seed'])
    train, val = {}, {}
    bar = ProgressBar(len(settings['photos'])) if progress else None
    for name in settings['photos']:
        img = load_photo(name, grayscale=not settings['color'])
        cell, val_cells = hold_out_cells(img, settings['scale'],
                                         settings['val_cells'], rng)
        for is_val, num, patches in (
                (False, settings['train_per_class'], train),
                (True, settings['val_per_class'], val)):
            boxes = sample_boxes(img, num, settings['scale'], rng, cell,
                                 val_cells, val=is_val)
            patches[name] = cut_patches(img, boxes, settings['size'],
                                        settings['lighting'], rng)
        if bar:
            bar.update()
    if bar:
        bar.file.write('\n')
    return train, val


def make_demo_data(out, overwrite=False, progress=False, **settings):
    """Make (or reuse) the demo data set in ``out``.

    Args:
        out (str): Output folder.
        overwrite (bool): Replace a folder made with other settings.
        progress (bool): Show a progress bar while cutting patches.
        **settings: Settings of :func:`demo_data_settings`.

    Returns:
        dict | None: ``{'train': n, 'val': n}`` patches written, or None
        when ``out`` already held this data set.

    Raises:
        FileExistsError: ``out`` holds something that may not be replaced.
    """
    out = osp.abspath(out)
    settings = demo_data_settings(**settings)
    if check_existing(out, settings, overwrite):
        return None
    train, val = cut_demo_patches(settings, progress=progress)
    photos = settings['photos']
    # Build next to the target and rename at the end: an interrupted run
    # never leaves a folder that looks complete.
    parent = osp.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.', dir=parent)
    try:
        os.makedirs(osp.join(tmp, 'meta'))
        counts = {
            split: write_split(tmp, split, photos, patches)
            for split, patches in (('train', train), ('val', val))
        }
        with open(osp.join(tmp, 'meta', 'classes.txt'), 'w') as f:
            f.writelines(f'{name}\n' for name in photos)
        with open(osp.join(tmp, MANIFEST), 'w') as f:
            json.dump(
                dict(settings=settings, classes=photos, counts=counts),
                f, indent=2)
        if osp.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    return counts
