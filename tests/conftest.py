import os
import os.path as osp

import numpy as np
import pytest
from mmengine.utils import ManagerMixin

# Tests run on CPU with small tensors; keep BLAS/OpenCV from oversubscribing
# the two CI cores when several processes run at once.
os.environ.setdefault('OMP_NUM_THREADS', '1')


def _managed_classes():
    """MMEngine's global-instance classes (DefaultScope, MessageHub, MMLogger,
    Visualizer and their subclasses) imported so far."""
    found, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if '_instance_dict' in vars(cls)]


@pytest.fixture(autouse=True)
def isolated_global_state():
    """Every test starts from, and leaves behind, the same MMEngine global
    instances, environment variables and working directory, so that no test
    relies on what another one left (a Runner's or ``init_default_scope``'s
    scope, ``MASTER_PORT`` ...), in any order and in any xdist worker.
    pytest-randomly reseeds ``random``/numpy before each test.

    A Runner names its MessageHub, MMLogger and Visualizer after its config
    file and the second it started, and reuses those of that name: two
    tests' runners of ``cfg.py`` started in the same second would share them
    (the second one logging and dumping its config into the first one's,
    by then deleted, work_dir)."""
    saved = {cls: cls._instance_dict.copy() for cls in _managed_classes()}
    environ = dict(os.environ)
    cwd = os.getcwd()
    yield
    for cls in _managed_classes():
        cls._instance_dict = saved.get(cls, type(cls._instance_dict)())
    for key in set(os.environ) - set(environ):
        del os.environ[key]
    os.environ.update(environ)
    os.chdir(cwd)


def make_image_folder(root, num_classes=3, per_class=4, size=(64, 48),
                      seed=0):
    """Write an ImageNet-style folder ``root/<class>/<n>.jpg`` of JPEGs.

    Each class has its own base colour and stripe orientation, so the classes
    are separable. Returns ``root``.
    """
    import cv2
    rng = np.random.default_rng(seed)
    w, h = size
    for c in range(num_classes):
        os.makedirs(osp.join(root, f'class{c}'), exist_ok=True)
        base = rng.integers(0, 256, 3)
        for i in range(per_class):
            img = np.empty((h, w, 3), np.uint8)
            img[:] = base
            yy, xx = np.mgrid[0:h, 0:w]
            stripes = ((xx if c % 2 else yy) // (4 + c)) % 2 == 0
            img[stripes] = 255 - base
            noise = rng.integers(-20, 21, img.shape)
            img = np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)
            cv2.imwrite(osp.join(root, f'class{c}', f'{i}.jpg'), img)
    return root


@pytest.fixture(scope='session')
def tiny_imagenet(tmp_path_factory):
    """``<tmp>/train/<class>/*.jpg`` and ``<tmp>/val/<class>/*.jpg``."""
    root = tmp_path_factory.mktemp('tiny_imagenet')
    make_image_folder(str(root / 'train'), seed=0)
    make_image_folder(str(root / 'val'), per_class=2, seed=1)
    return str(root)
