"""Checkpoints with the key layouts the converters and benchmarks read.

Every tensor is random, so a test can tell loaded weights from initialised
ones. The layouts are those of clsa_mm's ``CLSA`` model (``backbone.*``,
``neck.mlp.*``, ``encoder_k.module.{0,1}.*``, ``encoder_k.steps``, ``queue``,
``queue_ptr``) and of the authors' CLSA code (``module.encoder_q.*`` ...).
"""
from collections import OrderedDict

import torch

FEAT_DIM = {18: 512, 50: 2048}


def random_resnet_state_dict(depth, seed=0):
    """An mmpretrain ResNet state dict, every tensor randomly perturbed.

    Perturbed BN statistics (not the 0/1 defaults) make equality with a
    freshly initialised model impossible unless the weights were loaded.

    Args:
        depth (int): ResNet depth.
        seed (int): Random seed. Defaults to 0.

    Returns:
        OrderedDict: The state dict.
    """
    from mmpretrain.models import ResNet
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    state_dict = OrderedDict()
    for key, value in ResNet(depth=depth).state_dict().items():
        if key.endswith('running_var'):
            value = value + 0.5 * torch.rand(value.shape, generator=gen)
        elif value.is_floating_point():
            value = value + 0.01 * torch.randn(value.shape, generator=gen)
        else:
            value = torch.randint(1, 100, value.shape, generator=gen)
        state_dict[key] = value
    return state_dict


def _mlp(in_channels, prefix, gen):
    return OrderedDict([
        (f'{prefix}0.weight', torch.randn(in_channels, in_channels,
                                          generator=gen)),
        (f'{prefix}0.bias', torch.randn(in_channels, generator=gen)),
        (f'{prefix}2.weight', torch.randn(128, in_channels, generator=gen)),
        (f'{prefix}2.bias', torch.randn(128, generator=gen)),
    ])


def clsa_checkpoint(depth, seed=0):
    """A checkpoint with the keys of clsa_mm's CLSA model.

    Args:
        depth (int): ResNet depth (18 or 50).
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: ``dict(meta=..., state_dict=...)``.
    """
    gen = torch.Generator().manual_seed(seed + 1)
    backbone = random_resnet_state_dict(depth, seed)
    key_backbone = random_resnet_state_dict(depth, seed + 100)
    state_dict = OrderedDict()
    state_dict.update((f'backbone.{k}', v) for k, v in backbone.items())
    state_dict.update(_mlp(FEAT_DIM[depth], 'neck.mlp.', gen))
    state_dict['encoder_k.steps'] = torch.tensor(7)
    state_dict.update(
        (f'encoder_k.module.0.{k}', v) for k, v in key_backbone.items())
    state_dict.update(_mlp(FEAT_DIM[depth], 'encoder_k.module.1.mlp.', gen))
    state_dict['queue'] = torch.randn(128, 64, generator=gen)
    state_dict['queue_ptr'] = torch.zeros(1, dtype=torch.long)
    return dict(meta=dict(epoch=3, iter=30), state_dict=state_dict)


def reference_checkpoint(depth, seed=0):
    """A checkpoint as the authors' CLSA code saves it (DDP, torchvision).

    Args:
        depth (int): ResNet depth (18 or 50).
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: With ``state_dict``, ``optimizer``, ``epoch`` and ``arch``.
    """
    gen = torch.Generator().manual_seed(seed + 2)
    state_dict = OrderedDict()
    for encoder, s in (('encoder_q', seed), ('encoder_k', seed + 100)):
        resnet = random_resnet_state_dict(depth, s)
        state_dict.update(
            (f'module.{encoder}.{k}', v) for k, v in resnet.items())
        state_dict.update(
            _mlp(FEAT_DIM[depth], f'module.{encoder}.fc.', gen))
    state_dict['module.queue'] = torch.randn(128, 64, generator=gen)
    state_dict['module.queue_ptr'] = torch.tensor([32])
    return dict(
        epoch=200, arch=f'resnet{depth}', best_acc=torch.tensor(12.5),
        state_dict=state_dict,
        optimizer=dict(state={}, param_groups=[dict(lr=0.03, params=[0])]))
