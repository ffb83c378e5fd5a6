"""MomentumQueueHook: the queue started before training, the loader
check, the logged momentum and queue pointer, for CLSA, MoCo v3 + DDM and
BYOL + DDM."""
import glob
import math
import os.path as osp
import re
import uuid
from types import SimpleNamespace

import pytest
import torch
from mmengine.dataset import InfiniteSampler
from mmengine.logging import MessageHub
from mmengine.runner import Runner
from mmengine.model import ExponentialMovingAverage
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

from clsa_mm.engine import MomentumQueueHook
from clsa_mm.engine.hooks.momentum_queue_hook import ema_momentum
from clsa_mm.models.utils import embedding_queue
from clsa_mm.registry import HOOKS
from test_models.clsa_helpers import tiny_clsa
from test_models.mocov3_helpers import tiny_mocov3
from test_models.simclr_byol_helpers import tiny_byol, tiny_simclr


def fake_runner(model, num_samples=8, batch_size=4, drop_last=True):
    loader = DataLoader(list(range(num_samples)), batch_size=batch_size,
                        drop_last=drop_last)
    return SimpleNamespace(
        model=model, train_dataloader=loader, iter=0, max_iters=10,
        # A new hub is the current one, which CosineEMA reads.
        message_hub=MessageHub.get_instance(f'test_mqh_{uuid.uuid4().hex}'))


def test_registered():
    assert HOOKS.get('MomentumQueueHook') is MomentumQueueHook


def test_queue_not_multiple_of_global_batch():
    """The model's own check, before the first iteration."""
    hook = MomentumQueueHook()
    with pytest.raises(ValueError, match=r'model.queue_len=10 is not a '
                       r'multiple of the 4 embeddings enqueued per step'):
        hook.before_train(fake_runner(tiny_clsa(queue_len=10)))
    model = tiny_clsa(queue_len=12)
    hook.before_train(fake_runner(model))
    assert model.queue_started
    # BYOL + DDM enqueues both crops: 2 x 4 columns per step.
    with pytest.raises(ValueError, match=r'model.queue_len=12 is not a '
                       r'multiple of the 8 embeddings enqueued per step '
                       r'\(2 views x 4 per process x 1 processes\)'):
        hook.before_train(fake_runner(tiny_byol(queue_len=12)))
    hook.before_train(fake_runner(tiny_byol(queue_len=16)))


def test_partial_last_batch():
    hook = MomentumQueueHook()
    with pytest.raises(ValueError, match=re.escape(
            'Each process draws 10 samples per epoch, not a multiple of its '
            'batch size 4: the last batch would not fill the queue slots of '
            'a global batch. Set train_dataloader.drop_last=True.')):
        hook.before_train(fake_runner(tiny_clsa(queue_len=8),
                                      num_samples=10, drop_last=False))
    hook.before_train(fake_runner(tiny_clsa(queue_len=8), num_samples=12,
                                  drop_last=False))


def test_needs_a_momentum_encoder_or_a_queue():
    for model in (torch.nn.Linear(2, 2), tiny_simclr()):
        with pytest.raises(TypeError, match=re.escape(
                'MomentumQueueHook needs a model with a momentum encoder (an '
                'ExponentialMovingAverage) or an EmbeddingQueue, got '
                f'{type(model).__name__}')):
            MomentumQueueHook().before_train(fake_runner(model))


def test_infinite_sampler_needs_no_drop_last():
    """An InfiniteSampler never ends an epoch, so no batch is partial."""
    runner = fake_runner(tiny_clsa(queue_len=8))
    data = list(range(10))
    runner.train_dataloader = DataLoader(
        data, batch_size=4, sampler=InfiniteSampler(data, shuffle=False,
                                                    seed=0))
    MomentumQueueHook().before_train(runner)


def test_batch_size_of_a_custom_batch_sampler():
    data = list(range(12))
    runner = fake_runner(tiny_clsa(queue_len=8))
    runner.train_dataloader = DataLoader(data, batch_sampler=BatchSampler(
        SequentialSampler(data), 6, drop_last=True))
    assert runner.train_dataloader.batch_size is None
    with pytest.raises(ValueError, match=re.escape(
            'model.queue_len=8 is not a multiple of the 6 embeddings enqueued '
            'per step (1 views x 6 per process x 1 processes). Set '
            'model.queue_len to a multiple of 6, or change the batch size.')):
        MomentumQueueHook().before_train(runner)
    runner.model = tiny_clsa(queue_len=12)
    MomentumQueueHook().before_train(runner)


def test_queue_check_counts_every_process(monkeypatch):
    monkeypatch.setattr(embedding_queue, 'get_world_size', lambda: 2)
    with pytest.raises(ValueError, match=re.escape(
            'model.queue_len=4 is not a multiple of the 8 embeddings enqueued '
            'per step (1 views x 4 per process x 2 processes)')):
        MomentumQueueHook().before_train(fake_runner(tiny_clsa(queue_len=4)))
    MomentumQueueHook().before_train(fake_runner(tiny_clsa(queue_len=8)))


def test_before_train_takes_rank_0s_queue(monkeypatch):
    """Before the first iteration, so the model's first step does not."""
    sources = []
    monkeypatch.setattr(embedding_queue, 'broadcast',
                        lambda data, src: sources.append((data, src)))
    model = tiny_clsa(queue_len=8)
    MomentumQueueHook().before_train(fake_runner(model))
    assert len(sources) == 1 and sources[0][0] is model.queue
    model.loss([torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32),
                torch.randn(4, 3, 16, 16)], None)
    assert len(sources) == 1


