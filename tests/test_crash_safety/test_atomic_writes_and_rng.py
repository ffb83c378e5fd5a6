import os
import random

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend

from clsa_mm.engine import AtomicLocalBackend
from clsa_mm.checkpoint import partial_path
from clsa_mm.engine.hooks.rng_state_hook import get_rng_state, set_rng_state


def test_backend_is_registered_and_writes(tmp_path):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    target = tmp_path / 'new_dir' / 'epoch_1.pth'
    backend.put(b'complete', target)
    backend.put_text('last', tmp_path / 'last_checkpoint')
    assert target.read_bytes() == b'complete'
    assert backend.get_text(tmp_path / 'last_checkpoint') == 'last'
    assert sorted(os.listdir(target.parent)) == ['epoch_1.pth']


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    backend = AtomicLocalBackend()
    backend.put(b'old and complete', target)

    def crash(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        backend.put(b'new', target)
    assert target.read_bytes() == b'old and complete'
    # The interrupted bytes are in the hidden part file only.
    assert open(partial_path(target), 'rb').read() == b'new'


def test_rng_state_round_trip_through_weights_only_load(tmp_path):
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    np.random.normal()  # leaves a cached gaussian in numpy's state
    random.gauss(0, 1)  # and in python's
    path = tmp_path / 'rng.pth'
    torch.save(dict(rng_states=[get_rng_state()]), path)
    expected = (torch.rand(3), np.random.normal(size=3), random.gauss(0, 1),
                random.random())

    torch.manual_seed(2)
    np.random.seed(2)
    random.seed(2)
    set_rng_state(torch.load(path, weights_only=True)['rng_states'][0])
    actual = (torch.rand(3), np.random.normal(size=3), random.gauss(0, 1),
              random.random())
    assert torch.equal(expected[0], actual[0])
    assert np.array_equal(expected[1], actual[1])
    assert expected[2:] == actual[2:]
