import argparse
import os

import pytest

from clsa_mm.apis import parse_runner_args


def parser():
    p = argparse.ArgumentParser()
    p.add_argument('config')
    return p


def test_shared_arguments_of_train_and_test(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = parse_runner_args(parser(), [
        'a.py', '--cfg-options', 'train_cfg.max_epochs=3', 'model.x=[1,2]',
        '--launcher', 'pytorch', '--local-rank', '2'
    ])
    assert args.config == 'a.py'
    assert args.cfg_options == {'train_cfg.max_epochs': 3,
                                'model.x': [1, 2]}
    assert args.launcher == 'pytorch' and args.local_rank == 2
    assert os.environ['LOCAL_RANK'] == '2'


def test_local_rank_defaults_and_never_overrides_the_launcher(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = parse_runner_args(parser(), ['a.py'])
    assert args.cfg_options is None and args.launcher == 'none'
    assert os.environ['LOCAL_RANK'] == '0'
    monkeypatch.setenv('LOCAL_RANK', '1')
    parse_runner_args(parser(), ['a.py', '--local_rank', '5'])
    assert os.environ['LOCAL_RANK'] == '1'
    with pytest.raises(SystemExit):
        parse_runner_args(parser(), ['a.py', '--launcher', 'ssh'])
