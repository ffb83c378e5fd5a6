import os.path as osp

import pytest
from mmengine.config import Config

from clsa_mm.utils import load_config, set_work_dir

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs/clsa/r18_tiny_cpu.py')


def test_load_config_merges_checked_options():
    cfg = load_config(TINY, {'train_cfg.max_epochs': 5,
                             'model.queue_len': 16})
    assert cfg.train_cfg.max_epochs == 5 and cfg.model.queue_len == 16
    # Everything else as in the file.
    plain = Config.fromfile(TINY)
    plain.merge_from_dict({'train_cfg.max_epochs': 5, 'model.queue_len': 16})
    assert cfg.to_dict() == plain.to_dict()


def test_load_config_names_what_is_wrong(tmp_path):
    missing = str(tmp_path / 'nope.py')
    with pytest.raises(FileNotFoundError, match=f'not found: {missing}'):
        load_config(missing)
    with pytest.raises(KeyError, match='"trian_cfg" does not exist.*'
                       'Did you mean: train_cfg'):
        load_config(TINY, {'trian_cfg.max_epochs': 1})


def test_set_work_dir_prefers_the_argument_then_the_config():
    cfg = Config(dict(a=1))
    set_work_dir(cfg, 'configs/clsa/r18_tiny_cpu.py')
    assert cfg.work_dir == osp.join('./work_dirs', 'r18_tiny_cpu')
    set_work_dir(cfg, 'configs/clsa/other.py')
    assert cfg.work_dir == osp.join('./work_dirs', 'r18_tiny_cpu')
    set_work_dir(cfg, 'configs/clsa/other.py', 'runs/x')
    assert cfg.work_dir == 'runs/x'
