"""Build the demo data set from photographs shipped inside installed packages.

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

Running it again with the same settings reuses the folder; a folder made with
other settings is replaced only with ``--overwrite``, and a folder this tool
did not make is never touched.
"""
import argparse
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


def parse_args():
    parser = argparse.ArgumentParser(
        description='Make the ImageNet-style demo data set from the '
        'photographs shipped with scikit-image and scikit-learn')
    parser.add_argument(
        '--out', default='data/demo', help='output folder (data/demo)')
    parser.add_argument(
        '--photos',
        nargs='+',
        default=ALL_PHOTOS,
        choices=ALL_PHOTOS,
        metavar='PHOTO',
        help='photographs to use, one class each (default: all '
        f'{len(ALL_PHOTOS)}: {" ".join(ALL_PHOTOS)})')
    parser.add_argument(
        '--train-per-class', type=int, default=80,
        help='training patches per photograph')
    parser.add_argument(
        '--val-per-class', type=int, default=20,
        help='validation patches per photograph')
    parser.add_argument(
        '--size', type=int, default=64, help='side of the saved patches')
    parser.add_argument(
        '--scale',
        type=float,
        nargs=2,
        default=(0.12, 0.3),
        metavar=('MIN', 'MAX'),
        help='patch side as a fraction of the shorter photograph side')
    parser.add_argument(
        '--val-cells', type=float, default=0.25,
        help='fraction of the grid cells of a photograph that validation '
        'patches come from (training patches avoid them)')
    parser.add_argument(
        '--lighting',
        type=float,
        default=0.0,
        help='per-patch lighting change: brightness, contrast and saturation '
        'factors uniform in [1 - L, 1 + L], hue shift in [-L/4, L/4] turns, '
        'as if each patch were photographed under other light')
    parser.add_argument(
        '--color',
        action='store_true',
        help='keep the colours of the colour photographs (by default all '
        'are grey, so that colour statistics alone cannot tell the '
        'photographs apart)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing demo folder made with other settings')
    args = parser.parse_args()
    if not 0 < args.scale[0] <= args.scale[1] <= 0.5:
        parser.error('need 0 < --scale MIN <= MAX <= 0.5')
    if not 0 < args.val_cells < 1:
        parser.error('need 0 < --val-cells < 1')
    return args


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


def hold_out_cells(img, args, rng):
    """Pick the grid cells that validation patches come from.

    The photograph is tiled with square cells of the largest patch side;
    ``--val-cells`` of them, drawn at random, are held out.

    Returns:
        tuple[int, list[tuple[int, int]]]: The cell side and the top-left
        corners (x, y) of the held-out cells.
    """
    h, w = img.shape[:2]
    cell = int(args.scale[1] * min(h, w))
    corners = [(x, y) for y in range(0, h - cell + 1, cell)
               for x in range(0, w - cell + 1, cell)]
    num = max(1, round(args.val_cells * len(corners)))
    picked = rng.choice(len(corners), num, replace=False)
    return cell, [corners[i] for i in sorted(picked)]


def sample_boxes(img, num, args, rng, cell, val_cells, val, min_std=8.0):
    """``num`` random square boxes ``(x, y, side)`` of a photograph.

    Validation boxes lie inside one held-out cell; training boxes do not
    touch any held-out cell, so no pixel is in both splits. Near-uniform
    boxes (pixel std below ``min_std``, e.g. the black border of ``retina``)
    are redrawn: they would look the same in every class.
    """
    h, w = img.shape[:2]
    short = min(h, w)
    boxes = []
    for _ in range(num * 200):
        side = int(rng.uniform(*args.scale) * short)
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


def cut_patches(img, boxes, args, rng):
    """The boxes of ``img``, resized to ``--size`` and relit."""
    return [
        relight(
            mmcv.imresize(img[y:y + side, x:x + side],
                          (args.size, args.size),
                          interpolation='area'), args.lighting, rng)
        for x, y, side in boxes
    ]


def settings_of(args):
    return dict(
        format_version=FORMAT_VERSION,
        photos=list(args.photos),
        train_per_class=args.train_per_class,
        val_per_class=args.val_per_class,
        size=args.size,
        scale=list(args.scale),
        val_cells=args.val_cells,
        lighting=args.lighting,
        color=args.color,
        seed=args.seed)


def check_existing(out, settings, overwrite):
    """Return True if ``out`` already holds this data set.

    Raise if it holds something else that may not be replaced.
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


def main():
    args = parse_args()
    out = osp.abspath(args.out)
    settings = settings_of(args)
    try:
        exists = check_existing(out, settings, args.overwrite)
    except FileExistsError as e:
        raise SystemExit(f'make_demo_data.py: error: {e}') from None
    if exists:
        print_log(f'{args.out} already holds the demo data with these '
                  'settings; reusing it.', logger='current')
        return

    rng = np.random.default_rng(args.seed)
    train, val = {}, {}
    print_log(f'Cutting patches from {len(args.photos)} photographs',
              logger='current')
    progress = ProgressBar(len(args.photos))
    for name in args.photos:
        img = load_photo(name, grayscale=not args.color)
        cell, val_cells = hold_out_cells(img, args, rng)
        for is_val, num, patches in ((False, args.train_per_class, train),
                                     (True, args.val_per_class, val)):
            boxes = sample_boxes(img, num, args, rng, cell, val_cells,
                                 val=is_val)
            patches[name] = cut_patches(img, boxes, args, rng)
        progress.update()
    progress.file.write('\n')

    # Build next to the target and rename at the end: an interrupted run
    # never leaves a folder that looks complete.
    parent = osp.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.', dir=parent)
    try:
        os.makedirs(osp.join(tmp, 'meta'))
        counts = {
            split: write_split(tmp, split, args.photos, patches)
            for split, patches in (('train', train), ('val', val))
        }
        with open(osp.join(tmp, 'meta', 'classes.txt'), 'w') as f:
            f.writelines(f'{name}\n' for name in args.photos)
        with open(osp.join(tmp, MANIFEST), 'w') as f:
            json.dump(
                dict(settings=settings, classes=args.photos, counts=counts),
                f, indent=2)
        if osp.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    print_log(
        f'Wrote {counts["train"]} training and {counts["val"]} validation '
        f'patches of {len(args.photos)} classes to {args.out}',
        logger='current')


if __name__ == '__main__':
    main()
