"""The transfer tools refuse a checkpoint that ran no training iteration."""
import os.path as osp

import pytest
import torch

from clsa_mm.checkpoint import (backbone_checkpoint, convert_reference_clsa,
                                load_checkpoint_of_kind)
from clsa_mm.testing import clsa_checkpoint, reference_checkpoint
from cli_helpers import REPO, run_tool, stderr_tail
from eval_helpers import linear_probe_config

FPN = osp.join(
    REPO, 'configs/benchmarks/mmdetection/tiny_coco/'
    'mask-rcnn_r50_fpn_ms-1x_tiny-coco.py')


@pytest.fixture(scope='module')
def untrained(tmp_path_factory):
    """A CLSA checkpoint as a run that made no iteration saves it."""
    checkpoint = clsa_checkpoint(18)
    checkpoint['meta'] = dict(epoch=800, iter=0)
    path = tmp_path_factory.mktemp('untrained') / 'epoch_800.pth'
    torch.save(checkpoint, path)
    return str(path)


def assert_refused(proc, path):
    assert proc.returncode != 0
    assert (f'{path} was saved after 800 epoch(s) with 0 training '
            'iterations') in proc.stderr, stderr_tail(proc.stderr)


def test_extract_backbone_weights_refuses(tmp_path, untrained):
    out = tmp_path / 'backbone.pth'
    for layout in ('mmpretrain', 'detectron2'):
        proc = run_tool([
            'tools/model_converters/extract_backbone_weights.py', untrained,
            str(out), '--to', layout
        ], check=False)
        assert_refused(proc, untrained)
        assert not out.exists()


@pytest.mark.parametrize('script', ['linear_eval.sh', 'train_det.sh'])
def test_benchmarks_refuse_before_launching(tmp_path, tiny_imagenet,
                                            untrained, script):
    if script == 'linear_eval.sh':
        tool = 'tools/benchmarks/linear_eval.sh'
        config = linear_probe_config(tmp_path / 'probe.py', tiny_imagenet)
    else:
        tool, config = 'tools/benchmarks/mmdetection/train_det.sh', FPN
    work_dir = tmp_path / 'work'
    proc = run_tool([tool, config, untrained, '1'], check=False,
                    WORK_DIR=work_dir)
    assert_refused(proc, untrained)
    assert not work_dir.exists()


def test_files_that_trained_or_do_not_say_still_load(tmp_path):
    trained = clsa_checkpoint(18)  # meta: epoch 3, iter 30
    files = {
        'trained': trained,
        'exported': backbone_checkpoint(trained, 'x'),
        'no_iter': dict(trained, meta=dict(epoch=3)),
        'no_meta': dict(state_dict=trained['state_dict']),
        'converted': convert_reference_clsa(reference_checkpoint(18), 'r'),
        'torchvision': backbone_checkpoint(trained, 'x',
                                           layout='torchvision'),
    }
    for name, checkpoint in files.items():
        path = tmp_path / f'{name}.pth'
        torch.save(checkpoint, path)
        load_checkpoint_of_kind(str(path), ('clsa_mm', 'backbone'))
    # An export of an untrained run keeps its meta, so it is refused too.
    untrained = dict(trained, meta=dict(epoch=2, iter=0))
    path = tmp_path / 'exported_untrained.pth'
    torch.save(backbone_checkpoint(untrained, 'x'), path)
    with pytest.raises(ValueError, match='0 training iterations'):
        load_checkpoint_of_kind(str(path), ('clsa_mm', 'backbone'))
