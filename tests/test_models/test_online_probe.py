"""The online linear probe (OnlineProbeMixin, OnlineProbeHead) of every
method: it never changes pretraining, it is MoCo v2 without it, its own
optimizer settings, and its errors."""
import re

import pytest
import torch
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmpretrain.models import MoCo
from mmpretrain.structures import DataSample

from clsa_helpers import tiny_clsa
from clsa_mm.models import MoCoWithProbe
from clsa_mm.models.utils.online_probe_mixin import backbone_channels
from mocov3_helpers import current_hub, tiny_mocov3
from simclr_byol_helpers import BACKBONE, tiny_byol, tiny_simclr

PROBE = dict(num_classes=3)
BATCH = 4


def tiny_moco(cls=MoCoWithProbe, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(
        backbone=BACKBONE,
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32,
                  out_channels=16, with_avg_pool=True),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.2),
        queue_len=16, feat_dim=16, momentum=0.01, **kwargs)


# name -> (builder, view sizes, EMA encoder attribute, queue attribute)
MODELS = {
    'clsa': (lambda **kw: tiny_clsa(queue_len=16, **kw), (32, 32, 16),
             'encoder_k', 'queue'),
    'clsa-sym': (lambda **kw: tiny_clsa(queue_len=16, symmetric=True, **kw),
                 (32, 32, 16), 'encoder_k', 'queue'),
    'mocov3-ddm': (tiny_mocov3, (32, 28, 16), 'momentum_encoder', None),
    'simclr-ddm': (tiny_simclr, (32, 32, 16), None, None),
    'byol-ddm': (lambda **kw: tiny_byol(queue_len=16, **kw), (32, 32, 16),
                 'target_net', 'queue'),
    'mocov2': (tiny_moco, (32, 32), 'encoder_k', 'queue'),
}


def batch(sizes, step):
    gen = torch.Generator().manual_seed(100 + step)
    inputs = [torch.randn(BATCH, 3, s, s, generator=gen) for s in sizes]
    samples = [DataSample().set_gt_label(i % 3) for i in range(BATCH)]
    return dict(inputs=inputs, data_samples=samples)


def train(name, probe, steps=3):
    """The model after ``steps`` train_steps, and the backbone gradients of
    one more loss."""
    build, sizes, _, _ = MODELS[name]
    current_hub(max_iters=steps + 1)  # CosineEMA reads it
    model = build(seed=0, online_probe=probe).train()
    optim = OptimWrapper(torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4))
    logs = [model.train_step(batch(sizes, step), optim)
            for step in range(steps)]
    data = model.data_preprocessor(batch(sizes, steps), True)
    loss, _ = model.parse_losses(model(**data, mode='loss'))
    loss.backward()
    grads = {k: p.grad.clone() for k, p in model.backbone.named_parameters()}
    return model, grads, logs


@pytest.mark.parametrize('name', sorted(MODELS))
def test_probe_never_changes_pretraining(name):
    _, _, ema, queue = MODELS[name]
    plain, plain_grads, plain_logs = train(name, None)
    probed, probed_grads, probed_logs = train(name, PROBE)
    assert probed.online_probe is not None and plain.online_probe is None
    for key, grad in plain_grads.items():
        assert torch.equal(probed_grads[key], grad), key
    probed_state = probed.state_dict()
    plain_state = plain.state_dict()
    assert set(probed_state) - set(plain_state) == {
        'online_probe.fc.weight', 'online_probe.fc.bias',
        'online_probe.norm.running_mean', 'online_probe.norm.running_var',
        'online_probe.norm.num_batches_tracked'}
    for key, value in plain_state.items():  # backbone, neck, EMA, queue
        assert torch.equal(probed_state[key], value), key
    if ema:
        assert any(k.startswith(ema) for k in plain_state)
    if queue:
        assert queue in plain_state
    for plain_log, probed_log in zip(plain_logs, probed_logs):
        # The logged loss stays the pretraining loss.
        assert torch.equal(probed_log['loss'], plain_log['loss'])
        assert {'online_probe/loss', 'online_probe/top1'} <= set(probed_log)
        assert not any(k.startswith('online_probe') for k in plain_log)
    # The probe trained: its weights left their zero start.
    assert probed.online_probe.fc.weight.abs().sum() > 0


def test_probe_logs_cross_entropy_and_batch_top1():
    model = tiny_clsa(online_probe=PROBE).eval()  # running statistics
    feats = (torch.randn(6, 64, 2, 2, generator=torch.Generator()
                         .manual_seed(0)), )
    # Channel c of the pooled features scores class c; samples 0-4 are
    # right and sample 5 wrong: top-1 5 / 6, not 50 %.
    for i, c in enumerate((0, 1, 2, 0, 1, 0)):
        feats[0][i, c] += 5
    samples = [DataSample().set_gt_label(c) for c in (0, 1, 2, 0, 1, 2)]
    with torch.no_grad():
        model.online_probe.fc.weight.copy_(torch.eye(3, 64))
    losses = model.online_probe.loss(feats, samples)
    # Running statistics 0 and 1: the scores are fc of the pooled features
    # over sqrt(64).
    scores = feats[0].mean(dim=(2, 3))[:, :3] / (1 + 1e-6)**0.5 / 8
    target = torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.allclose(losses['online_probe/loss'],
                          torch.nn.functional.cross_entropy(scores, target))
    expected = (scores.argmax(1) == target).float().mean() * 100
    assert torch.equal(losses['online_probe/top1'], expected)
    assert torch.allclose(expected, torch.tensor(500 / 6))


