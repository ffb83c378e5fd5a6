"""What MoCoV3DDM, SimCLRDDM and BYOLDDM share: the view checks and their
texts, and a step that does not go through mmpretrain's ``loss()``."""
import re

import pytest
import torch
from mmpretrain.models import BYOL, MoCoV3, SimCLR

from mocov3_helpers import current_hub, tiny_mocov3
from simclr_byol_helpers import tiny_byol, tiny_simclr

WRAPPERS = {
    'MoCoV3DDM': (tiny_mocov3, MoCoV3),
    'SimCLRDDM': (tiny_simclr, SimCLR),
    'BYOLDDM': (lambda **kw: tiny_byol(queue_len=8, **kw), BYOL),
}


def whole(text):
    """A regex matching exactly ``text``."""
    return '^' + re.escape(text) + '$'


def views(batches=(2, 2, 2), size=32):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(b, 3, size, size, generator=gen) for b in batches]


@pytest.mark.parametrize('name', list(WRAPPERS))
def test_view_errors_name_the_model(name):
    current_hub(10)
    model = WRAPPERS[name][0](num_strong_views=1)
    with pytest.raises(TypeError, match=whole(
            f'{name} expects a list of views, got Tensor')):
        model.loss(views()[0], None)
    with pytest.raises(ValueError, match=whole(
            f'{name} expects 3 views per sample (2 crops of the base '
            'method, then model.num_strong_views=1 strong views), but the '
            "data pipeline gave 2. Make the pipeline's views and "
            'model.num_strong_views agree.')):
        model.loss(views((2, 2)), None)
    with pytest.raises(ValueError, match=whole(
            'All views must hold the same samples; batch sizes [2, 2, 1]')):
        model.loss(views((2, 2, 1)), None)


@pytest.mark.parametrize('name, num_strong', [
    ('MoCoV3DDM', 0), ('MoCoV3DDM', 1), ('SimCLRDDM', 0), ('SimCLRDDM', 1),
    ('BYOLDDM', 0), ('BYOLDDM', 1)])
def test_the_step_is_written_out_not_read_from_mmpretrains_loss(
        monkeypatch, name, num_strong):
    """The wrapper computes its base loss itself (backbone, neck and head
    calls in its own file): replacing mmpretrain's ``loss()`` and removing
    forward hooks changes nothing."""
    current_hub(10)
    build, base = WRAPPERS[name]
    x = views((2, ) * (2 + num_strong))
    expected = build(num_strong_views=num_strong).loss(x, None)

    def broken(what):
        def fail(*args, **kwargs):
            raise AssertionError(f'{what} was called')
        return fail

    monkeypatch.setattr(base, 'loss', broken("mmpretrain's loss()"))
    monkeypatch.setattr(torch.nn.Module, 'register_forward_hook',
                        broken('register_forward_hook'))
    current_hub(10)
    losses = build(num_strong_views=num_strong).loss(x, None)
    assert losses.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(losses[key], value), key
