import os.path as osp

import crash_safety_plugin  # noqa: F401  (registers the toy model)
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from clsa_mm.engine.hooks import FiniteLossHook
from clsa_mm.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build_runner(work_dir, bad_at_call):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/default_runtime.py'))
    cfg.merge_from_dict(
        dict(
            work_dir=str(work_dir),
            model=dict(type='CrashTestQueueModel', nan_at_call=bad_at_call),
            train_dataloader=dict(
                batch_size=4,
                num_workers=0,
                dataset=dict(type='CrashTestVectors', num=16),
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            train_cfg=dict(by_epoch=True, max_epochs=3),
            default_hooks=dict(
                logger=dict(interval=1),
                checkpoint=dict(interval=1, max_keep_ckpts=-1))))
    return Runner.from_cfg(cfg)


def test_nan_loss_stops_training_naming_iteration_and_term(tmp_path):
    # 4 iterations per epoch; the queue loss is NaN from iteration 6 on.
    runner = build_runner(tmp_path, bad_at_call=6)
    with pytest.raises(FloatingPointError) as error:
        runner.train()
    message = str(error.value)
    assert 'Non-finite loss at iteration 6 (epoch 2, batch 2)' in message
    assert 'loss_queue=nan' in message
    assert 'loss_pos' not in message  # the finite term is not blamed
    assert f'the last checkpoint, {tmp_path}/epoch_1.pth' in message
    # It stopped at once: no checkpoint of the diverged weights.
    assert runner.iter == 5
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert not osp.exists(tmp_path / 'epoch_2.pth')


class _Runner:
    iter, epoch = 9, 0

    class message_hub:

        @staticmethod
        def get_info(key):
            return None


@pytest.mark.parametrize('value,shown', [(float('inf'), 'inf'),
                                         (float('-inf'), '-inf'),
                                         (float('nan'), 'nan')])
def test_every_loss_term_is_checked(value, shown):
    hook = FiniteLossHook()
    outputs = dict(
        loss=torch.tensor(value),
        loss_contrastive=torch.tensor(1.0),
        loss_ddm=torch.tensor([2.0, value]),
        accuracy=torch.tensor(float('nan')))  # not a loss: not checked
    with pytest.raises(FloatingPointError) as error:
        hook.after_train_iter(_Runner, 0, outputs=outputs)
    message = str(error.value)
    assert f'iteration 10 (epoch 1, batch 1): loss={shown}, ' \
        f'loss_ddm={shown}' in message
    assert 'loss_contrastive' not in message and 'accuracy' not in message


def test_finite_losses_pass():
    hook = FiniteLossHook()
    outputs = dict(loss=torch.tensor(3.0), loss_ddm=1.5,
                   accuracy=torch.tensor(float('nan')))
    hook.after_train_iter(_Runner, 0, outputs=outputs)
