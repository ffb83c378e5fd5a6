import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from clsa_mm.utils import register_all_modules


@pytest.fixture(scope='session')
def photo():
    """A small natural RGB photograph (odd size, 61 x 47)."""
    from skimage import data
    return np.ascontiguousarray(
        cv2.resize(data.coffee(), (61, 47), interpolation=cv2.INTER_AREA))


@pytest.fixture(scope='session')
def noise():
    """Uniform RGB noise, 37 x 29: every colour transition occurs."""
    return np.random.default_rng(0).integers(0, 256, (29, 37, 3), np.uint8)


@pytest.fixture
def clsa_scope():
    """Make ``clsa_mm`` the default scope, as the Runner does."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('clsa_mm'):
        yield
