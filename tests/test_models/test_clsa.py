"""CLSA on one CPU process: views, queue, EMA, errors, AMP, formats."""
import copy
import re

import pytest
import torch
import torch.nn.functional as F

from clsa_helpers import tiny_clsa, views
from clsa_mm.models.algorithms import clsa as clsa_module
from clsa_mm.registry import MODELS


def ema_keys(model, x_k):
    """Keys of ``x_k`` from the key encoder as it is now (train-mode BN)."""
    with torch.no_grad():
        return F.normalize(model.encoder_k(x_k)[0], dim=1)


def test_registered_and_loss_keys():
    assert MODELS.get('CLSA') is not None
    assert MODELS.get('DDMHead') is not None
    model = tiny_clsa()
    losses = model.loss(views(), None)
    assert set(losses) == {'loss_contrastive', 'loss_ddm', 'pos_sim',
                           'neg_sim', 'ddm_entropy'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert not hasattr(model, 'stats')
    # MMEngine logs every entry and sums only the loss* ones.
    total, log_vars = model.parse_losses(losses)
    torch.testing.assert_close(
        total, losses['loss_contrastive'] + losses['loss_ddm'])
    assert set(log_vars) == set(losses) | {'loss'}
    for name in ('pos_sim', 'neg_sim', 'ddm_entropy'):
        assert not losses[name].requires_grad


def test_backward_reaches_online_encoder_only():
    model = tiny_clsa()
    sum(model.loss(views(), None).values()).backward()
    assert all(p.grad is not None for p in model.backbone.parameters())
    assert all(p.grad is not None for p in model.neck.parameters())
    assert all(not p.requires_grad and p.grad is None
               for p in model.encoder_k.parameters())


def test_queue_pointer_and_wrap_around():
    model = tiny_clsa(queue_len=8)
    queue0 = model.queue.clone()
    torch.testing.assert_close(queue0.norm(dim=0), torch.ones(8))
    written = []
    for step in range(3):
        x = views(seed=step)
        model.loss(x, None)
        # The EMA is not updated between the loss and here, and train-mode
        # BN of one batch does not depend on its order (shuffle-BN).
        written.append(ema_keys(model, x[0]))
        assert int(model.queue_ptr) == [4, 0, 4][step]
        if step == 0:
            torch.testing.assert_close(model.queue[:, 4:], queue0[:, 4:])
    torch.testing.assert_close(model.queue[:, :4], written[2].t())
    torch.testing.assert_close(model.queue[:, 4:], written[1].t())


def test_ema_update_before_keys():
    momentum = 0.25
    model = tiny_clsa(momentum=momentum)
    model.loss(views(seed=0), None)  # first update: copy
    for p, p_k in zip(model.backbone.parameters(),
                      model.encoder_k.module[0].parameters()):
        torch.testing.assert_close(p, p_k)
    old = [p.detach().clone() for p in model.encoder_k.parameters()]
    with torch.no_grad():
        for p in list(model.backbone.parameters()) + list(
                model.neck.parameters()):
            p.add_(torch.randn_like(p) * 0.1)
    new = [p.detach().clone() for p in list(model.backbone.parameters()) +
           list(model.neck.parameters())]
    x = views(seed=1)
    model.loss(x, None)
    for p_k, o, n in zip(model.encoder_k.parameters(), old, new):
        torch.testing.assert_close(p_k, (1 - momentum) * o + momentum * n)
    # The keys of this step come from the updated key encoder.
    torch.testing.assert_close(model.queue[:, 4:8], ema_keys(model, x[0]).t())


def test_queue_length_must_be_multiple_of_batch():
    model = tiny_clsa(queue_len=10)
    queue = model.queue.clone()
    with pytest.raises(ValueError, match=r'queue length 10 .* global batch '
                       r'size 4 \(4 per process x 1 processes\)'):
        model.loss(views(batch=4), None)
    assert torch.equal(model.queue, queue)
    with pytest.raises(ValueError, match='queue length 10 is smaller than '
                       r'the global batch size 12 \(3 per process x 4 '
                       'processes'):
        model.check_queue_len(3, world_size=4)
    model.check_queue_len(5, world_size=2)
    with pytest.raises(ValueError, match='model.queue_len must be at least 1'):
        tiny_clsa(queue_len=0)


def test_inputs_must_fit_num_weak_views():
    model = tiny_clsa(num_weak_views=5)
    with pytest.raises(ValueError, match='num_weak_views=5.* at least 7 '
                       'batches, but got 3'):
        model.loss(views(), None)
    with pytest.raises(TypeError, match='list of views'):
        model.loss(torch.zeros(4, 3, 32, 32), None)
    x = views()
    x[1] = x[1][:2]
    with pytest.raises(ValueError, match=r'batch sizes \[4, 2, 4\]'):
        tiny_clsa().loss(x, None)
    with pytest.raises(ValueError, match='at least 1'):
        tiny_clsa(num_weak_views=0)


def test_multi_crop_views_reach_head(monkeypatch):
    model = tiny_clsa(num_weak_views=5, queue_len=8)
    sizes = (32, 28, 24, 20, 16)
    seen = {}
    loss = model.head.loss

    def spy(queries, strongs, keys, queue, rank):
        seen.update(queries=len(queries), strongs=len(strongs),
                    keys=tuple(keys.shape), rank=rank)
        return loss(queries, strongs, keys, queue, rank)

    monkeypatch.setattr(model.head, 'loss', spy)
    losses = model.loss(views(weak_sizes=sizes, strong_sizes=sizes), None)
    assert seen == dict(queries=5, strongs=5, keys=(4, 128), rank=0)
    assert all(torch.isfinite(v) for v in losses.values())


def test_extract_feat_is_backbone():
    model = tiny_clsa()
    x = torch.randn(2, 3, 32, 32)
    feats = model.extract_feat(x)
    assert isinstance(feats, tuple) and feats[0].shape == (2, 64, 1, 1)
    torch.testing.assert_close(model(x, mode='tensor')[0],
                               model.backbone(x)[0])


def test_channels_last_same_losses():
    model = tiny_clsa()
    model_cl = tiny_clsa(channels_last=True)
    conv = model_cl.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert model_cl.encoder_k.module[0].conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    x = views()
    torch.manual_seed(0)
    ref = model.loss(x, None)
    torch.manual_seed(0)
    out = model_cl.loss(x, None)
    for name in ref:
        torch.testing.assert_close(out[name], ref[name], rtol=1e-4,
                                   atol=1e-4)
    torch.testing.assert_close(model_cl.queue, model.queue, rtol=1e-4,
                               atol=1e-4)


def test_bf16_autocast_finite_and_close():
    model = tiny_clsa()
    model_amp = copy.deepcopy(model)
    # Views large enough that layer4's stride-2 conv sees at least 2x2
    # pixels: with a 16-pixel strong view it sees 1x1, and torch 2.14's CPU
    # bf16 kernel then returns NaN in that conv's weight gradient in about
    # 1 run in 5 for identical inputs (not our arithmetic: the same inputs
    # give finite gradients on the other runs).
    x = views(batch=8, key_size=64, weak_sizes=(64, ), strong_sizes=(32, ))
    ref = model.loss(x, None)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model_amp.loss(x, None)
    for name in ref:
        assert out[name].dtype == torch.float32
        assert torch.isfinite(out[name])
        # Measured |bf16 - fp32| on these inputs (the bf16 encoder
        # dominates): 4.6e-4 (loss_contrastive, ~2.1), 8.0e-4 (loss_ddm),
        # <= 2.7e-4 (statistics). 3e-3 is a margin of over 3x.
        torch.testing.assert_close(out[name], ref[name], rtol=0, atol=3e-3)
    assert model_amp.queue.dtype == torch.float32
    sum(out.values()).backward()
    assert all(torch.isfinite(p.grad).all()
               for p in model_amp.backbone.parameters())


def test_queue_check_counts_every_process(monkeypatch):
    model = tiny_clsa(queue_len=4)
    model.check_queue_len(4)  # one process unless told otherwise
    monkeypatch.setattr(clsa_module, 'get_world_size', lambda: 2)
    with pytest.raises(ValueError, match=re.escape(
            'The queue length 4 is smaller than the global batch size 8 (4 '
            'per process x 2 processes): a step would overwrite its own '
            'keys. Set model.queue_len to a multiple of 8.')):
        model.loss(views(batch=4), None)


def test_first_step_takes_the_queue_of_rank_0(monkeypatch):
    """Ranks start with different random queues: the first step (only)
    broadcasts rank 0's before using it."""
    model = tiny_clsa(queue_len=8)
    rank0_queue = F.normalize(torch.randn(128, 8), dim=0)
    sources = []

    def fake_broadcast(data, src):
        sources.append(src)
        data.copy_(rank0_queue)

    monkeypatch.setattr(clsa_module, 'broadcast', fake_broadcast)
    model.loss(views(), None)
    assert sources == [0]
    torch.testing.assert_close(model.queue[:, 4:], rank0_queue[:, 4:])
    model.loss(views(seed=1), None)
    assert sources == [0]


def test_view_errors_spell_out_the_expected_views():
    with pytest.raises(ValueError, match=re.escape(
            'CLSA expects the views [x_k, x_q[0..4], x_s[0..J-1]] with '
            'num_weak_views=5 weak queries and J >= 1 strong views, i.e. at '
            'least 7 batches, but got 3. Check model.num_weak_views against '
            'the data pipeline.')):
        tiny_clsa(num_weak_views=5).loss(views(), None)
    with pytest.raises(TypeError, match=re.escape(
            'CLSA expects the list of views [x_k, x_q[0..0], x_s[0..J-1]] '
            'with num_weak_views=1 weak queries and J >= 1 strong views, got '
            'Tensor')):
        tiny_clsa().loss(torch.zeros(4, 3, 32, 32), None)


def test_symmetric_losses_add_and_statistics_average(monkeypatch):
    model = tiny_clsa(queue_len=8, symmetric=True)
    groups = []
    head_loss = model.head.loss

    def spy(*args):
        groups.append(head_loss(*args))
        return dict(groups[-1])

    monkeypatch.setattr(model.head, 'loss', spy)
    losses = model.loss(views(weak_sizes=(32, 24)), None)
    assert len(groups) == 2 and set(losses) == set(groups[0])
    for name, value in losses.items():
        a, b = groups[0][name], groups[1][name]
        expected = a + b if name.startswith('loss') else (a + b) / 2
        torch.testing.assert_close(value, expected)
