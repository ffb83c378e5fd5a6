"""Images of random polygons: the pictures of the tiny COCO and VOC sets."""
import cv2
import numpy as np

# Drawn as the first classes of COCO (person, bicycle, car) and of VOC
# (aeroplane, bicycle, bird).
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


def shape_drawer(image_size, max_objects, seed):
    """A function that draws the next image of polygons at each call.

    The objects of an image lie in different cells of a 2 x 2 grid, so they
    never overlap.

    Args:
        image_size (tuple[int, int]): ``(width, height)``.
        max_objects (int): At most this many (1-4) objects per image.
        seed (int): Random seed of the whole sequence of images.

    Returns:
        callable: ``draw() -> (image, objects)``: a ``(height, width, 3)``
        uint8 image and its objects, a list of ``(label, corners)`` with
        ``label`` the 1-based index in :data:`SHAPES` and ``corners`` an
        ``(n, 2)`` array of x, y.
    """
    if not 1 <= max_objects <= 4:
        raise ValueError(f'max_objects must be 1..4, got {max_objects}')
    rng = np.random.default_rng(seed)
    width, height = image_size

    def draw():
        image = rng.integers(0, 80, (height, width, 3)).astype(np.uint8)
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

    return draw
