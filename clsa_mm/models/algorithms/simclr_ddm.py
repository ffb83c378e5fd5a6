from typing import Dict, List, Optional, Union

import torch
from mmengine.dist import all_gather, get_rank
from mmpretrain.models import SimCLR
from mmpretrain.structures import DataSample

from clsa_mm.models.losses import ddm_loss
from clsa_mm.registry import MODELS, clsa_mm_scope
from .ddm_utils import add_ddm_loss, init_ddm, recorded_outputs, split_views


@MODELS.register_module()
class SimCLRDDM(SimCLR):
    """SimCLR with CLSA's distributional divergence minimisation (DDM).

    :meth:`loss` takes the views ``[x_1, x_2, x_s[0], ..., x_s[J-1]]``
    (each N×3×h×w; J = ``num_strong_views``). The two crops go through
    mmpretrain's :class:`SimCLR` ``loss()`` unchanged (one BatchNorm batch
    of 2N rows ``x_1[0], x_2[0], x_1[1], ...``; NT-Xent over the 2B
    gathered embeddings), which gives the base loss (``loss_contrastive``;
    ``loss`` when J = 0). Its embeddings ``z`` (the
    neck's output, L2-normalised as SimCLR does) are read as it computes
    them and gathered from all ranks (no gradient): column
    ``r·2N + 2n + c`` of the bank ``Z`` is crop ``c`` of sample ``n`` of
    rank ``r``. The DDM anchors are ``z`` of crop 1 and of crop 2; each row
    is scored against all 2B columns except its own. Each strong view goes
    through backbone and neck on its own (its own BatchNorm batch) and is
    scored against the same columns::

        p_c = softmax(stopgrad(z_c · Z) / T2)   (own column left out)
        L_D = Σ_c Σ_j mean_n(-Σ p_c · log_softmax(s_j · Z / T2))

    ``loss_ddm = β · L_D``. With no strong views the model is SimCLR.

    Args:
        backbone (dict): The encoder (``ResNet``).
        neck (dict): The projector (``NonLinearNeck``).
        head (dict): SimCLR's ``ContrastiveHead`` (temperature T).
        num_strong_views (int): The number J of strong views after the two
            crops. Defaults to 1.
        ddm_temperature (float): The DDM temperature T2. Defaults to 0.1
            (SimCLR's T).
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
                 num_strong_views: int = 1,
                 ddm_temperature: float = 0.1,
                 ddm_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        init_ddm(self, num_strong_views, ddm_temperature, ddm_weight)

    @staticmethod
    def _normalize(z: torch.Tensor) -> torch.Tensor:
        """The rows over their L2 norm + 1e-10, as SimCLR's ``loss()``."""
        return z / (torch.norm(z, dim=1, keepdim=True) + 1e-10)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        return self._normalize(self.neck(self.backbone(x))[0])

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one training step.

        Args:
            inputs (list[Tensor]): The views ``[x_1, x_2, x_s[0..J-1]]``.
            data_samples (list[DataSample]): Passed to SimCLR (unused).

        Returns:
            dict[str, Tensor]: SimCLR's ``loss``; with strong views it is
            named ``loss_contrastive``, beside ``loss_ddm`` (β applied) and
            ``ddm_entropy``.
        """
        crops, strongs = split_views(inputs, 2, self.num_strong_views,
                                     type(self).__name__)
        with recorded_outputs(self.neck) as neck_outputs:
            losses = super().loss(crops, data_samples, **kwargs)
        if not strongs:
            return losses
        if len(neck_outputs) != 1:
            raise RuntimeError(f'mmpretrain\'s SimCLR.loss called the neck '
                               f'{len(neck_outputs)} times, not once')
        # 2N × d: x_1[0], x_2[0], x_1[1], ...
        z = self._normalize(neck_outputs[0])
        bank = torch.cat(all_gather(z)).t()  # d × 2B
        n = z.shape[0] // 2
        anchors, supports = [], []
        for c in range(2):
            anchors.append(z[c::2])
            support = z.new_ones(n, bank.shape[1], dtype=torch.bool)
            # Row n's own column rank·2N + 2n + c is left out.
            support[:, get_rank() * 2 * n + c::2].diagonal().fill_(False)
            supports.append(support)
        strong = [self._embed(x) for x in strongs]
        loss_ddm, stats = ddm_loss(anchors, strong, bank,
                                   self.ddm_temperature, supports=supports)
        return add_ddm_loss(losses, 'loss_contrastive', loss_ddm,
                            self.ddm_weight, **stats)
