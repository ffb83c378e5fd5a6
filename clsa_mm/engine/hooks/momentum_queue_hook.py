import math
from typing import Optional, Union

from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from clsa_mm.registry import HOOKS


@HOOKS.register_module()
class MomentumQueueHook(Hook):
    """EMA momentum, queue checks and statistics of :class:`CLSA`.

    - ``before_train``: raises a clear error if the queue length is not a
      multiple of the global batch, or if the loader would yield a smaller
      last batch (``drop_last=False``), before the first iteration.
    - ``before_train_iter``: sets the EMA momentum of the key encoder. It is
      the model's ``momentum`` (constant) by default; with ``cosine=True``
      it is annealed as in mmpretrain's ``CosineEMA``,
      ``m_t = m_0 · (cos(π t / T) + 1) / 2``, so the decay ``1 - m_t`` goes
      from ``1 - m_0`` to 1.0 over the ``T`` training iterations.
    - ``after_train_iter``: writes ``train/queue_ptr``,
      ``train/ema_momentum`` and the model's ``stats`` (``pos_sim``,
      ``neg_sim``, ``ddm_entropy``) to the message hub, so that they appear
      in the logs.

    Args:
        cosine (bool): Anneal the momentum with a half cosine. Defaults to
            False.
    """

    priority = 'NORMAL'

    def __init__(self, cosine: bool = False) -> None:
        self.cosine = cosine
        self.base_momentum: Optional[float] = None

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
        self.base_momentum = model.encoder_k.momentum

        loader = runner.train_dataloader
        batch_size = loader.batch_size
        if batch_size is None:  # a custom batch sampler
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

    def momentum_at(self, cur_iter: int, max_iters: int) -> float:
        """The EMA momentum of iteration ``cur_iter`` (0-based)."""
        if not self.cosine:
            return self.base_momentum
        return self.base_momentum * (
            math.cos(math.pi * cur_iter / max_iters) + 1) / 2

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Union[dict, tuple, list, None] = None
                          ) -> None:
        model = self._model(runner)
        model.encoder_k.momentum = self.momentum_at(runner.iter,
                                                    runner.max_iters)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Union[dict, tuple, list, None] = None,
                         outputs: Optional[dict] = None) -> None:
        model = self._model(runner)
        hub = runner.message_hub
        hub.update_scalar('train/queue_ptr', int(model.queue_ptr))
        hub.update_scalar('train/ema_momentum', model.encoder_k.momentum)
        for name, value in model.stats.items():
            hub.update_scalar(f'train/{name}', value)
