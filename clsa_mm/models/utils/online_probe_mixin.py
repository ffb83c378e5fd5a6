from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmpretrain.structures import DataSample

from clsa_mm.registry import MODELS

# The probe's loss: optimised with the model's, logged on its own.
PROBE_LOSS = 'online_probe/loss'


def backbone_channels(backbone: nn.Module) -> int:
    """The channels of a backbone's last output: ``feat_dim`` of a ResNet,
    ``embed_dims`` of a ViT."""
    for name in ('feat_dim', 'embed_dims'):
        if isinstance(getattr(backbone, name, None), int):
            return getattr(backbone, name)
    raise ValueError(
        f'Cannot tell the output channels of {type(backbone).__name__} for '
        'model.online_probe: set model.online_probe.in_channels.')


class OnlineProbeMixin:
    """An opt-in online linear probe (:class:`OnlineProbeHead`) of a
    self-supervised model.

    The model lists the mixin before its base class, calls
    :meth:`init_online_probe` at the end of ``__init__`` and, in ``loss``,
    adds :meth:`online_probe_loss` of the backbone output of one weak view
    (the output its own loss uses) to the returned dict. The probe reads
    detached features, so pretraining is the same with or without it.

    Besides, the mixin adds ``predict`` (``forward(mode='predict')``, the
    probe's scores for MMEngine's val loop with ``OnlineProbeAccuracy``) and
    keeps the logged ``loss`` the pretraining loss: ``online_probe/loss`` is
    optimised with it but logged on its own.
    """

    def init_online_probe(self, online_probe: Optional[dict]) -> None:
        """Build ``self.online_probe`` from ``model.online_probe`` (None: no
        probe); ``in_channels`` defaults to the backbone's."""
        if online_probe is None:
            self.online_probe = None
            return
        if not isinstance(online_probe, dict):
            raise TypeError('model.online_probe must be a dict such as '
                            f'dict(num_classes=1000), got {online_probe!r}')
        cfg = dict(type='OnlineProbeHead', **online_probe)
        if 'in_channels' not in cfg:
            cfg['in_channels'] = backbone_channels(self.backbone)
        self.online_probe = MODELS.build(cfg)

    def online_probe_loss(self, feats: Tuple[torch.Tensor],
                          data_samples: Sequence[DataSample]) -> dict:
        """The probe's loss and batch top-1 on the backbone output ``feats``
        of one view; empty without a probe."""
        if self.online_probe is None:
            return {}
        return self.online_probe.loss(feats, data_samples)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """The probe's class scores of a batch of images (N×3×h×w; of a
        list of views, the first) as ``pred_score`` of the data samples."""
        if self.online_probe is None:
            raise RuntimeError(
                f'{type(self).__name__} predicts only through its online '
                'probe, and model.online_probe is not set: set '
                'model.online_probe=dict(num_classes=...) or remove '
                'val_dataloader, val_evaluator and val_cfg.')
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        return self.online_probe.predict(self.backbone(inputs), data_samples)

    def parse_losses(self, losses: Dict[str, torch.Tensor]) -> tuple:
        """MMEngine's sum of the ``loss*`` terms, plus the probe's loss,
        which is logged on its own and not in ``loss``."""
        if PROBE_LOSS not in losses:
            return super().parse_losses(losses)
        losses = dict(losses)
        probe_loss = losses.pop(PROBE_LOSS)
        loss, log_vars = super().parse_losses(losses)
        log_vars[PROBE_LOSS] = probe_loss
        return loss + probe_loss, log_vars
