from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmpretrain.models import MoCo
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS, clsa_mm_scope
from ..utils import OnlineProbeMixin


@MODELS.register_module()
class MoCoWithProbe(OnlineProbeMixin, MoCo):
    """mmpretrain's :class:`MoCo` (v2) with an optional online linear probe.

    :meth:`loss` is ``MoCo.loss`` written out, step for step, so that the
    backbone output of the query ``x_q = inputs[0]`` is at hand: with
    ``online_probe`` a linear classifier on that output, detached
    (:class:`OnlineProbeMixin`), adds ``online_probe/loss`` and
    ``online_probe/top1``. Without it the model is ``MoCo``: same views
    ``[x_q, x_k]``, key encoder update, shuffle-BN, logits
    ``[q·k, q·Q] / T`` and queue.

    Args:
        online_probe (dict, optional): The online linear probe, e.g.
            ``dict(num_classes=1000)`` (:class:`OnlineProbeHead`). Defaults
            to None (none).
        **kwargs: mmpretrain's ``MoCo`` arguments: ``backbone``, ``neck``
            (``MoCoV2Neck``), ``head`` (``ContrastiveHead``, temperature T),
            ``queue_len``, ``feat_dim``, ``momentum`` (1 - decay),
            ``pretrained``, ``data_preprocessor``, ``init_cfg``.
    """

    @clsa_mm_scope()  # mmpretrain's __init__ builds the parts
    def __init__(self, online_probe: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.init_online_probe(online_probe)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """MoCo's ``loss`` (and the probe's) of the views ``[x_q, x_k]``."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError('MoCoWithProbe expects the two views [x_q, x_k] '
                             'per sample; make the pipeline give two views')
        im_q, im_k = inputs
        feats = self.backbone(im_q)  # also the online probe's input
        q = nn.functional.normalize(self.neck(feats)[0])
        with torch.no_grad():
            self.encoder_k.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = nn.functional.normalize(self.encoder_k(im_k)[0])
            k = batch_unshuffle_ddp(k, idx_unshuffle)
        l_pos = torch.einsum('nc,nc->n', [q, k]).unsqueeze(1)
        l_neg = torch.einsum('nc,ck->nk', [q, self.queue.clone().detach()])
        loss = self.head.loss(l_pos, l_neg)
        self._dequeue_and_enqueue(k)
        return dict(loss=loss, **self.online_probe_loss(feats, data_samples))
