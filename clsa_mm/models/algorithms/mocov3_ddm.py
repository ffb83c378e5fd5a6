from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank
from mmpretrain.models import MoCoV3
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS
from ..utils import TwoCropDDM


@MODELS.register_module()
class MoCoV3DDM(TwoCropDDM, MoCoV3):
    """MoCo v3 with CLSA's distributional divergence minimisation (DDM).

    :meth:`loss` takes the views ``[x_1, x_2, x_s[0], ..., x_s[J-1]]``
    (each N×3×h×w; J = ``num_strong_views``) and computes mmpretrain's
    :class:`MoCoV3` loss step by step, as its ``loss()`` and
    ``MoCoV3Head.loss`` do: each crop goes through backbone and neck on its
    own (one BatchNorm batch per crop), the momentum encoder (a
    ``CosineEMA``) is updated once, then embeds both crops; with
    ``a_c = normalize(pred(g(f(x_c))))`` and ``K_call`` the L2-normalised
    momentum keys of crop c gathered from all ranks (B×d; row ``r·N + n`` is
    sample n of rank r), the base loss (``loss_contrastive``; ``loss`` when
    J = 0) is::

        2T · Σ_c CE(a_c · K_{c'}allᵀ / T, rank·N + n),   c' = the other crop

    DDM (``ddm_head``) scores every strong view, through backbone, neck and
    predictor on its own, ``s_j = normalize(pred(g(f(x_s[j]))))``, against
    the same banks: one bank ``[K_1all; K_2all]``, of which anchor ``a_c``
    leaves out its own crop's keys::

        p_c = softmax(stopgrad(a_c · K_{c'}allᵀ) / T2)
        L_D = Σ_c Σ_j mean_n(-Σ p_c · log_softmax(s_j · K_{c'}allᵀ / T2))

    ``loss_ddm = β · L_D``. With no strong views the model is MoCoV3. Also
    returned (detached, logged): ``pos_sim`` and ``neg_sim`` (mean cosine
    similarity of an anchor and its own key / the other keys of its bank)
    and ``ddm_entropy``.

    Args:
        backbone (dict): The encoder (``ResNet`` or ``MoCoV3ViT``).
        neck (dict): The projector (``NonLinearNeck``).
        head (dict): ``MoCoV3Head`` with its predictor and temperature T.
        base_momentum (float): The start momentum of the momentum encoder
            (1 - decay), annealed to 0 by ``CosineEMA``. Defaults to 0.01.
        **kwargs: ``ddm_head`` (the ``DDMHead``, T2 and β) and
            ``num_strong_views`` (J, default 1) of :class:`TwoCropDDM`, and
            mmpretrain's ``pretrained``, ``data_preprocessor``, ``init_cfg``.
    """

    def _predict(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``normalize(pred(g(feats)))`` of the online branch, ``feats =
        f(x)``."""
        return F.normalize(self.head.predictor([self.neck(feats)[0]])[0])

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one step on ``[x_1, x_2, x_s[0..J-1]]``
        (``data_samples``: the online probe's labels, if any): MoCo v3's
        ``loss``, named ``loss_contrastive`` beside ``loss_ddm`` (β applied),
        ``pos_sim``, ``neg_sim`` and ``ddm_entropy`` when there are strong
        views."""
        crops, strongs, n = self.split_views(inputs)
        # MoCoV3.loss and MoCoV3Head.loss, written out.
        feats = [self.backbone(x) for x in crops]  # feats[0]: the probe's
        anchors = [self._predict(f) for f in feats]
        probe = self.online_probe_loss(feats[0], data_samples)
        with torch.no_grad():
            self.momentum_encoder.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            keys = [
                torch.cat(all_gather(F.normalize(self.momentum_encoder(x)[0])))
                for x in crops
            ]
        rank = get_rank()
        sims = [torch.einsum('nc,mc->nm', [anchors[c], keys[1 - c]])
                for c in range(2)]
        labels = torch.arange(n, device=keys[0].device) + n * rank
        loss = sum(self.head.loss_module(sim / self.head.temperature, labels)
                   for sim in sims)
        if not strongs:
            return dict(loss=loss, **probe)
        # DDM over [K_1all; K_2all]; anchor c leaves out K_call.
        bank = torch.cat(keys).t()  # d × 2B
        b = bank.shape[1] // 2
        own_crop = [torch.arange(c * b, (c + 1) * b, device=labels.device)
                    .expand(n, b) for c in range(2)]
        losses = self.ddm_head.ddm(
            anchors, [self._predict(self.backbone(x)) for x in strongs], bank,
            excluded=own_crop)
        with torch.no_grad():
            sim = torch.cat(sims).float()  # row n's own key: column rank·N+n
            pos = torch.cat([s.diagonal(rank * n) for s in sims]).float()
            neg = (sim.sum(dim=1) - pos) / (b - 1)
        return dict(loss_contrastive=loss, pos_sim=pos.mean(),
                    neg_sim=neg.mean(), **losses, **probe)
