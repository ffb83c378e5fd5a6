"""SimCLR-DDM: mmpretrain's SimCLR loss untouched, DDM as docs/method_ddm."""
import copy

import pytest
import torch

from simclr_byol_helpers import (simclr_spec_losses, simclr_step_embeddings,
                                 tiny_simclr, views)


def test_without_ddm_it_is_mmpretrain_simclr():
    base = tiny_simclr(ddm=False)
    model = tiny_simclr(num_strong_views=0, ddm_weight=0.)
    model.load_state_dict(base.state_dict())
    x = views(sizes=(32, 32))
    expected = base.loss(x, None)
    losses = model.loss(x, None)
    assert losses.keys() == {'loss'}
    assert torch.equal(losses['loss'], expected['loss'])
    losses['loss'].backward()
    expected['loss'].backward()
    for (name, p), q in zip(model.named_parameters(), base.parameters()):
        assert torch.equal(p.grad, q.grad), name


def test_strong_views_leave_the_simclr_loss_alone():
    base = tiny_simclr(ddm=False)
    model = tiny_simclr(ddm_weight=0.)
    model.load_state_dict(base.state_dict())
    x = views(sizes=(32, 32, 16))
    losses = model.loss(x, None)
    assert torch.equal(losses['loss'], base.loss(x[:2], None)['loss'])
    assert losses['loss_ddm'].item() == 0
    assert losses['ddm_entropy'] > 0


@pytest.mark.parametrize('num_strong', [1, 2])
def test_step_matches_the_plain_loop_reference(num_strong):
    # T != T2, beta != 1, distinct inputs per view.
    model = tiny_simclr(num_strong_views=num_strong, ddm_temperature=0.3,
                        ddm_weight=0.5).double()
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=3,
                                   sizes=(32, 32, 16, 20)[:2 + num_strong])]
    losses = model.loss(x, None)
    z, strongs = simclr_step_embeddings(reference, x[:2], x[2:])
    loss, loss_ddm = simclr_spec_losses(z, strongs, rank=0, t=0.1, t2=0.3,
                                        beta=0.5)
    assert abs(losses['loss'].item() - loss.item()) < 1e-5
    assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5
    # The strong views get the DDM gradient.
    model.zero_grad()
    losses['loss_ddm'].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.backbone.parameters())


def test_view_count_must_fit_the_model():
    model = tiny_simclr(num_strong_views=1)
    with pytest.raises(ValueError, match=r'model\.num_strong_views=1') as e:
        model.loss(views(sizes=(32, 32, 16, 16)), None)
    assert 'gave 4' in str(e.value)
    with pytest.raises(ValueError, match='expects 3 views'):
        model.loss(views(sizes=(32, 32)), None)


@pytest.mark.parametrize('kwargs, key', [
    (dict(ddm_weight=-0.5), r'model\.ddm_weight'),
    (dict(ddm_temperature=0.), r'model\.ddm_temperature'),
    (dict(ddm_temperature=-1.), r'model\.ddm_temperature'),
    (dict(num_strong_views=-1), r'model\.num_strong_views'),
])
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        tiny_simclr(**kwargs)
