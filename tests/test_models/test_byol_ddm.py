"""BYOL-DDM: mmpretrain's BYOL loss untouched, DDM as docs/method_ddm."""
import copy
import re

import pytest
import torch

from clsa_mm.models.algorithms import byol_ddm
from clsa_mm.models.utils import embedding_queue
from queue_helpers import queue_len_error
from simclr_byol_helpers import (assert_it_is_the_base_method,
                                 byol_spec_losses, byol_step_embeddings,
                                 own_message_hub, rank_0_of, tiny_byol, views)


def assert_step_matches_reference(model, reference, x, rank,
                                  gather=lambda t: t):
    """One step of ``model`` (T2 0.3, beta 0.5) on ``x`` against the plain
    loop on ``reference``, its copy: both losses, then the queue holds both
    crops' targets of every rank (``gather`` maps this rank's to all
    ranks'), crop 1 first, and the rest of the old queue."""
    losses = model.loss(x, None)
    preds, targets, strongs = byol_step_embeddings(reference, x[:2], x[2:])
    targets_all = [gather(t) for t in targets]
    loss, loss_ddm = byol_spec_losses(preds, targets_all, reference.queue,
                                      strongs, rank=rank, t2=0.3, beta=0.5)
    assert abs(losses['loss_byol'].item() - loss.item()) < 1e-5
    assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5
    enqueued = torch.cat(targets_all).t()
    k = enqueued.shape[1]
    torch.testing.assert_close(model.queue[:, :k], enqueued)
    torch.testing.assert_close(model.queue[:, k:], reference.queue[:, k:])
    assert int(model.queue_ptr) == k


def test_without_ddm_it_is_mmpretrain_byol():
    base = tiny_byol(ddm=False)
    model = tiny_byol(num_strong_views=0, beta=0., queue_len=8)
    model.load_state_dict(base.state_dict(), strict=False)
    queue = model.queue.clone()
    assert_it_is_the_base_method(model, base, views(sizes=(32, 32)))
    assert torch.equal(model.queue, queue) and int(model.queue_ptr) == 0


def test_strong_views_leave_the_byol_loss_alone():
    base = tiny_byol(ddm=False)
    model = tiny_byol(beta=0., queue_len=8)
    model.load_state_dict(base.state_dict(), strict=False)
    x = views(sizes=(32, 32, 16))
    losses = model.loss(x, None)
    # The base term is renamed: parse_losses logs the total as ``loss``.
    assert set(losses) == {'loss_byol', 'loss_ddm', 'ddm_entropy'}
    assert torch.equal(losses['loss_byol'], base.loss(x[:2], None)['loss'])
    assert losses['loss_ddm'].item() == 0
    assert losses['ddm_entropy'] > 0


@pytest.mark.parametrize('num_strong', [1, 2])
def test_step_matches_the_plain_loop_reference(num_strong):
    # beta != 1, T2 != 0.2, distinct inputs per view, a queue of 2 steps.
    n = 3
    model = tiny_byol(num_strong_views=num_strong, queue_len=4 * n,
                      t2=0.3, beta=0.5).double()
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=n,
                                   sizes=(32, 28, 16, 20)[:2 + num_strong])]
    assert_step_matches_reference(model, reference, x, rank=0)


def test_second_step_uses_the_queue(request):
    own_message_hub(request.node.nodeid)
    n = 2
    model = tiny_byol(queue_len=2 * n, t2=0.3).double()
    first = [v.double() for v in views(batch=n, seed=1)]
    model.loss(first, None)
    assert int(model.queue_ptr) == 0  # 2n columns: the queue wrapped
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=n, seed=2)]
    losses = model.loss(x, None)
    # The reference reads the target network as it is after its update.
    reference.target_net.update_parameters(
        torch.nn.Sequential(reference.backbone, reference.neck))
    with torch.no_grad():
        targets = [torch.nn.functional.normalize(
            reference.target_net(v)[0], dim=1) for v in x[:2]]
    preds, _, strongs = byol_step_embeddings(reference, x[:2], x[2:])
    _, loss_ddm = byol_spec_losses(preds, targets, reference.queue, strongs,
                                   rank=0, t2=0.3)
    assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5


