from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS, clsa_mm_scope


@MODELS.register_module()
class OnlineProbeHead(ClsHead):
    """A linear classifier trained beside pretraining on frozen features.

    The last backbone output is global-average-pooled (a ``(N, C, H, W)``
    map; ``(N, C)`` features, e.g. a ViT's class token, are used as they
    are) and DETACHED, so the probe never sends a gradient into the
    encoder; a BatchNorm without affine parameters standardises it (as
    MAE's linear probe) and it is scaled by ``1 / sqrt(C)`` to an expected
    norm of 1, so that one learning rate fits every backbone width and every
    stage of pretraining; ``fc`` maps it to class scores. All of it is a
    linear map of the features. The weights start at zero and their
    construction draws no random number, so a model with a probe
    initialises and augments exactly as one without.

    :meth:`loss` returns ``online_probe/loss`` (cross-entropy against each
    sample's ``gt_label``) and ``online_probe/top1`` (top-1 accuracy in % of
    the batch, logged); :meth:`predict` gives the data samples with
    ``pred_score`` for MMEngine's val loop.

    Args:
        num_classes (int): The number of classes.
        in_channels (int): The backbone's output channels.
        loss (dict): The classification loss. Defaults to cross-entropy.
        init_cfg (dict, optional): Initialization config. Defaults to None
            (zeros).
    """

    @clsa_mm_scope()  # ClsHead builds the loss
    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg)
        for key, value in (('num_classes', num_classes),
                           ('in_channels', in_channels)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(
                    f'model.online_probe.{key} must be an int >= 1, got '
                    f'{value!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.norm = nn.BatchNorm1d(in_channels, affine=False, eps=1e-6)
        self.fc = nn.utils.skip_init(nn.Linear, in_channels, num_classes)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The pooled, detached last backbone output, ``(N, C)``."""
        feat = feats[-1].detach()
        if feat.dim() == 4:
            feat = F.adaptive_avg_pool2d(feat, 1).flatten(1)
        return feat

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        feat = self.norm(self.pre_logits(feats))
        return self.fc(feat * self.in_channels**-0.5)

    def loss(self, feats: Tuple[torch.Tensor],
             data_samples: Sequence[DataSample], **kwargs) -> dict:
        """``online_probe/loss`` and ``online_probe/top1`` of a batch."""
        if not data_samples or any('gt_label' not in sample
                                   for sample in data_samples):
            raise ValueError(
                'model.online_probe needs the class of every training image '
                '(gt_label), but the batch has none: the training data set '
                'gives no labels. Use a labelled data set (mmpretrain '
                '"CustomDataset" over an ImageNet-style train/<class>/* '
                'folder, or a list file of "path label" lines) or remove '
                'model.online_probe.')
        scores = self(feats)
        target = torch.cat([sample.gt_label for sample in data_samples])
        loss = self.loss_module(scores, target)
        top1 = (scores.detach().argmax(dim=1) == target).float().mean() * 100
        return {'online_probe/loss': loss, 'online_probe/top1': top1}
