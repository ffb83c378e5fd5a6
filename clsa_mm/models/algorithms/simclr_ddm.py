from typing import Dict, List, Tuple

import torch
from mmengine.dist import get_rank
from mmpretrain.models import SimCLR
from mmpretrain.models.selfsup.simclr import GatherLayer
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS
from ..utils import TwoCropDDM


@MODELS.register_module()
class SimCLRDDM(TwoCropDDM, SimCLR):
    """SimCLR with CLSA's distributional divergence minimisation (DDM).

    :meth:`loss` takes the views ``[x_1, x_2, x_s[0], ..., x_s[J-1]]``
    (each N×3×h×w; J = ``num_strong_views``) and computes mmpretrain's
    :class:`SimCLR` loss step by step, as its ``loss()`` does: the two
    crops form one BatchNorm batch of 2N rows ``x_1[0], x_2[0], x_1[1],
    ...``, their embeddings ``z`` (the neck's output over its L2 norm +
    1e-10) are gathered from all ranks into ``Z`` (2B×d; row
    ``r·2N + 2n + c`` is crop ``c`` of sample ``n`` of rank ``r``), and the
    base loss (``loss_contrastive``; ``loss`` when J = 0) is NT-Xent at T
    over the 2B rows. DDM (``ddm_head``) takes the crops' rows of this rank
    as anchors and ``Z`` (no gradient) as the bank, of which each row
    leaves out its own column; each strong view goes through backbone and
    neck on its own (its own BatchNorm batch)::

        p_c = softmax(stopgrad(z_c · Z) / T2)   (own column left out)
        L_D = Σ_c Σ_j mean_n(-Σ p_c · log_softmax(s_j · Z / T2))

    ``loss_ddm = β · L_D``; ``s_j · Z`` and its log-sum-exp are computed
    once for both crops. With no strong views the model is SimCLR.

    Args:
        backbone (dict): The encoder (``ResNet``).
        neck (dict): The projector (``NonLinearNeck``).
        head (dict): SimCLR's ``ContrastiveHead`` (temperature T).
        **kwargs: ``ddm_head`` (the ``DDMHead``, T2 and β) and
            ``num_strong_views`` (J, default 1) of :class:`TwoCropDDM`, and
            mmpretrain's ``pretrained``, ``data_preprocessor``, ``init_cfg``.
    """

    def _project(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``g(feats)`` over its L2 norm + 1e-10, as SimCLR normalises;
        ``feats = f(x)``."""
        z = self.neck(feats)[0]
        return z / (z.norm(dim=1, keepdim=True) + 1e-10)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one step on ``[x_1, x_2, x_s[0..J-1]]``
        (``data_samples``: the online probe's labels, if any): SimCLR's
        ``loss``, named ``loss_contrastive`` beside ``loss_ddm`` (β applied)
        and ``ddm_entropy`` when there are strong views."""
        crops, strongs, n = self.split_views(inputs)
        # SimCLR.loss, written out.
        x = torch.stack(crops, 1)
        feats = self.backbone(x.reshape((x.size(0) * 2, ) + x.shape[2:]))
        z = self._project(feats)  # 2N×d
        probe = self.online_probe_loss([f[0::2] for f in feats], data_samples)
        z_all = torch.cat(GatherLayer.apply(z))  # 2B×d
        s = torch.matmul(z_all, z_all.permute(1, 0))
        mask, pos_idx, neg_mask = self._create_buffer(
            z_all.size(0) // 2, s.device)
        s = torch.masked_select(s, mask == 1).reshape(len(s), -1)
        positive = s[pos_idx].unsqueeze(1)  # 2B×1: the other crop
        negative = torch.masked_select(s, neg_mask == 1).reshape(
            len(s), -1)  # 2B×(2B-2)
        loss = self.head.loss(positive, negative)
        if not strongs:
            return dict(loss=loss, **probe)
        # DDM over Z; row n of crop c leaves out its own column.
        own = torch.arange(n, device=z.device) * 2 + get_rank() * 2 * n
        strong = [self._project(self.backbone(x)) for x in strongs]
        losses = self.ddm_head.ddm([z[0::2], z[1::2]], strong,
                                   z_all.detach().t(), excluded=[own, own + 1])
        return dict(loss_contrastive=loss, **losses, **probe)
