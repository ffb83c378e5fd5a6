"""MomentumQueueHook: momentum schedule, queue checks, logged statistics."""
import glob
import math
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from clsa_mm.engine import MomentumQueueHook
from clsa_mm.registry import HOOKS
from test_models.clsa_helpers import tiny_clsa


def fake_runner(model, num_samples=8, batch_size=4, drop_last=True):
    loader = DataLoader(list(range(num_samples)), batch_size=batch_size,
                        drop_last=drop_last)
    return SimpleNamespace(
        model=model, train_dataloader=loader, iter=0, max_iters=10,
        message_hub=MessageHub.get_instance('test_momentum_queue_hook'))


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
    with pytest.raises(ValueError, match='10 samples .* batch size 4.*'
                       'drop_last=True'):
        hook.before_train(fake_runner(tiny_clsa(queue_len=8),
                                      num_samples=10, drop_last=False))
    hook.before_train(fake_runner(tiny_clsa(queue_len=8), num_samples=12,
                                  drop_last=False))


def test_needs_clsa_model():
    with pytest.raises(TypeError, match='needs a CLSA model'):
        MomentumQueueHook().before_train(fake_runner(torch.nn.Linear(2, 2)))


@pytest.mark.parametrize('cosine', [False, True])
def test_momentum_schedule(cosine):
    model = tiny_clsa(queue_len=8, momentum=0.004)
    runner = fake_runner(model)
    hook = MomentumQueueHook(cosine=cosine)
    hook.before_train(runner)
    for it, cosine_value in [(0, 0.004), (5, 0.002), (10, 0.0)]:
        runner.iter = it
        hook.before_train_iter(runner, it)
        expected = cosine_value if cosine else 0.004
        assert math.isclose(model.encoder_k.momentum, expected,
                            abs_tol=1e-12)


def test_logs_statistics():
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
    for name in ('pos_sim', 'neg_sim', 'ddm_entropy'):
        assert hub.get_scalar(f'train/{name}').current() == pytest.approx(
            model.stats[name].item())


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
    assert model.encoder_k.momentum == pytest.approx(
        0.001 * (math.cos(math.pi * 3 / 4) + 1) / 2)
    log = open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]).read()
    for name in ('queue_ptr', 'pos_sim', 'neg_sim', 'ddm_entropy',
                 'loss_contrastive', 'loss_ddm', 'ema_momentum'):
        assert f'{name}: ' in log, name
    assert 'Iter(train) [4/4]' in log
