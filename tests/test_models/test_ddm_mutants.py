"""Behaviours of the DDM methods and their queue that the other tests left
open: a queue of length 0, the hook on a queue-only model, where a bad
DDMHead setting is said to live, and BYOL + DDM's default queue."""
import uuid
from types import SimpleNamespace

import pytest
import torch

from clsa_mm.engine import MomentumQueueHook
from clsa_mm.models import BYOLDDM, DDMHead
from clsa_mm.models.utils import EmbeddingQueue
from simclr_byol_helpers import BACKBONE, own_message_hub, tiny_byol, views


class QueueOnly(torch.nn.Module, EmbeddingQueue):
    """A model with an EmbeddingQueue and no momentum encoder."""

    def __init__(self, queue_len):
        super().__init__()
        self.init_queue(4, queue_len)


def test_queue_len_0_is_no_queue():
    """K = 0 is documented as "no queue": it builds, and BYOL + DDM trains
    against the gathered targets only."""
    assert QueueOnly(0).queue.shape == (4, 0)
    assert QueueOnly(8).queue_started is False
    own_message_hub(f'test_ddm_mutants_{uuid.uuid4().hex}')
    model = tiny_byol(queue_len=0)
    losses = model.loss(views(), [])
    assert torch.isfinite(losses['loss_ddm'])
    assert model.queue.shape == (32, 0)
    assert int(model.queue_ptr) == 0
    with pytest.raises(ValueError, match=r'model.queue_len must be an int '
                       r'>= 0, got -1'):
        QueueOnly(-1)


def test_hook_logs_the_queue_of_a_model_without_momentum_encoder():
    model = QueueOnly(8)
    model.enqueue(torch.randn(2, 4))
    runner = SimpleNamespace(model=model, message_hub=own_message_hub(
        f'test_ddm_mutants_{uuid.uuid4().hex}'))
    MomentumQueueHook().after_train_iter(runner, 0)
    hub = runner.message_hub
    assert hub.get_scalar('train/queue_ptr').current() == 2
    assert 'train/ema_momentum' not in hub.log_scalars


@pytest.mark.parametrize('kwargs,key', [
    (dict(loss_weight=-1.), 'model.ddm_head.loss_weight'),
    (dict(ddm_temperature=0.), 'model.ddm_head.ddm_temperature'),
])
def test_bad_setting_says_where_it_sits_beside_a_base_method(kwargs, key):
    """DDMHead is also ``model.ddm_head`` of the DDM methods: the error
    names that key and the methods it applies to."""
    with pytest.raises(ValueError) as error:
        DDMHead(**kwargs)
    message = str(error.value)
    assert f"{key} beside a base method's head" in message
    for method in ('MoCoV3DDM', 'SimCLRDDM', 'BYOLDDM'):
        assert method in message



def test_byol_ddm_default_queue_fits_mmpretrain_byol():
    """Without queue_len and feat_dim, BYOL + DDM keeps the ImageNet
    recipe's queue: 65536 projections of mmpretrain BYOL's width, 256, and
    a step fills it."""
    own_message_hub(f'test_ddm_mutants_{uuid.uuid4().hex}')
    mlp = dict(type='NonLinearNeck', hid_channels=64, out_channels=256,
               num_layers=2, with_bias=True, with_last_bn=False,
               norm_cfg=dict(type='BN1d'))
    model = BYOLDDM(
        backbone=BACKBONE,
        neck=dict(mlp, in_channels=64, with_avg_pool=True),
        head=dict(type='LatentPredictHead',
                  predictor=dict(mlp, in_channels=256, with_avg_pool=False),
                  loss=dict(type='CosineSimilarityLoss')),
        ddm_head=dict(type='DDMHead'))
    assert tuple(model.queue.shape) == (256, 65536)
    model.loss(views(batch=4), None)
    assert int(model.queue_ptr) == 8  # both crops' 4 targets
