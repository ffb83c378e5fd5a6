"""SimCLR-DDM: mmpretrain's SimCLR loss untouched, DDM as docs/method_ddm."""
import copy

import pytest
import torch
from mmpretrain.models.selfsup import simclr as mmpretrain_simclr

from clsa_mm.models.algorithms import simclr_ddm
from simclr_byol_helpers import (assert_it_is_the_base_method, rank_0_of,
                                 simclr_spec_losses, simclr_step_embeddings,
                                 tiny_simclr, views)


def test_without_ddm_it_is_mmpretrain_simclr():
    base = tiny_simclr(ddm=False)
    model = tiny_simclr(num_strong_views=0, beta=0.)
    model.load_state_dict(base.state_dict())
    assert_it_is_the_base_method(model, base, views(sizes=(32, 32)))


def test_strong_views_leave_the_simclr_loss_alone():
    base = tiny_simclr(ddm=False)
    model = tiny_simclr(beta=0.)
    model.load_state_dict(base.state_dict())
    x = views(sizes=(32, 32, 16))
    losses = model.loss(x, None)
    # The base term is renamed: parse_losses logs the total as ``loss``.
    assert set(losses) == {'loss_contrastive', 'loss_ddm', 'ddm_entropy'}
    assert torch.equal(losses['loss_contrastive'],
                       base.loss(x[:2], None)['loss'])
    assert losses['loss_ddm'].item() == 0
    assert losses['ddm_entropy'] > 0


@pytest.mark.parametrize('num_strong', [1, 2])
def test_step_matches_the_plain_loop_reference(num_strong):
    # T != T2, beta != 1, distinct inputs per view.
    model = tiny_simclr(num_strong_views=num_strong, t2=0.3,
                        beta=0.5).double()
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=3,
                                   sizes=(32, 32, 16, 20)[:2 + num_strong])]
    losses = model.loss(x, None)
    z, strongs = simclr_step_embeddings(reference, x[:2], x[2:])
    loss, loss_ddm = simclr_spec_losses(z, strongs, rank=0, t=0.1, t2=0.3,
                                        beta=0.5)
    assert abs(losses['loss_contrastive'].item() - loss.item()) < 1e-5
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
    (dict(beta=-0.5), r'model\.ddm_head\.loss_weight'),
    (dict(t2=0.), r'model\.ddm_head\.ddm_temperature'),
    (dict(t2=-1.), r'model\.ddm_head\.ddm_temperature'),
    (dict(num_strong_views=-1), r'model\.num_strong_views'),
])
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        tiny_simclr(**kwargs)


def test_bank_holds_every_ranks_crops_and_leaves_out_the_own_column(
        monkeypatch):
    """Rank 1 of 2 (gather mocked): the bank's columns 2N..4N-1 are this
    rank's, so row n of crop c leaves out column 2N + 2n + c."""
    # mmpretrain's GatherLayer gathers z (the base loss's and DDM's bank).
    monkeypatch.setattr(simclr_ddm, 'get_rank', lambda: 1)
    monkeypatch.setattr(mmpretrain_simclr, 'get_rank', lambda: 1)
    monkeypatch.setattr(mmpretrain_simclr, 'all_gather',
                        lambda z: [rank_0_of(z), z])
    model = tiny_simclr(num_strong_views=2, t2=0.3,
                        beta=0.5).double()
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=3, sizes=(32, 32, 16, 20))]
    losses = model.loss(x, None)
    z, strongs = simclr_step_embeddings(reference, x[:2], x[2:])
    _, loss_ddm = simclr_spec_losses(torch.cat([rank_0_of(z), z]), strongs,
                                     rank=1, t2=0.3, beta=0.5)
    assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5


def test_near_zero_embeddings_are_normalised_as_simclr_does():
    """Rows of norm about 1e-10 (the last BN scaled down) meet SimCLR's
    ``z / (|z| + 1e-10)`` in the crops' and the strong views' embeddings."""
    model = tiny_simclr(t2=0.3).double()
    with torch.no_grad():
        model.neck.bn1.weight.fill_(2e-11)  # |z| ~ sqrt(32) * 2e-11
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=3)]
    losses = model.loss(x, None)
    z, strongs = simclr_step_embeddings(reference, x[:2], x[2:])
    assert 1e-11 < z.norm(dim=1).min() and z.norm(dim=1).max() < 0.9
    loss, loss_ddm = simclr_spec_losses(z, strongs, rank=0, t2=0.3)
    assert abs(losses['loss_contrastive'].item() - loss.item()) < 1e-5
    assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5
