import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner

from clsa_mm.checkpoint import load_local_checkpoint
from clsa_mm.utils import register_all_modules
from cli_helpers import write_classifier_config


class MarkerWriter:
    """Unpickling this object would create a file: proof of code execution."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def build_runner(tmp_path, data_root, **cfg_overrides):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(
        write_classifier_config(tmp_path / 'cfg.py', data_root))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.merge_from_dict(cfg_overrides)
    return Runner.from_cfg(cfg)


def test_mmengine_checkpoint_objects_load_with_weights_only(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(2.5)
    ckpt = dict(
        state_dict={'w': torch.arange(3.)},
        meta=dict(
            message_hub=dict(log_scalars={'loss': buf}),
            seed=np.int64(3),
            lr=np.float64(0.1),
            arr=np.arange(4, dtype=np.float32)))
    path = tmp_path / 'ckpt.pth'
    torch.save(ckpt, path)
    # torch's default weights_only=True refuses these without the allow-list
    # that importing clsa_mm installs; our loader must read them.
    loaded = load_local_checkpoint(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3.))
    hub_buf = loaded['meta']['message_hub']['log_scalars']['loss']
    assert isinstance(hub_buf, HistoryBuffer)
    assert hub_buf.mean() == 2.0
    assert loaded['meta']['seed'] == 3
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(4))


def test_load_from_refuses_arbitrary_pickled_object(tmp_path, tiny_imagenet):
    marker = tmp_path / 'code_was_executed'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': MarkerWriter(str(marker))}, evil)
    runner = build_runner(tmp_path, tiny_imagenet, load_from=str(evil))
    with pytest.raises(pickle.UnpicklingError) as err:
        runner.load_or_resume()
    message = str(err.value)
    assert str(evil) in message
    assert 'Refusing to load checkpoint' in message
    assert 'open' in message  # names the forbidden global
    assert not marker.exists()


def test_load_from_refuses_checkpoint_of_another_model(tmp_path,
                                                       tiny_imagenet):
    other = tmp_path / 'detector.pth'
    torch.save(
        {
            'state_dict': {
                'backbone.conv1.weight': torch.zeros(64, 3, 7, 7),
                'roi_head.bbox_head.fc_cls.weight': torch.zeros(81, 1024),
            }
        }, other)
    runner = build_runner(tmp_path, tiny_imagenet, load_from=str(other))
    with pytest.raises(RuntimeError) as err:
        runner.load_or_resume()
    message = str(err.value)
    assert str(other) in message and 'does not fit the model' in message
    assert 'roi_head.bbox_head.fc_cls.weight' in message
    assert 'missing from the checkpoint' in message


def perturbed_state(runner):
    """Move every float tensor of the model (weights and BN statistics), so
    that the state differs from what a fresh build with the same seed gives.
    """
    fresh = {k: v.clone() for k, v in runner.model.state_dict().items()}
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for value in runner.model.state_dict().values():
            if value.is_floating_point():
                value.add_(torch.rand(value.shape, generator=gen) + 0.5)
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    return fresh, state


def assert_loaded(model, fresh, state):
    loaded = model.state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    # The weights came from the file: a fresh build differs from them.
    differ = [k for k, v in fresh.items() if not torch.equal(v, state[k])]
    assert len(differ) == sum(v.is_floating_point() for v in fresh.values())


def test_load_from_accepts_own_checkpoint(tmp_path, tiny_imagenet):
    runner = build_runner(tmp_path, tiny_imagenet)
    fresh, state = perturbed_state(runner)
    path = tmp_path / 'own.pth'
    torch.save({'state_dict': state}, path)
    runner2 = build_runner(tmp_path, tiny_imagenet, load_from=str(path))
    runner2.load_or_resume()
    assert_loaded(runner2.model, fresh, state)


def test_resume_restores_weights_of_the_checkpoint(tmp_path, tiny_imagenet):
    runner = build_runner(tmp_path, tiny_imagenet)
    fresh, state = perturbed_state(runner)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(
        runner.param_schedulers)
    runner.save_checkpoint(str(tmp_path), 'perturbed.pth')
    runner2 = build_runner(tmp_path, tiny_imagenet, resume=True,
                           load_from=str(tmp_path / 'perturbed.pth'))
    runner2.optim_wrapper = runner2.build_optim_wrapper(
        runner2.optim_wrapper)
    runner2.param_schedulers = runner2.build_param_scheduler(
        runner2.param_schedulers)
    runner2.load_or_resume()
    assert_loaded(runner2.model, fresh, state)


@pytest.mark.parametrize('content', [b'', b'not a checkpoint at all'])
def test_corrupt_or_missing_checkpoint_names_the_file(tmp_path, content):
    path = tmp_path / 'broken.pth'
    with pytest.raises(FileNotFoundError, match='broken.pth'):
        load_local_checkpoint(str(path))
    path.write_bytes(content)
    with pytest.raises((RuntimeError, pickle.UnpicklingError),
                       match=osp.basename(str(path))):
        load_local_checkpoint(str(path))
