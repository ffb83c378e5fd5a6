from typing import Optional, Union

import torch
from mmengine.dataset import InfiniteSampler
from mmengine.hooks import Hook
from mmengine.model import ExponentialMovingAverage, is_model_wrapper
from mmpretrain.models.utils import CosineEMA

from clsa_mm.models.utils import EmbeddingQueue
from clsa_mm.registry import HOOKS


def ema_momentum(ema: ExponentialMovingAverage) -> float:
    """The momentum of the last update of ``ema``.

    Its ``momentum`` attribute, or for a :class:`CosineEMA` the momentum
    found by running its own update rule once on a scalar (0 averaged with 1
    gives the momentum), so the schedule lives in mmpretrain's class only.

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
    """Momentum and queue bookkeeping of a model with a key encoder or queue.

    Serves every model with a momentum encoder (an
    ``ExponentialMovingAverage`` child: CLSA's ``encoder_k``, MoCo v3's
    ``momentum_encoder``, BYOL's ``target_net``) or an
    :class:`~clsa_mm.models.utils.EmbeddingQueue` (CLSA, BYOLDDM). The
    momentum schedule is the EMA class's: constant for
    ``ExponentialMovingAverage``, annealed by mmpretrain's ``CosineEMA``.

    - ``before_train``: starts the model's queue with the loader's batch
      size (the model's own check of ``model.queue_len`` against the global
      batch, then rank 0's queue on every rank), so that a bad length stops
      the run before the first iteration, and refuses a loader that would
      yield a smaller last batch (``drop_last=False``).
    - ``after_train_iter``: writes ``train/ema_momentum`` (the momentum of
      this step's update) and ``train/queue_ptr`` to the message hub, so
      that they appear in the logs. The loss statistics travel in the
      model's loss dict instead.
    """

    priority = 'NORMAL'

    @staticmethod
    def _model(runner):
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        emas = [m for m in model.children()
                if isinstance(m, ExponentialMovingAverage)]
        if not emas and not isinstance(model, EmbeddingQueue):
            raise TypeError(
                'MomentumQueueHook needs a model with a momentum encoder (an '
                'ExponentialMovingAverage) or an EmbeddingQueue, got '
                f'{type(model).__name__}')
        return model, emas[0] if emas else None

    def before_train(self, runner) -> None:
        model, _ = self._model(runner)
        if not isinstance(model, EmbeddingQueue):
            return
        loader = runner.train_dataloader
        # loader.batch_size is None with a custom batch sampler.
        batch_size = loader.batch_sampler.batch_size
        model.start_queue(batch_size)
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
        model, ema = self._model(runner)
        hub = runner.message_hub
        if ema is not None:
            hub.update_scalar('train/ema_momentum', ema_momentum(ema))
        if isinstance(model, EmbeddingQueue):
            hub.update_scalar('train/queue_ptr', int(model.queue_ptr))
