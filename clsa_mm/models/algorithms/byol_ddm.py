from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, broadcast, get_world_size
from mmpretrain.models import BYOL
from mmpretrain.structures import DataSample

from clsa_mm.models.losses import ddm_loss
from clsa_mm.registry import MODELS, clsa_mm_scope
from .ddm_utils import add_ddm_loss, init_ddm, recorded_outputs, split_views


@MODELS.register_module()
class BYOLDDM(BYOL):
    """BYOL with CLSA's distributional divergence minimisation (DDM).

    :meth:`loss` takes the views ``[x_1, x_2, x_s[0], ..., x_s[J-1]]``
    (each N×3×h×w; J = ``num_strong_views``). The two crops go through
    mmpretrain's :class:`BYOL` ``loss()`` unchanged (target network
    updated first, then each crop on its own through the online branch,
    predictor and target network), which gives the base loss (``loss_byol``;
    ``loss`` when J = 0). Its predictor
    outputs ``p_1, p_2`` and target projections ``t_1, t_2`` are read as it
    computes them (no gradient) and L2-normalised; the targets are
    gathered from all ranks (row ``r·N + n`` is sample ``n`` of rank
    ``r``). DDM anchor ``p_1`` is scored against the bank
    ``R_1 = [t_2 of all ranks; Q]`` and ``p_2`` against
    ``R_2 = [t_1 of all ranks; Q]``, where ``Q`` (d×K) is a DDM-only queue
    of past target projections. Each strong view goes through backbone,
    neck and predictor on its own and is scored against both banks::

        p_i = softmax(stopgrad(a_i · R_i) / T2)
        L_D = Σ_i Σ_j mean_n(-Σ p_i · log_softmax(s_j · R_i / T2))

    ``loss_ddm = β · L_D``. After the loss, ``[t_1; t_2]`` of all ranks
    (2B columns) are written into ``Q``; rank 0's initial (random, unit
    norm) queue is broadcast at the first step. With no strong views the
    model is BYOL (no queue update).

    Args:
        backbone (dict): The encoder (``ResNet``).
        neck (dict): The projector (``NonLinearNeck``).
        head (dict): BYOL's ``LatentPredictHead`` (predictor and loss).
        base_momentum (float): The target network's EMA momentum at the
            start (``CosineEMA``). Defaults to 0.01.
        num_strong_views (int): The number J of strong views after the two
            crops. Defaults to 1.
        queue_len (int): The length K of the DDM queue; 0 or a multiple of
            twice the global batch. Defaults to 65536.
        feat_dim (int): The projection dimension d. Defaults to 256.
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
                 queue_len: int = 65536,
                 feat_dim: int = 256,
                 ddm_temperature: float = 0.2,
                 ddm_weight: float = 1.0,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        if not (isinstance(queue_len, int) and queue_len >= 0):
            raise ValueError(f'model.queue_len must be an int >= 0, got '
                             f'{queue_len!r}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        init_ddm(self, num_strong_views, ddm_temperature, ddm_weight)
        self.queue_len = queue_len
        self.register_buffer(
            'queue', F.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
        self._queue_synced = False

    def check_queue_len(self, batch_size: int, world_size: int = 1) -> None:
        """Raise a ValueError unless the queue holds whole steps.

        Every step enqueues the target projections of both crops of the
        global batch, ``2·N·W`` columns.

        Args:
            batch_size (int): The batch size per process N.
            world_size (int): The number of processes W. Defaults to 1.
        """
        step = 2 * batch_size * world_size
        if self.queue_len % step:
            raise ValueError(
                f'model.queue_len={self.queue_len} is not a multiple of the '
                f'{step} target projections enqueued per step (2 crops x '
                f'{batch_size} per process x {world_size} processes). Set '
                f'model.queue_len to 0 or a multiple of {step}, or change '
                'the batch size.')

    def _strong_embed(self, x: torch.Tensor) -> torch.Tensor:
        proj = self.neck(self.backbone(x))[0]
        return F.normalize(self.head.predictor([proj])[0])

    @torch.no_grad()
    def _dequeue_and_enqueue(self, targets: torch.Tensor) -> None:
        """Write ``targets`` (M×d) at the queue pointer and advance it."""
        if self.queue_len == 0:
            return
        idx = (self.queue_ptr + torch.arange(
            targets.shape[0], device=targets.device)) % self.queue_len
        self.queue.index_copy_(1, idx, targets.t().to(self.queue.dtype))
        self.queue_ptr.add_(targets.shape[0]).remainder_(self.queue_len)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The losses of one training step.

        Args:
            inputs (list[Tensor]): The views ``[x_1, x_2, x_s[0..J-1]]``.
            data_samples (list[DataSample]): Passed to BYOL (unused).

        Returns:
            dict[str, Tensor]: BYOL's ``loss``; with strong views it is
            named ``loss_byol``, beside ``loss_ddm`` (β applied) and
            ``ddm_entropy``.
        """
        crops, strongs = split_views(inputs, 2, self.num_strong_views,
                                     type(self).__name__)
        if not strongs:
            return super().loss(crops, data_samples, **kwargs)
        self.check_queue_len(crops[0].shape[0], get_world_size())
        if not self._queue_synced:
            # Ranks seeded differently start with different random queues.
            broadcast(self.queue)  # from rank 0
            self._queue_synced = True
        with recorded_outputs(self.head.predictor) as preds, \
                recorded_outputs(self.target_net) as targets:
            losses = super().loss(crops, data_samples, **kwargs)
        # BYOL calls the predictor on crop 1, then crop 2, and the target
        # network on crop 1, then crop 2.
        if not len(preds) == len(targets) == 2:
            raise RuntimeError(
                f'mmpretrain\'s BYOL.loss called the predictor {len(preds)} '
                f'and the target network {len(targets)} times, not twice')
        anchors = [F.normalize(p) for p in preds]
        t_1, t_2 = (torch.cat(all_gather(F.normalize(t))) for t in targets)
        if t_1.shape[1] != self.queue.shape[0]:
            raise ValueError(
                f'The projections have {t_1.shape[1]} dimensions but '
                f'the DDM queue has {self.queue.shape[0]}: set '
                'model.feat_dim to the neck\'s out_channels.')
        queue = self.queue.detach().to(t_1.dtype)
        banks = [torch.cat([t_2.t(), queue], dim=1),
                 torch.cat([t_1.t(), queue], dim=1)]
        strong = [self._strong_embed(x) for x in strongs]
        loss_ddm, stats = ddm_loss(anchors, strong, banks,
                                   self.ddm_temperature)
        self._dequeue_and_enqueue(torch.cat([t_1, t_2]))
        return add_ddm_loss(losses, 'loss_byol', loss_ddm, self.ddm_weight,
                            **stats)
