"""What MoCoV3DDM, SimCLRDDM and BYOLDDM share: the view checks and their
texts, and mmpretrain's ``loss()`` called with what the wrapper got."""
import re

import pytest
import torch
from mmpretrain.models import BYOL, MoCoV3, SimCLR
from mmpretrain.structures import DataSample

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
    ('MoCoV3DDM', 1), ('SimCLRDDM', 1), ('BYOLDDM', 0), ('BYOLDDM', 1)])
def test_data_samples_and_kwargs_reach_the_base_loss(monkeypatch, name,
                                                     num_strong):
    current_hub(10)
    build, base = WRAPPERS[name]
    seen = []
    base_loss = base.loss

    def spy(self, inputs, data_samples, **kwargs):
        seen.append((len(inputs), data_samples, kwargs))
        return base_loss(self, inputs, data_samples, **kwargs)

    monkeypatch.setattr(base, 'loss', spy)
    model = build(num_strong_views=num_strong)
    samples = [DataSample(), DataSample()]
    model.loss(views((2, ) * (2 + num_strong)), samples, extra='passed on')
    assert len(seen) == 1
    assert seen[0][0] == 2 and seen[0][1] is samples
    assert seen[0][2] == {'extra': 'passed on'}


@pytest.mark.parametrize('name, text', [
    ('SimCLRDDM', "mmpretrain's SimCLR.loss called the neck 0 times, not "
     'once'),
    ('BYOLDDM', "mmpretrain's BYOL.loss called the predictor 0 and the "
     'target network 0 times, not twice'),
])
def test_a_base_loss_that_computes_elsewhere_is_reported(monkeypatch, name,
                                                         text):
    build, base = WRAPPERS[name]
    monkeypatch.setattr(base, 'loss', lambda self, inputs, data_samples,
                        **kwargs: dict(loss=torch.zeros(())))
    model = build()
    with pytest.raises(RuntimeError, match=whole(text)):
        model.loss(views(), None)
