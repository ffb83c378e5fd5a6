"""A CPU-sized CLSA model, synthetic views and the loss of docs/method.md
spelled out."""
import torch

from clsa_mm.models import CLSA


def tiny_clsa(queue_len=16, num_weak_views=1, momentum=0.001, seed=0,
              **kwargs):
    """A CLSA model with a 1/8-width ResNet-18 and a 64-d hidden projector."""
    torch.manual_seed(seed)
    return CLSA(
        backbone=dict(
            type='ResNet', depth=18, base_channels=8, stem_channels=8,
            norm_cfg=dict(type='BN'), zero_init_residual=False),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                  out_channels=128, with_avg_pool=True),
        head=dict(type='DDMHead'),
        num_weak_views=num_weak_views,
        queue_len=queue_len,
        momentum=momentum,
        **kwargs)


def views(batch=4, weak_sizes=(32, ), strong_sizes=(16, ), key_size=32,
          seed=0):
    """``[x_k, x_q..., x_s...]`` of normalised random images."""
    gen = torch.Generator().manual_seed(seed)
    sizes = [key_size, *weak_sizes, *strong_sizes]
    return [torch.randn(batch, 3, s, s, generator=gen) for s in sizes]


def spec_losses(queries, strongs, keys, queue, rank, t=0.2, t2=0.2,
                beta=1.0):
    """The loss of docs/method.md literally: one weak view, strong view and
    row at a time."""
    n = queries[0].shape[0]
    loss_c = 0.
    loss_d = 0.
    for q in queries:
        logits = torch.cat([q @ keys.t(), q @ queue], dim=1) / t
        for row in range(n):
            target = rank * n + row
            loss_c = loss_c - logits[row].log_softmax(0)[target] / n
        p = (logits.detach() * t / t2).softmax(dim=1)
        for s in strongs:
            slogits = torch.cat([s @ keys.t(), s @ queue], dim=1) / t2
            term = 0.
            for row in range(n):
                term = term - (p[row] * slogits[row].log_softmax(0)).sum()
            loss_d = loss_d + term / n
    return loss_c, beta * loss_d
