from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank
from mmpretrain.models import MoCoV3
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS, clsa_mm_scope
from ..losses import ddm_loss
from .ddm_utils import add_ddm_loss, init_ddm, recorded_outputs, split_views


@MODELS.register_module()
class MoCoV3DDM(MoCoV3):
    """MoCo v3 with CLSA's distributional divergence minimisation (DDM).

    :meth:`loss` takes the views ``[x_1, x_2, x_s[0], ..., x_s[J-1]]``
    (each N×3×h×w; J = ``num_strong_views``). The two crops go through
    mmpretrain's :class:`MoCoV3` ``loss()`` unchanged, which gives the base
    loss (``loss_contrastive``; ``loss`` when J = 0):
    each crop goes through backbone and neck on its own (one BatchNorm
    batch per crop), the momentum encoder (a ``CosineEMA``) is updated once,
    then embeds both crops, and ``MoCoV3Head`` scores the predictor output
    of each crop against the gathered momentum keys of the other crop. The
    predictor outputs and the momentum keys are read as that ``loss()``
    computes them (no second forward). The DDM anchors and banks are, with
    ``a_c = normalize(pred(x_c))`` and ``K_call`` the L2-normalised momentum
    keys of crop c gathered from all ranks (B×d; row ``r·N + n`` is sample n
    of rank r, the row's positive in the base loss)::

        a_1 against R_1 = K_2allᵀ,   a_2 against R_2 = K_1allᵀ

    Each strong view goes through backbone, neck and predictor (one
    BatchNorm batch per view), ``s_j = normalize(pred(g(f(x_s[j]))))``, and
    is scored against both banks::

        p_c = softmax(stopgrad(a_c · R_c) / T2)
        L_D = Σ_c Σ_j mean_n(-Σ p_c · log_softmax(s_j · R_c / T2))

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
        num_strong_views (int): The number J of strong views after the two
            crops. Defaults to 1.
        ddm_temperature (float): The DDM temperature T2. Defaults to 0.2.
        ddm_weight (float): The weight β of the DDM loss. Defaults to 1.0.
        pretrained (str, optional): A checkpoint to initialise from.
            Defaults to None.
        data_preprocessor (dict, optional): The data preprocessor config.
            Defaults to None.
        init_cfg (dict or list[dict], optional): Initialization config.
            Defaults to None.
    """

    @clsa_mm_scope()  # mmpretrain's __init__ builds the parts
    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float = 0.01,
                 num_strong_views: int = 1,
                 ddm_temperature: float = 0.2,
                 ddm_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        init_ddm(self, num_strong_views, ddm_temperature, ddm_weight)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        """``normalize(pred(g(f(x))))`` of the online branch."""
        z = self.neck(self.backbone(x))[0]
        return F.normalize(self.head.predictor([z])[0])

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one training step.

        Args:
            inputs (list[Tensor]): The views ``[x_1, x_2, x_s[0..J-1]]``.
            data_samples (list[DataSample]): Passed to MoCoV3 (unused).

        Returns:
            dict[str, Tensor]: MoCoV3's ``loss``; with strong views it is
            named ``loss_contrastive``, beside ``loss_ddm`` (β applied),
            ``pos_sim``, ``neg_sim`` and ``ddm_entropy``.
        """
        crops, strongs = split_views(inputs, 2, self.num_strong_views,
                                     type(self).__name__)
        with recorded_outputs(self.head.predictor) as preds, \
                recorded_outputs(self.momentum_encoder) as keys:
            losses = super().loss(crops, data_samples, **kwargs)
        if not strongs:
            return losses
        # MoCoV3.loss: keys k_1, k_2, then predictions of x_1 and x_2.
        anchors = [F.normalize(pred) for pred in preds]
        banks = [
            torch.cat(all_gather(F.normalize(k))).t() for k in reversed(keys)
        ]
        strong = [self._embed(x) for x in strongs]
        loss_ddm, stats = ddm_loss(anchors, strong, banks,
                                   self.ddm_temperature)
        with torch.no_grad():
            pos, neg = [], []
            for anchor, bank in zip(anchors, banks):
                sim = (anchor @ bank).float()
                # Row n's own key is column rank·N + n.
                pos.append(sim.diagonal(get_rank() * len(anchor)))
                neg.append((sim.sum(dim=1) - pos[-1]) / (sim.shape[1] - 1))
        return add_ddm_loss(losses, 'loss_contrastive', loss_ddm,
                            self.ddm_weight, pos_sim=torch.cat(pos).mean(),
                            neg_sim=torch.cat(neg).mean(), **stats)
