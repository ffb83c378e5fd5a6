from typing import Optional, Union

import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import ExponentialMovingAverage, is_model_wrapper
from mmpretrain.models.utils import CosineEMA

from clsa_mm.registry import HOOKS


def ema_momentum(ema: ExponentialMovingAverage) -> float:
    """The momentum of the last update of ``ema``.

    For a :class:`CosineEMA` it is found by running its own update rule
    once on a scalar (0 averaged with 1 gives the momentum), so the
    schedule lives in mmpretrain's class only.

    Args:
        ema (ExponentialMovingAverage): The averaged model.
    """
    if not isinstance(ema, CosineEMA):
        return float(ema.momentum)
    averaged = torch.zeros((), dtype=torch.float64)
    ema.avg_func(averaged, torch.ones_like(averaged),
                 max(int(ema.steps) - 1, 0))
    return averaged.item()


@HOOKS.register_module()
class MomentumQueueHook(Hook):
    """Key-encoder momentum schedule and queue checks of :class:`CLSA`.

    - ``before_train``: raises a clear error if the queue is smaller than
      the global batch or not a multiple of it, or if the loader would
      yield a smaller last batch (``drop_last=False``), before the first
      iteration. With ``cosine=True`` it makes the key encoder a
      mmpretrain ``CosineEMA`` (same weights and step count), whose
      momentum at update ``t`` of ``T`` training iterations is
      ``m_t = m_0 · (cos(π t / T) + 1) / 2``: the decay ``1 - m_t`` goes
      from ``1 - m_0`` to 1.0. Otherwise the model's ``momentum`` stays
      constant.
    - ``after_train_iter``: writes ``train/queue_ptr`` and
      ``train/ema_momentum`` (the momentum of this step's update) to the
      message hub, so that they appear in the logs. The loss statistics
      (``pos_sim``, ``neg_sim``, ``ddm_entropy``) travel in the model's
      loss dict instead.

    Args:
        cosine (bool): Anneal the momentum with a half cosine. Defaults to
            False.
    """

    priority = 'NORMAL'

    def __init__(self, cosine: bool = False) -> None:
        self.cosine = cosine

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        for name in ('encoder_k', 'queue_ptr', 'check_queue_len'):
            if not hasattr(model, name):
                raise TypeError(
                    f'MomentumQueueHook needs a CLSA model, got '
                    f'{type(model).__name__} without `{name}`')
        if self.cosine and not isinstance(model.encoder_k, CosineEMA):
            # CosineEMA only adds its end momentum to ExponentialMovingAverage
            # (same parameters, buffers and step count).
            model.encoder_k.__class__ = CosineEMA
            model.encoder_k.end_momentum = 0.

        loader = runner.train_dataloader
        # loader.batch_size is None with a custom batch sampler.
        batch_size = loader.batch_sampler.batch_size
        world_size = get_world_size()
        model.check_queue_len(batch_size, world_size)
        if loader.drop_last or isinstance(loader.sampler, InfiniteSampler):
            return
        num_samples = len(loader.sampler)
        if num_samples % batch_size:
            raise ValueError(
                f'Each process draws {num_samples} samples per epoch, not a '
                f'multiple of its batch size {batch_size}: the last batch '
                'would not fill the queue slots of a global batch. Set '
                'train_dataloader.drop_last=True.')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Union[dict, tuple, list, None] = None,
                         outputs: Optional[dict] = None) -> None:
        model = self._model(runner)
        hub = runner.message_hub
        hub.update_scalar('train/queue_ptr', int(model.queue_ptr))
        hub.update_scalar('train/ema_momentum', ema_momentum(model.encoder_k))