def test_wrapped_model():
    """A model wrapper (DataParallel here, DDP in distributed runs): the
    hook works on the model inside."""
    model = tiny_clsa(queue_len=8)
    runner = fake_runner(torch.nn.DataParallel(model))
    hook = MomentumQueueHook()
    hook.before_train(runner)
    assert model.queue_started
    model.queue_ptr.fill_(4)
    hook.after_train_iter(runner, 0)
    assert runner.message_hub.get_scalar('train/queue_ptr').current() == 4


def test_constant_momentum_is_the_emas_attribute():
    model = tiny_clsa(queue_len=8, momentum=0.004)
    runner = fake_runner(model)
    hook = MomentumQueueHook()
    hook.before_train(runner)
    for it in range(2):
        model.encoder_k.update_parameters(
            torch.nn.Sequential(model.backbone, model.neck))
        hook.after_train_iter(runner, it)
        logged = runner.message_hub.get_scalar('train/ema_momentum')
        assert logged.current() == 0.004
    model.encoder_k.momentum = 0.5
    hook.after_train_iter(runner, 2)
    assert runner.message_hub.get_scalar(
        'train/ema_momentum').current() == 0.5


@pytest.mark.parametrize('build', ['mocov3', 'byol'])
def test_cosine_momentum_of_mocov3_and_byol(build):
    """mmpretrain's CosineEMA: update t (0-based) of 10 has momentum
    0.01 · (cos(π t / 10) + 1) / 2; the hook logs it and the EMA applies
    it."""
    model = dict(mocov3=tiny_mocov3, byol=tiny_byol)[build](
        **dict(mocov3=dict(momentum=0.01),
               byol=dict(base_momentum=0.01, queue_len=8))[build])
    ema = model.momentum_encoder if build == 'mocov3' else model.target_net
    runner = fake_runner(model)
    runner.message_hub.update_info('max_iters', 10)
    hook = MomentumQueueHook()
    hook.before_train(runner)
    online = torch.nn.Sequential(model.backbone, model.neck)
    param, source = next(ema.parameters()), next(online.parameters())
    for it in range(3):
        before = param.detach().clone()
        with torch.no_grad():
            source.add_(1.0)
        ema.update_parameters(online)
        hook.after_train_iter(runner, it)
        expected = 0.01 * (math.cos(math.pi * it / 10) + 1) / 2
        logged = runner.message_hub.get_scalar('train/ema_momentum')
        assert math.isclose(logged.current(), expected, abs_tol=1e-12)
        if it > 0:  # the first update copies
            torch.testing.assert_close(
                param, (1 - expected) * before + expected * source)
    has_queue = build == 'byol'
    assert ('train/queue_ptr' in runner.message_hub.log_scalars) == has_queue


def test_cosine_schedule_end():
    model = tiny_mocov3(momentum=0.004)
    hub = fake_runner(model).message_hub
    hub.update_info('max_iters', 10)
    model.momentum_encoder.steps.fill_(6)  # the last update was number 5
    assert math.isclose(ema_momentum(model.momentum_encoder), 0.002,
                        abs_tol=1e-12)
    model.momentum_encoder.steps.fill_(11)
    assert math.isclose(ema_momentum(model.momentum_encoder), 0.0,
                        abs_tol=1e-12)


def test_logs_queue_pointer():
    model = tiny_clsa(queue_len=8)
    runner = fake_runner(model)
    hook = MomentumQueueHook()
    hook.before_train(runner)
    model.loss([torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32),
                torch.randn(4, 3, 16, 16)], None)
    hook.after_train_iter(runner, 0)
    hub = runner.message_hub
    assert hub.get_scalar('train/queue_ptr').current() == 4
    assert hub.get_scalar('train/ema_momentum').current() == 0.001


def _collate(batch):
    views = [torch.stack([sample[i] for sample in batch])
             for i in range(len(batch[0]))]
    return dict(inputs=views, data_samples=None)


def test_in_runner(tmp_path):
    gen = torch.Generator().manual_seed(0)
    samples = [[torch.randint(0, 256, (3, s, s), generator=gen,
                              dtype=torch.uint8) for s in (32, 32, 16)]
               for _ in range(8)]
    model = tiny_clsa(
        queue_len=8,
        data_preprocessor=dict(
            type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], to_rgb=False))
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(samples, batch_size=4, shuffle=False,
                                    drop_last=True, collate_fn=_collate),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01,
                                          momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=4),
        log_processor=dict(by_epoch=False),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=None),
        custom_hooks=[MomentumQueueHook()])
    runner.train()
    assert int(model.queue_ptr) == 0  # 4 steps of 4 keys in a queue of 8
    assert type(model.encoder_k) is ExponentialMovingAverage
    assert int(model.encoder_k.steps) == 4
    log = open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]).read()
    for name in ('queue_ptr', 'pos_sim', 'neg_sim', 'ddm_entropy',
                 'loss_contrastive', 'loss_ddm', 'ema_momentum'):
        assert f'{name}: ' in log, name
    assert 'Iter(train) [4/4]' in log
