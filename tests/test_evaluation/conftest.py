import pytest
import torch

from clsa_mm.checkpoint import backbone_checkpoint
from clsa_mm.testing import clsa_checkpoint, make_tiny_coco


@pytest.fixture(scope='session')
def clsa_r18(tmp_path_factory):
    """Path of a ResNet-18 checkpoint with the keys of clsa_mm's CLSA."""
    path = tmp_path_factory.mktemp('ckpt') / 'clsa_r18.pth'
    torch.save(clsa_checkpoint(18), path)
    return str(path)


@pytest.fixture(scope='session')
def clsa_r50(tmp_path_factory):
    """``(clsa_mm checkpoint, exported backbone)`` paths, ResNet-50."""
    folder = tmp_path_factory.mktemp('ckpt50')
    checkpoint = clsa_checkpoint(50)
    torch.save(checkpoint, folder / 'clsa_r50.pth')
    torch.save(
        backbone_checkpoint(checkpoint, 'clsa_r50.pth'),
        folder / 'backbone_r50.pth')
    return str(folder / 'clsa_r50.pth'), str(folder / 'backbone_r50.pth')


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    return make_tiny_coco(
        str(tmp_path_factory.mktemp('tiny_coco')), num_train=4, num_val=2)
