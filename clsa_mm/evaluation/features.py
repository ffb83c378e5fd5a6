"""Frozen encoder features of a labelled data set."""
import copy

import torch
import torch.nn.functional as F
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from clsa_mm.registry import MODELS


def build_feature_loader(cfg, split, batch_size=None):
    """The ``split`` dataloader of ``cfg`` as features are read from it: with
    the deterministic ``val_dataloader`` pipeline, unshuffled, nothing
    dropped.

    Args:
        cfg (mmengine.Config): A classification config (e.g. a linear probe).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        batch_size (int, optional): Overrides the config's batch size.

    Returns:
        DataLoader: The loader.
    """
    loader = copy.deepcopy(cfg.get(f'{split}_dataloader'))
    if not loader or 'pipeline' not in loader.get('dataset', {}):
        raise KeyError(f'{cfg.filename}: {split}_dataloader.dataset.pipeline '
                       'is needed to extract features')
    loader.dataset.pipeline = copy.deepcopy(
        cfg.val_dataloader.dataset.pipeline)
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    loader.pop('batch_sampler', None)
    loader.drop_last = False
    if batch_size:
        loader.batch_size = batch_size
    return Runner.build_dataloader(loader)


def build_feature_preprocessor(cfg):
    """The data preprocessor of ``cfg``'s classifier, without one-hot
    labels (``ClsDataPreprocessor`` unless the config names another)."""
    preprocessor = copy.deepcopy(
        cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor')
        or {})
    preprocessor.setdefault('type', 'ClsDataPreprocessor')
    preprocessor.pop('to_onehot', None)
    return MODELS.build(preprocessor)


@torch.no_grad()
def extract_features(backbone, data_preprocessor, dataloader, progress=True):
    """Global-average-pooled, L2-normalised last-stage features.

    Args:
        backbone (nn.Module): The encoder; its last output is used.
        data_preprocessor (nn.Module): Normalises and batches the images
            (``ClsDataPreprocessor``); its device is used.
        dataloader (DataLoader): Yields mmpretrain ``PackInputs`` batches of
            single-label samples.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        tuple[Tensor, Tensor]: ``(N, C)`` features and ``(N, )`` labels.
    """
    backbone.eval()
    feats, labels = [], []
    bar = ProgressBar(len(dataloader.dataset)) if progress else None
    for data_batch in dataloader:
        data = data_preprocessor(data_batch, training=False)
        outs = backbone(data['inputs'])
        feat = F.adaptive_avg_pool2d(outs[-1], 1).flatten(1)
        feats.append(F.normalize(feat, dim=1))
        for sample in data['data_samples']:
            label = sample.gt_label
            if label.numel() != 1:
                raise ValueError(
                    f'k-NN needs single-label samples; '
                    f'{sample.get("img_path", "a sample")} has labels '
                    f'{label.tolist()}')
            labels.append(label.reshape(()))
        if bar:
            bar.update(feat.size(0))
    if bar:
        print()
    return torch.cat(feats), torch.stack(labels).to(torch.long)
