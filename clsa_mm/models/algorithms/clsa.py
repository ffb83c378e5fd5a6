from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank
from mmengine.model import ExponentialMovingAverage
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS, clsa_mm_scope
from ..utils import EmbeddingQueue, OnlineProbeMixin


@MODELS.register_module()
class CLSA(OnlineProbeMixin, BaseSelfSupervisor, EmbeddingQueue):
    """CLSA: Contrastive Learning with Stronger Augmentations.

    `Wang & Qi, TPAMI 2022 <https://arxiv.org/abs/2104.07713>`_; the exact
    method is in ``docs/method.md``. :meth:`loss` takes the views
    ``[x_k, x_q[0], ..., x_q[I-1], x_s[0], ..., x_s[J-1]]`` (each a batch
    N×3×h×w): the key, I = ``num_weak_views`` weak queries and J =
    ``num_strong_views`` strong views, and refuses any other count. Each
    view goes through the encoder on its own, so every BatchNorm batch is
    one view, as in the reference code. The key encoder ``encoder_k`` is an
    EMA of ``(backbone, neck)``, updated once per step before the keys are
    computed (shuffle-BN across ranks); the head scores the queries and
    strong views against the gathered keys and the queue (an
    :class:`EmbeddingQueue`), into which the keys go after the loss.

    With ``symmetric=True`` both 224 views are query and key
    (``docs/method_ddm.md``): the online encoder also embeds ``x_k`` as the
    extra query ``q'``, the key encoder ``x_q[0]`` as ``K2all`` (row n:
    sample n), ``[q', q_1, ..., q_{I-1}]`` are scored against ``[K2all;
    Q]`` too, the two groups' losses add, their statistics average, and
    ``K2all`` (not ``Kall``) is enqueued.

    Args:
        backbone (dict): The encoder f (``ResNet``).
        neck (dict): The projector g (``MoCoV2Neck``).
        head (dict): The loss head (``DDMHead``).
        num_weak_views (int): The number I of weak queries. Defaults to 1.
        num_strong_views (int, optional): The number J of strong views.
            Defaults to None (I, as the paper's 1 + 1 and 5 + 5 views).
        queue_len (int): The queue length K; a multiple of the global batch.
            Defaults to 65536.
        feat_dim (int): The embedding dimension d. Defaults to 128.
        momentum (float): The EMA momentum of the key encoder (1 - decay).
            Defaults to 0.001.
        symmetric (bool): The symmetric loss (``docs/method_ddm.md``).
            Defaults to False.
        online_probe (dict, optional): A linear probe on the detached
            backbone output of ``x_q[0]`` (:class:`OnlineProbeMixin`), e.g.
            ``dict(num_classes=1000)``. Defaults to None (none).
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
                 num_strong_views: Optional[int] = None,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 symmetric: bool = False,
                 online_probe: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        # clsa_mm's registry (it falls back to mmpretrain's) finds DDMHead.
        backbone, neck, head = (MODELS.build(cfg) if isinstance(cfg, dict)
                                else cfg for cfg in (backbone, neck, head))
        super().__init__(backbone, neck, head, pretrained=pretrained,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.num_weak_views = num_weak_views
        self.num_strong_views = (num_weak_views if num_strong_views is None
                                 else num_strong_views)
        for key in ('num_weak_views', 'num_strong_views'):
            value = getattr(self, key)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(
                    f'model.{key} must be an int >= 1, got {value!r}')
        self.symmetric = symmetric
        self.encoder_k = ExponentialMovingAverage(
            nn.Sequential(self.backbone, self.neck), momentum)
        self.init_queue(feat_dim, queue_len)
        self.init_online_probe(online_probe)

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor]:
        """The backbone features of a batch N×3×h×w."""
        return self.backbone(inputs)

    def _split_views(self, inputs: Sequence[torch.Tensor]) -> tuple:
        weak, strong = self.num_weak_views, self.num_strong_views
        expected = (f'[x_k, x_q[0..{weak - 1}], x_s[0..{strong - 1}]] (the '
                    f'key, model.num_weak_views={weak} weak queries and '
                    f'model.num_strong_views={strong} strong views)')
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(f'CLSA expects the list of views {expected}, '
                            f'got {type(inputs).__name__}')
        if len(inputs) != 1 + weak + strong:
            raise ValueError(
                f'CLSA expects {1 + weak + strong} views {expected}, but the '
                f'data pipeline gave {len(inputs)}. Set model.num_weak_views '
                'and model.num_strong_views to the views of the pipeline (a '
                'multi-crop pipeline needs a multi-crop config).')
        if len({x.shape[0] for x in inputs}) != 1:
            raise ValueError('All views must hold the same samples; batch '
                             f'sizes {[x.shape[0] for x in inputs]}')
        return inputs[0], list(inputs[1:1 + weak]), list(inputs[1 + weak:])

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.neck(self.backbone(x))[0])  # over dim 1

    @torch.no_grad()
    def _keys(self, *ims_k: torch.Tensor) -> List[torch.Tensor]:
        """Update the key encoder, then return the keys of all ranks of each
        batch in ``ims_k``."""
        self.encoder_k.update_parameters(
            nn.Sequential(self.backbone, self.neck))
        keys = []
        for im_k in ims_k:
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = F.normalize(self.encoder_k(im_k)[0].float(), dim=1)
            k = batch_unshuffle_ddp(k, idx_unshuffle)
            keys.append(torch.cat(all_gather(k), dim=0))
        return keys

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The head's losses and statistics of one training step on the
        views ``[x_k, x_q[0..I-1], x_s[0..J-1]]`` (``data_samples``: the
        labels of the online probe, if any)."""
        im_k, ims_q, ims_s = self._split_views(inputs)
        if not self.queue_started:
            self.start_queue(im_k.shape[0])
        feats = self.backbone(ims_q[0])  # also the online probe's input
        queries = [F.normalize(self.neck(feats)[0])]
        queries += [self._embed(x) for x in ims_q[1:]]
        strongs = [self._embed(x) for x in ims_s]
        rank = get_rank()
        probe = self.online_probe_loss(feats, data_samples)
        if not self.symmetric:
            keys, = self._keys(im_k)
            losses = self.head.loss(queries, strongs, keys, self.queue, rank)
            self.enqueue(keys)
            return dict(losses, **probe)
        query_k = self._embed(im_k)
        keys, keys2 = self._keys(im_k, ims_q[0])
        losses = self.head.loss(queries, strongs, keys, self.queue, rank)
        losses2 = self.head.loss([query_k] + queries[1:], strongs, keys2,
                                 self.queue, rank)
        for name, value in losses2.items():  # losses add, statistics average
            losses[name] = (losses[name] + value) / (
                1 if name.startswith('loss') else 2)
        self.enqueue(keys2)
        return dict(losses, **probe)
