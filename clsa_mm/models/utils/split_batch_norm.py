import torch
import torch.nn as nn
import torch.nn.functional as F

from clsa_mm.registry import MODELS


@MODELS.register_module(name='SplitBN')
class SplitBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose training statistics are per split of the batch.

    A batch of N samples is cut into ``num_splits`` S contiguous splits of
    N/S (split s holds samples s·N/S … (s+1)·N/S − 1) and each split is
    normalised with its own mean and variance, as S ranks of plain BN would
    do with their own N/S samples. The affine weight and bias are shared.
    In training the running mean and variance are updated per split and
    then averaged over the splits (the MoCo CIFAR-10 notebook's
    SplitBatchNorm; its splits interleave the samples, these are
    contiguous, like ranks). Evaluation uses the running statistics of the
    whole layer, as plain BN does. The parameters and buffers are those of
    ``nn.BatchNorm2d``, so checkpoints move freely between the two.

    Set it with ``norm_cfg=dict(type='SplitBN', num_splits=S)``; a model
    whose key encoder shuffles the key batch (``batch_shuffle_ddp``: on one
    process a permutation of the whole batch) then sees the key batch in
    random splits and the queries in their own splits: S ranks of
    shuffle-BN on one process (``docs/pretraining.md``).

    Args:
        num_features (int): The channels C.
        num_splits (int): The splits S; the batch must be a multiple of S.
        **kwargs: ``eps``, ``momentum``, ``affine``, ``track_running_stats``
            of ``nn.BatchNorm2d``.
    """

    def __init__(self, num_features: int, num_splits: int, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        if not (isinstance(num_splits, int) and num_splits >= 1):
            raise ValueError(f'norm_cfg.num_splits of SplitBN must be an int '
                             f'>= 1, got {num_splits!r}')
        self.num_splits = num_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and self.track_running_stats:
            return super().forward(x)
        n, c, h, w = x.shape
        s = self.num_splits
        if n % s:
            raise ValueError(
                f'SplitBN with norm_cfg.num_splits={s} needs a batch that is '
                f'a multiple of {s}, got {n}; make the batch size per '
                'process a multiple of num_splits (drop_last=True keeps '
                'every batch whole).')
        # split k becomes channel block k of an (N/S)×(S·C) batch
        x = x.view(s, n // s, c, h, w).transpose(0, 1).reshape(
            n // s, s * c, h, w)
        mean = var = None
        factor = 0.
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = (1. / float(self.num_batches_tracked)
                      if self.momentum is None else self.momentum)
            mean = self.running_mean.repeat(s)
            var = self.running_var.repeat(s)
        weight = self.weight.repeat(s) if self.affine else None
        bias = self.bias.repeat(s) if self.affine else None
        out = F.batch_norm(x, mean, var, weight, bias, True, factor, self.eps)
        if mean is not None:
            self.running_mean.copy_(mean.view(s, c).mean(dim=0))
            self.running_var.copy_(var.view(s, c).mean(dim=0))
        return out.view(n // s, s, c, h, w).transpose(0, 1).reshape(
            n, c, h, w)
