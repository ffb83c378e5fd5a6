"""MomentumQueueHook: momentum schedule, queue checks, logged scalars."""
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
from mmpretrain.models.utils import CosineEMA
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

from clsa_mm.engine import MomentumQueueHook
from clsa_mm.engine.hooks import momentum_queue_hook
from clsa_mm.engine.hooks.momentum_queue_hook import ema_momentum
from clsa_mm.registry import HOOKS
from test_models.clsa_helpers import tiny_clsa


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
    hook = MomentumQueueHook()
    with pytest.raises(ValueError, match=r'queue length 10 is not a '
                       r'multiple of the global batch size 4'):
        hook.before_train(fake_runner(tiny_clsa(queue_len=10)))
    hook.before_train(fake_runner(tiny_clsa(queue_len=12)))


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


def test_needs_clsa_model():
    with pytest.raises(TypeError, match=re.escape(
            'MomentumQueueHook needs a CLSA model, got Linear without '
            '`encoder_k`')):
        MomentumQueueHook().before_train(fake_runner(torch.nn.Linear(2, 2)))


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
            'The queue length 8 is not a multiple of the global batch size '
            '6 (6 per process x 1 processes). Set model.queue_len to a '
            'multiple of 6 or change the batch size.')):
        MomentumQueueHook().before_train(runner)
    runner.model = tiny_clsa(queue_len=12)
    MomentumQueueHook().before_train(runner)


def test_queue_check_counts_every_process(monkeypatch):
    monkeypatch.setattr(momentum_queue_hook, 'get_world_size', lambda: 2)
    with pytest.raises(ValueError, match=re.escape(
            'The queue length 4 is smaller than the global batch size 8 (4 '
            'per process x 2 processes): a step would overwrite its own '
            'keys. Set model.queue_len to a multiple of 8.')):
        MomentumQueueHook().before_train(fake_runner(tiny_clsa(queue_len=4)))
    MomentumQueueHook().before_train(fake_runner(tiny_clsa(queue_len=8)))


def test_wrapped_model():
    """A model wrapper (DataParallel here, DDP in distributed runs): the
    hook works on the CLSA model inside."""
    model = tiny_clsa(queue_len=8)
    runner = fake_runner(torch.nn.DataParallel(model))
    runner.message_hub.update_info('max_iters', runner.max_iters)
    hook = MomentumQueueHook(cosine=True)
    hook.before_train(runner)
    assert isinstance(model.encoder_k, CosineEMA)
    model.queue_ptr.fill_(4)
    hook.after_train_iter(runner, 0)
    assert runner.message_hub.get_scalar('train/queue_ptr').current() == 4


@pytest.mark.parametrize('cosine', [False, True])
def test_momentum_schedule(cosine):
    """The momentum of update t (0-based) of 10 is 0.004 or, annealed,
    0.004 · (cos(π t / 10) + 1) / 2; logged as train/ema_momentum."""
    model = tiny_clsa(queue_len=8, momentum=0.004)
    runner = fake_runner(model)
    runner.message_hub.update_info('max_iters', runner.max_iters)
    hook = MomentumQueueHook(cosine=cosine)
    hook.before_train(runner)
    assert isinstance(model.encoder_k, CosineEMA) == cosine
    online = torch.nn.Sequential(model.backbone, model.neck)
    param = next(model.encoder_k.parameters())
    for it, cosine_value in [(0, 0.004), (1, 0.004 * (math.cos(math.pi / 10)
                                                      + 1) / 2)]:
        runner.iter = it
        before = param.detach().clone()
        source = next(online.parameters()).detach().clone()
        with torch.no_grad():
            next(online.parameters()).add_(1.0)
            source += 1.0
        model.encoder_k.update_parameters(online)
        hook.after_train_iter(runner, it)
        expected = cosine_value if cosine else 0.004
        logged = runner.message_hub.get_scalar('train/ema_momentum')
        assert math.isclose(logged.current(), expected, abs_tol=1e-12)
        if it > 0:  # the first update copies
            torch.testing.assert_close(
                param, (1 - expected) * before + expected * source)


def test_cosine_schedule_end():
    model = tiny_clsa(queue_len=8, momentum=0.004)
    runner = fake_runner(model)
    runner.message_hub.update_info('max_iters', 10)
    MomentumQueueHook(cosine=True).before_train(runner)
    model.encoder_k.steps.fill_(6)  # the last update was number 5
    assert math.isclose(ema_momentum(model.encoder_k), 0.002, abs_tol=1e-12)
    model.encoder_k.steps.fill_(11)
    assert math.isclose(ema_momentum(model.encoder_k), 0.0, abs_tol=1e-12)


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
        custom_hooks=[MomentumQueueHook(cosine=True)])
    runner.train()
    assert int(model.queue_ptr) == 0  # 4 steps of 4 keys in a queue of 8
    assert isinstance(model.encoder_k, CosineEMA)
    assert int(model.encoder_k.steps) == 4
    assert ema_momentum(model.encoder_k) == pytest.approx(
        0.001 * (math.cos(math.pi * 3 / 4) + 1) / 2)
    log = open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]).read()
    for name in ('queue_ptr', 'pos_sim', 'neg_sim', 'ddm_entropy',
                 'loss_contrastive', 'loss_ddm', 'ema_momentum'):
        assert f'{name}: ' in log, name
    assert 'Iter(train) [4/4]' in log
