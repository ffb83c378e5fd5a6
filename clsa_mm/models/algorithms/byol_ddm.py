from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather
from mmpretrain.models import BYOL
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS
from ..utils import EmbeddingQueue, TwoCropDDM


@MODELS.register_module()
class BYOLDDM(TwoCropDDM, BYOL, EmbeddingQueue):
    """BYOL with CLSA's distributional divergence minimisation (DDM).

    :meth:`loss` takes the views ``[x_1, x_2, x_s[0], ..., x_s[J-1]]``
    (each N×3×h×w; J = ``num_strong_views``) and computes mmpretrain's
    :class:`BYOL` loss step by step, as its ``loss()`` and
    ``LatentPredictHead.loss`` do: each crop goes through backbone and neck
    on its own (one BatchNorm batch per crop), the target network (a
    ``CosineEMA``) is updated once, then projects both crops to ``t_1,
    t_2``; the predictor gives ``p_1, p_2``, and the base loss
    (``loss_byol``; ``loss`` when J = 0) is ``2 · (L(p_1, t_2) + L(p_2,
    t_1))`` with the head's cosine loss.

    DDM (``ddm_head``) scores every strong view, through backbone, neck and
    predictor on its own, ``s_j = normalize(pred(g(f(x_s[j]))))``. With
    ``T_call`` the L2-normalised ``t_c`` of all ranks (row ``r·N + n`` is
    sample ``n`` of rank ``r``) and ``Q`` (d×K) a DDM-only queue of past
    target projections (an :class:`EmbeddingQueue`), the bank is
    ``[T_1all; T_2all; Q]``, of which anchor ``normalize(p_c)`` leaves out
    its own crop's targets, i.e. scores against ``R_c = [T_c'all; Q]``::

        p_c = softmax(stopgrad(normalize(p_c) · R_c) / T2)
        L_D = Σ_c Σ_j mean_n(-Σ p_c · log_softmax(s_j · R_c / T2))

    ``loss_ddm = β · L_D``. After the loss, ``[T_1all; T_2all]`` (2B
    columns) are enqueued. With no strong views the model is BYOL (no queue
    update).

    Args:
        backbone (dict): The encoder (``ResNet``).
        neck (dict): The projector (``NonLinearNeck``).
        head (dict): BYOL's ``LatentPredictHead`` (predictor and loss).
        base_momentum (float): The target network's EMA momentum at the
            start (``CosineEMA``). Defaults to 0.01.
        queue_len (int): The length K of the DDM queue; 0 or a multiple of
            twice the global batch. Defaults to 65536.
        feat_dim (int): The projection dimension d. Defaults to 256.
        **kwargs: ``ddm_head`` (the ``DDMHead``, T2 and β) and
            ``num_strong_views`` (J, default 1) of :class:`TwoCropDDM`, and
            mmpretrain's ``pretrained``, ``data_preprocessor``, ``init_cfg``.
    """

    def __init__(self,
                 base_momentum: float = 0.01,
                 queue_len: int = 65536,
                 feat_dim: int = 256,
                 **kwargs) -> None:
        super().__init__(base_momentum=base_momentum, **kwargs)
        # Each step enqueues both crops' target projections.
        self.init_queue(feat_dim, queue_len, views_per_step=2)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one step on ``[x_1, x_2, x_s[0..J-1]]``
        (``data_samples``: the online probe's labels, if any): BYOL's
        ``loss``, named ``loss_byol`` beside ``loss_ddm`` (β applied) and
        ``ddm_entropy`` when there are strong views."""
        crops, strongs, n = self.split_views(inputs)
        if strongs and not self.queue_started:
            self.start_queue(n)
        # BYOL.loss and LatentPredictHead.loss, written out.
        feats = [self.backbone(x) for x in crops]  # feats[0]: the probe's
        projs = [self.neck(f)[0] for f in feats]
        probe = self.online_probe_loss(feats[0], data_samples)
        with torch.no_grad():
            self.target_net.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            targets = [self.target_net(x)[0] for x in crops]
        preds = [self.head.predictor([proj])[0] for proj in projs]
        loss = 2. * (self.head.loss_module(preds[0], targets[1]) +
                     self.head.loss_module(preds[1], targets[0]))
        if not strongs:
            return dict(loss=loss, **probe)
        # DDM over [T_1all; T_2all; Q]; anchor c leaves out T_call.
        target_all = torch.cat(
            [torch.cat(all_gather(F.normalize(t))) for t in targets])  # 2B×d
        if target_all.shape[1] != self.queue.shape[0]:
            raise ValueError(
                f'The projections have {target_all.shape[1]} dimensions but '
                f'the DDM queue has {self.queue.shape[0]}: set '
                'model.feat_dim to the neck\'s out_channels.')
        b = target_all.shape[0] // 2
        own_crop = [torch.arange(c * b, (c + 1) * b, device=loss.device)
                    .expand(n, b) for c in range(2)]
        bank = torch.cat(
            [target_all.t(), self.queue.to(target_all.dtype)], dim=1)
        strong = [F.normalize(self.head.predictor(
            [self.neck(self.backbone(x))[0]])[0]) for x in strongs]
        losses = self.ddm_head.ddm([F.normalize(p) for p in preds], strong,
                                   bank, excluded=own_crop)
        self.enqueue(target_all)
        return dict(loss_byol=loss, **losses, **probe)
