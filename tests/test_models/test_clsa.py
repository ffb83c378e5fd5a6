"""CLSA on one CPU process: views, queue, EMA, errors, AMP."""
import copy
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate

from clsa_helpers import tiny_clsa, views
from cli_helpers import REPO
from clsa_mm.models.utils import embedding_queue
from queue_helpers import queue_len_error
from clsa_mm.registry import DATASETS, MODELS, clsa_mm_scope


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
    with pytest.raises(ValueError, match=queue_len_error(10, 4, 1, 4, 1)):
        model.loss(views(batch=4), None)
    assert torch.equal(model.queue, queue)
    # Smaller than one step: the step would overwrite its own keys.
    with pytest.raises(ValueError, match=queue_len_error(10, 12, 1, 3, 4)):
        model.start_queue(3, world_size=4)
    model.start_queue(5, world_size=2)
    with pytest.raises(ValueError, match=r'model.queue_len must be an int '
                       r'>= 0, got -1'):
        tiny_clsa(queue_len=-1)


def test_inputs_must_fit_the_view_counts():
    model = tiny_clsa(num_weak_views=5)
    with pytest.raises(ValueError, match='expects 11 views .* gave 3'):
        model.loss(views(), None)
    with pytest.raises(TypeError, match='list of views'):
        model.loss(torch.zeros(4, 3, 32, 32), None)
    x = views()
    x[1] = x[1][:2]
    with pytest.raises(ValueError, match=r'batch sizes \[4, 2, 4\]'):
        tiny_clsa().loss(x, None)
    for key in ('num_weak_views', 'num_strong_views'):
        with pytest.raises(ValueError, match=f'model.{key} must be an int '
                           '>= 1, got 0'):
            tiny_clsa(**{key: 0})
    # J defaults to I; both can be set.
    assert tiny_clsa(num_weak_views=5).num_strong_views == 5
    model = tiny_clsa(num_weak_views=2, num_strong_views=3)
    assert all(torch.isfinite(v) for v in model.loss(
        views(weak_sizes=(32, 24), strong_sizes=(16, 20, 24)), None).values())


def test_multi_crop_data_under_the_single_crop_config_is_refused(
        tiny_imagenet):
    """The 11 views of the multi-crop pipeline (key, 5 weak, 5 strong) fed
    to r50_8xb32_200e.py's model (1 weak query, 1 strong view) stop the step
    with both counts and the keys to change, instead of training the weak
    crops 192..96 as strong views."""
    root = osp.join(REPO, 'configs', 'clsa')
    single = Config.fromfile(osp.join(root, 'r50_8xb32_200e.py'))
    mcrop = Config.fromfile(osp.join(root, 'r50_8xb32-mcrop_200e.py'))
    mcrop.train_dataloader.dataset.data_root = str(tiny_imagenet)
    single.model.update(queue_len=8)
    single.model.backbone.update(depth=18, base_channels=8, stem_channels=8)
    single.model.neck.update(in_channels=64, hid_channels=64)
    with clsa_mm_scope():
        dataset = DATASETS.build(mcrop.train_dataloader.dataset)
        model = MODELS.build(single.model)
    batch = default_collate([dataset[0], dataset[1]])
    assert len(batch['inputs']) == 11
    batch = model.data_preprocessor(batch, training=True)
    with pytest.raises(ValueError) as error:
        model(**batch, mode='loss')
    message = str(error.value)
    assert 'CLSA expects 3 views' in message
    assert 'the data pipeline gave 11' in message
    assert 'model.num_weak_views=1' in message
    assert 'model.num_strong_views=1' in message
    assert int(model.queue_ptr) == 0


def test_multi_crop_views_reach_head(monkeypatch):
    model = tiny_clsa(num_weak_views=5, num_strong_views=5, queue_len=8)
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
    model.start_queue(4)  # the current world: one process
    monkeypatch.setattr(embedding_queue, 'get_world_size', lambda: 2)
    model = tiny_clsa(queue_len=4)
    with pytest.raises(ValueError, match=queue_len_error(4, 8, 1, 4, 2)):
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

    monkeypatch.setattr(embedding_queue, 'broadcast', fake_broadcast)
    model.loss(views(), None)
    assert sources == [0]
    torch.testing.assert_close(model.queue[:, 4:], rank0_queue[:, 4:])
    model.loss(views(seed=1), None)
    assert sources == [0]


def test_view_errors_spell_out_the_expected_views():
    with pytest.raises(ValueError, match=re.escape(
            'CLSA expects 11 views [x_k, x_q[0..4], x_s[0..4]] (the key, '
            'model.num_weak_views=5 weak queries and '
            'model.num_strong_views=5 strong views), but the data pipeline '
            'gave 3. Set model.num_weak_views and model.num_strong_views to '
            'the views of the pipeline (a multi-crop pipeline needs a '
            'multi-crop config).')):
        tiny_clsa(num_weak_views=5).loss(views(), None)
    with pytest.raises(TypeError, match=re.escape(
            'CLSA expects the list of views [x_k, x_q[0..0], x_s[0..0]] (the '
            'key, model.num_weak_views=1 weak queries and '
            'model.num_strong_views=1 strong views), got Tensor')):
        tiny_clsa().loss(torch.zeros(4, 3, 32, 32), None)


def test_symmetric_losses_add_and_statistics_average(monkeypatch):
    model = tiny_clsa(queue_len=8, num_weak_views=2, num_strong_views=1,
                      symmetric=True)
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
