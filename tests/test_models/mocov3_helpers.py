"""A CPU-sized MoCo v3 (mmpretrain's or with DDM) and its views."""
import uuid

import torch
from mmengine.logging import MessageHub

from clsa_mm.models import MoCoV3DDM


def tiny_mocov3(cls=MoCoV3DDM, seed=0, temperature=0.2, momentum=0.01,
                t2=0.2, beta=1.0, **kwargs):
    """A 1/8-width ResNet-18 with mmpretrain's MoCo v3 neck and predictor
    (16-d embeddings); ``cls`` is ``MoCoV3DDM`` (with a DDMHead of T2 ``t2``
    and β ``beta``) or mmpretrain's ``MoCoV3``.
    """
    torch.manual_seed(seed)
    if cls is MoCoV3DDM:
        kwargs['ddm_head'] = dict(type='DDMHead', ddm_temperature=t2,
                                  loss_weight=beta)
    # mmpretrain's MoCo v3 projector and predictor: MLPs without biases.
    mlp = dict(type='NonLinearNeck', hid_channels=32, out_channels=16,
               num_layers=2, with_bias=False, with_last_bn_affine=False,
               with_last_bias=False, norm_cfg=dict(type='BN1d'))
    return cls(
        backbone=dict(
            type='ResNet', depth=18, base_channels=8, stem_channels=8,
            norm_cfg=dict(type='BN'), zero_init_residual=False),
        neck=dict(mlp, in_channels=64, with_last_bn=True,
                  with_avg_pool=True),
        head=dict(
            type='MoCoV3Head',
            predictor=dict(mlp, in_channels=16, with_last_bn=False,
                           with_avg_pool=False),
            loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature),
            temperature=temperature),
        base_momentum=momentum,
        **kwargs)


def views(num_views=3, batch=4, sizes=(32, 28, 16), seed=0,
          dtype=torch.float32):
    """``[x_1, x_2, x_s...]`` of distinct random images."""
    gen = torch.Generator().manual_seed(seed)
    sizes = (tuple(sizes) + (sizes[-1], ) * num_views)[:num_views]
    return [torch.randn(batch, 3, s, s, generator=gen, dtype=dtype)
            for s in sizes]


def current_hub(max_iters):
    """A new, hence current, message hub with ``max_iters`` (CosineEMA
    reads it)."""
    hub = MessageHub.get_instance(f'mocov3_{uuid.uuid4().hex}')
    hub.update_info('max_iters', max_iters)
    return hub
