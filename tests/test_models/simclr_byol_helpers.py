"""CPU-sized SimCLR/BYOL (with and without DDM) and §7 spelled out."""
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.models import BYOL, SimCLR

from clsa_mm.models import BYOLDDM, SimCLRDDM

BACKBONE = dict(
    type='ResNet', depth=18, base_channels=8, stem_channels=8,
    norm_cfg=dict(type='BN'), zero_init_residual=False)
DIM = 32
# NonLinearNeck's default SyncBN does not run on CPU processes.
BN1D = dict(type='BN1d')


def assert_it_is_the_base_method(model, base, x):
    """``model`` (X-DDM without strong views or DDM) gives the loss and the
    gradients of ``base`` (mmpretrain's X, the same weights) on ``x``; a
    BYOL target network gets no gradient in either."""
    expected = base.loss(x, None)
    losses = model.loss(x, None)
    assert losses.keys() == {'loss'}
    assert torch.equal(losses['loss'], expected['loss'])
    losses['loss'].backward()
    expected['loss'].backward()
    for (name, p), q in zip(model.named_parameters(), base.parameters()):
        if 'target_net' in name:
            assert p.grad is None and q.grad is None, name
        else:
            assert torch.equal(p.grad, q.grad), name


def tiny_simclr(ddm=True, seed=0, t2=0.1, beta=1.0, **kwargs):
    """SimCLR(-DDM) with a 1/8-width ResNet-18 and a 64-64-32 MLP; the
    DDMHead has T2 ``t2`` and β ``beta``."""
    torch.manual_seed(seed)
    if ddm:
        kwargs['ddm_head'] = dict(type='DDMHead', ddm_temperature=t2,
                                  loss_weight=beta)
    return (SimCLRDDM if ddm else SimCLR)(
        backbone=BACKBONE,
        neck=dict(type='NonLinearNeck', in_channels=64, hid_channels=64,
                  out_channels=DIM, num_layers=2, with_avg_pool=True,
                  norm_cfg=BN1D),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.1),
        **kwargs)


def tiny_byol(ddm=True, seed=0, t2=0.2, beta=1.0, **kwargs):
    """BYOL(-DDM) with a 1/8-width ResNet-18 and 64-wide MLPs; the DDMHead
    has T2 ``t2`` and β ``beta``."""
    torch.manual_seed(seed)
    if ddm:
        kwargs.setdefault('feat_dim', DIM)
        kwargs['ddm_head'] = dict(type='DDMHead', ddm_temperature=t2,
                                  loss_weight=beta)
    mlp = dict(type='NonLinearNeck', hid_channels=64, out_channels=DIM,
               num_layers=2, with_bias=True, with_last_bn=False,
               norm_cfg=BN1D)
    return (BYOLDDM if ddm else BYOL)(
        backbone=BACKBONE,
        neck=dict(mlp, in_channels=64, with_avg_pool=True),
        head=dict(
            type='LatentPredictHead',
            predictor=dict(mlp, in_channels=DIM, with_avg_pool=False),
            loss=dict(type='CosineSimilarityLoss')),
        **kwargs)


def views(batch=4, sizes=(32, 32, 16), seed=0):
    """Distinct random normalised images, one batch per view."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, s, s, generator=gen) for s in sizes]


def rank_0_of(t):
    """What a mocked ``all_gather`` returns as rank 0's part: rows as
    ``t``'s (unit norm where ``t``'s are) but other ones."""
    return t.roll(1, dims=1)


def own_message_hub(name, max_iters=10):
    """A message hub of this test (CosineEMA reads ``max_iters``)."""
    hub = MessageHub.get_instance(name)
    hub.update_info('max_iters', max_iters)
    return hub


def simclr_embed(model, x):
    z = model.neck(model.backbone(x))[0]
    return z / (z.norm(dim=1, keepdim=True) + 1e-10)


def simclr_step_embeddings(model, crops, strongs):
    """z of one rank's interleaved crops (2N×d) and its strong views."""
    with torch.no_grad():
        both = torch.stack(crops, 1).flatten(0, 1)  # x_1[0], x_2[0], ...
        return simclr_embed(model, both), [simclr_embed(model, x)
                                           for x in strongs]


def simclr_spec_losses(z_all, strongs, rank, t=0.1, t2=0.1, beta=1.0):
    """SimCLR's NT-Xent and §7's DDM, one row at a time.

    ``z_all`` (2B×d) holds crop ``c`` of sample ``n`` of rank ``r`` at row
    ``r·2N + 2n + c``; ``strongs`` are rank ``rank``'s strong embeddings.
    """
    two_b = z_all.shape[0]
    loss = 0.
    for i in range(two_b):
        others = [k for k in range(two_b) if k != i]
        logits = torch.stack([z_all[i] @ z_all[k] for k in others]) / t
        positive = others.index(i + 1 if i % 2 == 0 else i - 1)
        loss = loss - logits.log_softmax(0)[positive] / two_b
    n = strongs[0].shape[0]
    loss_ddm = 0.
    for c in range(2):
        for j in range(len(strongs)):
            for row in range(n):
                own = rank * 2 * n + 2 * row + c
                bank = torch.stack([z_all[k] for k in range(two_b)
                                    if k != own])
                p = (bank @ z_all[own] / t2).softmax(0)
                log_q = (bank @ strongs[j][row] / t2).log_softmax(0)
                loss_ddm = loss_ddm - (p * log_q).sum() / n
    return loss, beta * loss_ddm


def byol_step_embeddings(model, crops, strongs):
    """Predictions, target projections (normalised) and strong embeddings
    of one rank at the first step (the target network equals the online
    one then)."""
    with torch.no_grad():
        proj = [model.neck(model.backbone(x))[0] for x in crops]
        preds = [model.head.predictor([p])[0] for p in proj]
        strong = [
            F.normalize(model.head.predictor(
                [model.neck(model.backbone(x))[0]])[0], dim=1)
            for x in strongs
        ]
    return preds, [F.normalize(p, dim=1) for p in proj], strong


def byol_spec_losses(preds, targets_all, queue, strongs, rank, t2=0.2,
                     beta=1.0):
    """BYOL's loss and §7's DDM, one row at a time.

    ``preds`` are rank ``rank``'s predictions of crops 1 and 2;
    ``targets_all`` the normalised target projections of crops 1 and 2 of
    all ranks (row ``r·N + n``); ``queue`` d×K.
    """
    n = preds[0].shape[0]
    loss = 0.
    for c in range(2):
        other = targets_all[1 - c]
        for row in range(n):
            cos = F.cosine_similarity(preds[c][row], other[rank * n + row],
                                      dim=0)
            loss = loss - 2 * cos / n
    loss_ddm = 0.
    for c in range(2):
        bank = torch.cat([targets_all[1 - c], queue.t()])  # (B + K) × d
        anchor = F.normalize(preds[c], dim=1)
        for s in strongs:
            for row in range(n):
                p = (bank @ anchor[row] / t2).softmax(0)
                log_q = (bank @ s[row] / t2).log_softmax(0)
                loss_ddm = loss_ddm - (p * log_q).sum() / n
    return loss, beta * loss_ddm
