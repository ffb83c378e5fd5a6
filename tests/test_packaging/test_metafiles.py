"""model-index.yml and the metafiles: what `mim search clsa_mm` lists."""
import glob
import os.path as osp

import pytest
import yaml
from cli_helpers import REPO
from mmengine.config import Config
from modelindex.load_model_index import load


def _metafiles():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        return yaml.safe_load(f)['Import']


def _models():
    """(metafile, model entry) of every model in every metafile."""
    models = []
    for metafile in _metafiles():
        with open(osp.join(REPO, metafile)) as f:
            for model in yaml.safe_load(f)['Models']:
                models.append((metafile, model))
    return models


def test_model_index_imports_every_metafile():
    found = {
        osp.relpath(path, REPO) for path in glob.glob(
            osp.join(REPO, 'configs', '**', 'metafile.yml'), recursive=True)
    }
    assert set(_metafiles()) == found
    # mim reads it with model-index: the same number of models.
    assert len(load(osp.join(REPO, 'model-index.yml')).models) == len(
        _models())


@pytest.mark.parametrize('folder', ['clsa', 'demo'])
def test_every_config_is_in_its_metafile(folder):
    listed = {model['Config'] for _, model in _models()}
    configs = sorted(
        osp.relpath(path, REPO) for path in glob.glob(
            osp.join(REPO, 'configs', folder, '**', '*.py'), recursive=True)
        if '_base_' not in path)
    assert configs
    missing = [path for path in configs if path not in listed]
    assert not missing, (f'{missing} are in no metafile: add them to '
                         f'configs/{folder}/metafile.yml')


@pytest.mark.parametrize('metafile,model', _models(),
                         ids=lambda x: x['Name'] if isinstance(x, dict) else x)
def test_metafile_entry(metafile, model):
    where = f'{metafile}, model {model.get("Name")!r}'
    with open(osp.join(REPO, metafile)) as f:
        collections = {c['Name']: c for c in yaml.safe_load(f)['Collections']}
    collection = collections.get(model.get('In Collection'))
    assert collection is not None, f'{where}: unknown "In Collection"'
    assert collection['Paper']['URL'].startswith('https://'), where
    # No weights are published by this project yet.
    assert 'Weights' not in model, f'{where}: has Weights'
    config = osp.join(REPO, model['Config'])
    assert osp.isfile(config), f'{where}: no config {model["Config"]}'
    Config.fromfile(config)  # parses, bases included
    if model['Results'] is not None:
        # Numbers can only be the paper's, and say so.
        assert 'paper' in model['Metadata']['Results Source'].lower(), where
        for result in model['Results']:
            assert result['Task'] and result['Dataset'], where
            assert all(isinstance(v, (int, float))
                       for v in result['Metrics'].values()), where


def test_names_are_unique():
    names = [model['Name'] for _, model in _models()]
    assert len(names) == len(set(names))
