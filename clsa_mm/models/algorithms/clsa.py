from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, broadcast, get_rank, get_world_size
from mmengine.model import ExponentialMovingAverage
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS, clsa_mm_scope


@MODELS.register_module()
class CLSA(BaseSelfSupervisor):
    """CLSA: Contrastive Learning with Stronger Augmentations.

    `Wang & Qi, TPAMI 2022 <https://arxiv.org/abs/2104.07713>`_; the exact
    method is in ``docs/method.md``. :meth:`loss` takes the views
    ``[x_k, x_q[0], ..., x_q[I-1], x_s[0], ..., x_s[J-1]]`` (each a batch
    N×3×h×w): the key, I weak queries and J = ``len(inputs) - 1 - I`` ≥ 1
    strong views. Each view goes through the encoder on its own, so every
    BatchNorm batch is one view, as in the reference code. The key encoder
    ``encoder_k`` is an EMA of ``(backbone, neck)``, updated once per step
    before the keys are computed (shuffle-BN across ranks); the gathered keys
    are enqueued after the loss; rank 0's queue is broadcast at the first
    step, so all ranks hold the same queue.

    With ``symmetric=True`` both 224 views are query and key: besides the
    loss above, the key view is also embedded by the online encoder as the
    extra weak query ``q'``, and ``x_q[0]`` by the key encoder (same EMA
    update, shuffle-BN, gathered) as ``K2all``, whose row n is the key of
    sample n (the released code's K2 rows are shuffled; see
    ``docs/method_ddm.md``). ``[q', q_1, ..., q_{I-1}]`` are scored against
    ``[K2all; Q]`` with the same head, the two groups' losses are added, and
    ``K2all`` (not ``Kall``) is enqueued. The statistics are the means of
    the two groups'.

    Args:
        backbone (dict): The encoder f (``ResNet``).
        neck (dict): The projector g (``MoCoV2Neck``).
        head (dict): The loss head (``DDMHead``).
        num_weak_views (int): The number I of weak queries. Defaults to 1.
        queue_len (int): The queue length K; a multiple of the global batch.
            Defaults to 65536.
        feat_dim (int): The embedding dimension d. Defaults to 128.
        momentum (float): The EMA momentum of the key encoder (1 - decay).
            Defaults to 0.001.
        symmetric (bool): The symmetric loss (``docs/method_ddm.md``).
            Defaults to False.
        channels_last (bool): Run the encoders in channels-last memory
            format. Defaults to False.
        pretrained (str, optional): A checkpoint to initialise from.
            Defaults to None.
        data_preprocessor (dict, optional): The data preprocessor config.
            Defaults to None (``SelfSupDataPreprocessor``).
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    @clsa_mm_scope()
    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 num_weak_views: int = 1,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 symmetric: bool = False,
                 channels_last: bool = False,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        # Build with the clsa_mm registry (which falls back to mmpretrain's),
        # so that DDMHead resolves without a clsa_mm default scope.
        backbone, neck, head = (MODELS.build(cfg) if isinstance(cfg, dict)
                                else cfg for cfg in (backbone, neck, head))
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if num_weak_views < 1:
            raise ValueError(
                f'num_weak_views must be at least 1, got {num_weak_views}')
        if queue_len < 1:
            raise ValueError(
                f'model.queue_len must be at least 1, got {queue_len}')
        self.num_weak_views = num_weak_views
        self.symmetric = symmetric
        self.channels_last = channels_last
        if channels_last:
            self.backbone.to(memory_format=torch.channels_last)
        self.encoder_k = ExponentialMovingAverage(
            nn.Sequential(self.backbone, self.neck), momentum)

        self.queue_len = queue_len
        self.register_buffer(
            'queue', F.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
        self._queue_synced = False

    def check_queue_len(self, batch_size: int, world_size: int = 1) -> None:
        """Raise a ValueError unless the queue holds whole global batches.

        Args:
            batch_size (int): The batch size per process N.
            world_size (int): The number of processes W. Defaults to 1.
        """
        total = batch_size * world_size
        if self.queue_len < total:
            raise ValueError(
                f'The queue length {self.queue_len} is smaller than the '
                f'global batch size {total} ({batch_size} per process x '
                f'{world_size} processes): a step would overwrite its own '
                f'keys. Set model.queue_len to a multiple of {total}.')
        if self.queue_len % total:
            raise ValueError(
                f'The queue length {self.queue_len} is not a multiple of the '
                f'global batch size {total} ({batch_size} per process x '
                f'{world_size} processes). Set model.queue_len to a multiple '
                f'of {total} or change the batch size.')

    def _to_format(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor]:
        """The backbone features of a batch N×3×h×w."""
        return self.backbone(self._to_format(inputs))

    def _split_views(
        self, inputs: Sequence[torch.Tensor]
    ) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        num_weak = self.num_weak_views
        expected = (f'[x_k, x_q[0..{num_weak - 1}], x_s[0..J-1]] with '
                    f'num_weak_views={num_weak} weak queries and J >= 1 '
                    'strong views')
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f'CLSA expects the list of views {expected}, '
                            f'got {type(inputs).__name__}')
        if len(inputs) < num_weak + 2:
            raise ValueError(
                f'CLSA expects the views {expected}, i.e. at least '
                f'{num_weak + 2} batches, but got {len(inputs)}. Check '
                'model.num_weak_views against the data pipeline.')
        sizes = [x.shape[0] for x in inputs]
        if len(set(sizes)) != 1:
            raise ValueError(
                f'All views must hold the same samples; batch sizes {sizes}')
        return (inputs[0], list(inputs[1:1 + num_weak]),
                list(inputs[1 + num_weak:]))

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        x = self.neck(self.backbone(self._to_format(x)))[0]
        return F.normalize(x)  # over dim 1

    @torch.no_grad()
    def _keys(self, *ims_k: torch.Tensor) -> List[torch.Tensor]:
        """Update the key encoder, then return the keys of all ranks of each
        batch in ``ims_k``."""
        self.encoder_k.update_parameters(
            nn.Sequential(self.backbone, self.neck))
        keys = []
        for im_k in ims_k:
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = self.encoder_k(self._to_format(im_k))[0]
            k = F.normalize(k.float(), dim=1)
            k = batch_unshuffle_ddp(k, idx_unshuffle)
            keys.append(torch.cat(all_gather(k), dim=0))
        return keys

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys: torch.Tensor) -> None:
        """Write ``keys`` at the queue pointer and advance it."""
        idx = (self.queue_ptr + torch.arange(
            keys.shape[0], device=keys.device)) % self.queue_len
        self.queue.index_copy_(1, idx, keys.t().to(self.queue.dtype))
        self.queue_ptr.add_(keys.shape[0]).remainder_(self.queue_len)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one training step.

        Args:
            inputs (list[Tensor]): The views
                ``[x_k, x_q[0..I-1], x_s[0..J-1]]``, each N×3×h×w.
            data_samples (list[DataSample]): Unused.

        Returns:
            dict[str, Tensor]: ``loss_contrastive``, ``loss_ddm`` and the
            detached statistics ``pos_sim``, ``neg_sim``, ``ddm_entropy``.
        """
        im_k, ims_q, ims_s = self._split_views(inputs)
        self.check_queue_len(im_k.shape[0], get_world_size())
        if not self._queue_synced:
            # Ranks seeded differently start with different random queues
            # (DDP with broadcast_buffers=False does not sync buffers).
            broadcast(self.queue, src=0)
            self._queue_synced = True
        queries = [self._embed(x) for x in ims_q]
        strongs = [self._embed(x) for x in ims_s]
        rank = get_rank()
        if not self.symmetric:
            keys, = self._keys(im_k)
            losses = self.head.loss(queries, strongs, keys, self.queue, rank)
            self._dequeue_and_enqueue(keys)
            return losses
        query_k = self._embed(im_k)
        keys, keys2 = self._keys(im_k, ims_q[0])
        losses = self.head.loss(queries, strongs, keys, self.queue, rank)
        losses2 = self.head.loss([query_k] + queries[1:], strongs, keys2,
                                 self.queue, rank)
        for name, value in losses2.items():
            if name.startswith('loss'):
                losses[name] = losses[name] + value
            else:
                losses[name] = (losses[name] + value) / 2
        self._dequeue_and_enqueue(keys2)
        return losses
