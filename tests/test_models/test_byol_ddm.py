"""BYOL-DDM: mmpretrain's BYOL loss untouched, DDM as docs/method_ddm."""
import copy

import pytest
import torch

from simclr_byol_helpers import (byol_spec_losses, byol_step_embeddings,
                                 own_message_hub, tiny_byol, views)


def test_without_ddm_it_is_mmpretrain_byol():
    base = tiny_byol(ddm=False)
    model = tiny_byol(num_strong_views=0, ddm_weight=0., queue_len=8)
    model.load_state_dict(base.state_dict(), strict=False)
    queue = model.queue.clone()
    x = views(sizes=(32, 32))
    expected = base.loss(x, None)
    losses = model.loss(x, None)
    assert losses.keys() == {'loss'}
    assert torch.equal(losses['loss'], expected['loss'])
    losses['loss'].backward()
    expected['loss'].backward()
    for (name, p), q in zip(model.named_parameters(), base.parameters()):
        if 'target_net' in name:  # no gradient
            assert p.grad is None and q.grad is None, name
        else:
            assert torch.equal(p.grad, q.grad), name
    assert torch.equal(model.queue, queue) and int(model.queue_ptr) == 0


def test_strong_views_leave_the_byol_loss_alone():
    base = tiny_byol(ddm=False)
    model = tiny_byol(ddm_weight=0., queue_len=8)
    model.load_state_dict(base.state_dict(), strict=False)
    x = views(sizes=(32, 32, 16))
    losses = model.loss(x, None)
    assert torch.equal(losses['loss'], base.loss(x[:2], None)['loss'])
    assert losses['loss_ddm'].item() == 0
    assert losses['ddm_entropy'] > 0


@pytest.mark.parametrize('num_strong', [1, 2])
def test_step_matches_the_plain_loop_reference(num_strong):
    # beta != 1, T2 != 0.2, distinct inputs per view, a queue of 2 steps.
    n = 3
    model = tiny_byol(num_strong_views=num_strong, queue_len=4 * n,
                      ddm_temperature=0.3, ddm_weight=0.5).double()
    reference = copy.deepcopy(model)
    x = [v.double() for v in views(batch=n,
                                   sizes=(32, 28, 16, 20)[:2 + num_strong])]
    losses = model.loss(x, None)
    preds, targets, strongs = byol_step_embeddings(reference, x[:2], x[2:])
    loss, loss_ddm = byol_spec_losses(preds, targets, reference.queue,
                                      strongs, rank=0, t2=0.3, beta=0.5)
    assert abs(losses['loss'].item() - loss.item()) < 1e-5
    assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5
    # Both crops' targets are enqueued, crop 1 first.
    torch.testing.assert_close(model.queue[:, :2 * n],
                               torch.cat(targets).t())
    torch.testing.assert_close(model.queue[:, 2 * n:],
                               reference.queue[:, 2 * n:])
    assert int(model.queue_ptr) == 2 * n


def test_second_step_uses_the_queue(request):
    own_message_hub(request.node.nodeid)
    n = 2
    model = tiny_byol(queue_len=2 * n, ddm_temperature=0.3).double()
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


@pytest.mark.parametrize('queue_len, batch, problem', [
    (4, 4, 'is smaller than the 8'), (6, 2, 'is not a multiple of the 4')])
def test_queue_must_hold_whole_steps(queue_len, batch, problem):
    model = tiny_byol(queue_len=queue_len)
    with pytest.raises(ValueError,
                       match=rf'model\.queue_len={queue_len} {problem}'):
        model.loss(views(batch=batch), None)


@pytest.mark.parametrize('kwargs, key', [
    (dict(ddm_weight=-1.), r'model\.ddm_weight'),
    (dict(ddm_temperature=0.), r'model\.ddm_temperature'),
    (dict(queue_len=-8), r'model\.queue_len'),
])
def test_bad_settings_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=key):
        tiny_byol(**kwargs)


def test_feat_dim_must_fit_the_neck():
    model = tiny_byol(queue_len=8, feat_dim=16)
    with pytest.raises(ValueError, match=r'model\.feat_dim'):
        model.loss(views(batch=2), None)
