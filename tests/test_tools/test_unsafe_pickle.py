"""A checkpoint whose pickle calls os.system is refused as unsafe."""
import os
import pickle

import pytest
import torch
from mmengine.config import Config

from clsa_mm.checkpoint import load_local_checkpoint, pretrained_cfg_options
from cli_helpers import REPO


class RunsACommand:
    """Unpickling this object runs ``command`` in a shell."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


def write_malicious(path, marker, how):
    evil = RunsACommand(f'echo pwned > {marker}')
    if how == 'torch.save':
        torch.save({'state_dict': {}, 'meta': evil}, path)
    else:  # a raw pickle of protocol 5, which torch reads differently
        with open(path, 'wb') as f:
            pickle.dump({'state_dict': evil}, f, protocol=5)


@pytest.mark.parametrize('how', ['torch.save', 'pickle protocol 5'])
def test_pickle_calling_os_system_is_refused_as_unsafe(tmp_path, how):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    write_malicious(path, marker, how)
    with pytest.raises(pickle.UnpicklingError) as error:
        load_local_checkpoint(str(path))
    message = str(error.value)
    assert message.startswith(f'Refusing to load checkpoint {path}: ')
    assert 'could run arbitrary code' in message
    assert 'corrupt' not in message
    assert not marker.exists()

    # The benchmark tools read PRETRAIN through the same loader.
    config = os.path.join(
        REPO, 'configs/benchmarks/classification/imagenet/'
        'r50_linear-8xb32-coslr-100e_in1k.py')
    with pytest.raises(pickle.UnpicklingError, match='could run arbitrary'):
        pretrained_cfg_options(Config.fromfile(config), str(path))
    assert not marker.exists()

    # The file is really malicious: an unsafe load runs the command.
    with open(path, 'rb') as f:
        if how == 'torch.save':
            torch.load(f, weights_only=False)
        else:
            pickle.load(f)
    assert marker.read_text().strip() == 'pwned'