def test_moco_with_probe_is_mmpretrains_moco():
    current_hub(max_iters=3)
    models = [tiny_moco(cls) for cls in (MoCo, MoCoWithProbe)]
    for model in models:
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        for step in range(2):
            torch.manual_seed(step)  # the same shuffle-BN order
            log = model.train_step(batch((32, 32), step), optim)
        model.last_log = log
    theirs, ours = (m.state_dict() for m in models)
    assert theirs.keys() == ours.keys()
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key
    logs = [m.last_log for m in models]
    assert logs[0].keys() == logs[1].keys() == {'loss'}  # logged as MoCo's
    assert torch.equal(logs[0]['loss'], logs[1]['loss'])


def test_moco_with_probe_refuses_other_than_two_views():
    model = tiny_moco()
    views = batch((32, 32, 32), 0)
    with pytest.raises(ValueError, match='^' + re.escape(
            'MoCoWithProbe expects the two views [x_q, x_k] per sample; '
            'make the pipeline give two views') + '$'):
        model.loss(**views)


def test_probe_has_its_own_lr_and_no_weight_decay():
    model = tiny_clsa(online_probe=PROBE)
    optim = build_optim_wrapper(model, dict(
        optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4),
        paramwise_cfg=dict(custom_keys=dict(
            online_probe=dict(lr_mult=10.0, decay_mult=0.0)))))
    probe = {id(p) for p in model.online_probe.parameters()}
    groups = [g for g in optim.optimizer.param_groups
              if id(g['params'][0]) in probe]
    assert len(groups) == 2  # weight and bias; the BatchNorm has none
    for group in groups:
        assert group['lr'] == pytest.approx(0.3)
        assert group['weight_decay'] == 0
    others = [g for g in optim.optimizer.param_groups
              if id(g['params'][0]) not in probe]
    assert all(g['lr'] == 0.03 and g['weight_decay'] == 1e-4
               for g in others)


def test_predict_gives_the_probes_scores():
    model = tiny_clsa(online_probe=PROBE).eval()
    images = torch.randn(2, 3, 32, 32)
    samples = model(images, [DataSample(), DataSample()], mode='predict')
    feats = model.backbone(images)[-1].mean(dim=(2, 3))
    norm = model.online_probe.norm  # running statistics: 0 and 1
    scores = model.online_probe.fc(
        (feats - norm.running_mean) / (norm.running_var + 1e-6).sqrt() / 8)
    scores = scores.softmax(dim=1)
    assert torch.allclose(torch.stack([s.pred_score for s in samples]),
                          scores)


def test_predict_of_a_list_of_views_scores_the_first():
    model = tiny_clsa(online_probe=PROBE).eval()
    torch.nn.init.normal_(model.online_probe.fc.weight)  # not all zeros
    gen = torch.Generator().manual_seed(0)
    first, other = (torch.randn(2, 3, 32, 32, generator=gen)
                    for _ in range(2))

    def scores(inputs):
        return torch.stack([s.pred_score for s in model(
            inputs, [DataSample(), DataSample()], mode='predict')])

    assert torch.equal(scores([first, other]), scores(first))
    assert not torch.allclose(scores(other), scores(first))


def test_predict_without_a_probe_says_how_to_add_one():
    with pytest.raises(RuntimeError, match='model.online_probe'):
        tiny_clsa()(torch.randn(1, 3, 32, 32), None, mode='predict')


def test_a_batch_without_labels_is_refused():
    model = tiny_clsa(online_probe=PROBE).train()
    data = batch((32, 32, 16), 0)
    data['data_samples'] = [DataSample() for _ in range(BATCH)]
    with pytest.raises(ValueError, match='gt_label') as error:
        model(**data, mode='loss')
    assert 'CustomDataset' in str(error.value)


def test_probe_width_is_the_backbones_unless_set():
    from mmpretrain.models import VisionTransformer
    vit = VisionTransformer(
        arch=dict(embed_dims=24, num_layers=1, num_heads=2,
                  feedforward_channels=48), img_size=32, patch_size=16)
    assert backbone_channels(vit) == 24  # a ViT's embed_dims
    assert tiny_clsa(online_probe=PROBE).online_probe.in_channels == 64
    set_width = tiny_clsa(online_probe=dict(PROBE, in_channels=7))
    assert set_width.online_probe.in_channels == 7
    with pytest.raises(ValueError, match=r'Linear.*in_channels'):
        backbone_channels(torch.nn.Linear(2, 2))


def test_forward_defaults_to_the_backbone_features():
    model = tiny_clsa(online_probe=PROBE).eval()
    images = torch.randn(2, 3, 32, 32)
    feats, expected = model(images), model.extract_feat(images)
    assert len(feats) == len(expected)
    assert all(torch.equal(a, b) for a, b in zip(feats, expected))


@pytest.mark.parametrize('value', [0, 2.5, None])
def test_bad_num_classes_is_refused(value):
    with pytest.raises((ValueError, TypeError),
                       match='online_probe.num_classes'):
        tiny_clsa(online_probe=dict(num_classes=value))