def test_view_count_must_fit_the_model():
    model = tiny_byol(num_strong_views=2, queue_len=8)
    with pytest.raises(ValueError, match=r'model\.num_strong_views=2') as e:
        model.loss(views(sizes=(32, 32, 16)), None)
    assert 'gave 3' in str(e.value)


@pytest.mark.parametrize('queue_len, batch, world, step', [
    (4, 4, 1, 8), (6, 2, 1, 4), (8, 2, 4, 16)])
def test_queue_must_hold_whole_steps(monkeypatch, queue_len, batch, world,
                                     step):
    # 8 columns hold whole steps of 2 x 2 on one process, not on four.
    monkeypatch.setattr(embedding_queue, 'get_world_size', lambda: world)
    model = tiny_byol(queue_len=queue_len)
    error = queue_len_error(queue_len, step, 2, batch, world)
    with pytest.raises(ValueError, match=error):
        model.loss(views(batch=batch), None)


def test_start_queue_counts_the_current_processes_by_default():
    model = tiny_byol(queue_len=8)
    model.start_queue(4)  # 2 crops x 4 x 1 process
    with pytest.raises(ValueError, match=queue_len_error(8, 16, 2, 4, 2)):
        model.start_queue(4, 2)


def test_rank_0s_queue_is_broadcast_at_the_first_step_only(monkeypatch,
                                                           request):
    own_message_hub(request.node.nodeid)
    calls = []

    def fake_broadcast(data, src=0, group=None):
        calls.append((data, src))

    monkeypatch.setattr(embedding_queue, 'broadcast', fake_broadcast)
    model = tiny_byol(queue_len=8)
    for seed in (1, 2):
        model.loss(views(batch=2, seed=seed), None)
    assert len(calls) == 1
    assert calls[0][0] is model.queue and calls[0][1] == 0


def test_banks_and_queue_hold_every_ranks_targets(monkeypatch):
    """Rank 1 of 2 (gather mocked): rank 0's targets come first in both
    banks and in the queue."""
    n = 2
    monkeypatch.setattr(embedding_queue, 'get_world_size', lambda: 2)
    monkeypatch.setattr(byol_ddm, 'all_gather',
                        lambda t: [rank_0_of(t), t])
    model = tiny_byol(num_strong_views=2, queue_len=8 * n,
                      t2=0.3, beta=0.5).double()
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=n, sizes=(32, 28, 16, 20))]
    assert_step_matches_reference(
        model, reference, x, rank=1,
        gather=lambda t: torch.cat([rank_0_of(t), t]))


def test_the_bank_takes_the_projections_dtype():
    """A queue kept in another precision than the projections (as a float32
    buffer under mixed precision): here float64 with a float32 model."""
    model = tiny_byol(queue_len=8)
    reference = copy.deepcopy(model)
    model.queue = model.queue.double()
    x = views(batch=2)
    losses = model.loss(x, None)
    assert losses['loss_ddm'].dtype == torch.float32
    torch.testing.assert_close(losses['loss_ddm'],
                               reference.loss(x, None)['loss_ddm'])


@pytest.mark.parametrize('kwargs, key', [
    (dict(beta=-1.), r'model\.ddm_head\.loss_weight'),
    (dict(t2=0.), r'model\.ddm_head\.ddm_temperature'),
    (dict(queue_len=-8), r'model\.queue_len'),
])
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        tiny_byol(**kwargs)


def test_feat_dim_must_fit_the_neck():
    model = tiny_byol(queue_len=8, feat_dim=16)
    with pytest.raises(ValueError, match='^' + re.escape(
            'The projections have 32 dimensions but the DDM queue has 16: '
            "set model.feat_dim to the neck's out_channels.") + '$'):
        model.loss(views(batch=2), None)
