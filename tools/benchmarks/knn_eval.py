"""k-NN top-1 accuracy of a frozen encoder (InstDisc/DINO protocol).

Features are the global-average-pooled, L2-normalised last stage of
``model.backbone`` of CONFIG, loaded from CHECKPOINT (a clsa_mm checkpoint
or an exported backbone). The training split (``train_dataloader``, read
with the ``val_dataloader`` pipeline, unshuffled) is the memory bank; every
``val_dataloader`` sample is classified by a vote of its k most
cosine-similar training features, weighted by exp(similarity / T).
"""
import argparse

import torch
from mmengine.config import DictAction
from mmengine.fileio import dump
from mmengine.logging import print_log
from mmengine.registry import init_default_scope

from clsa_mm.checkpoint import pretrained_cfg_options
from clsa_mm.evaluation import (KNN_DEFAULTS, build_feature_loader,
                                build_feature_preprocessor, extract_features,
                                knn_accuracy, knn_classify)
from clsa_mm.registry import MODELS
from clsa_mm.utils import load_config


def parse_args():
    parser = argparse.ArgumentParser(
        description='k-NN evaluation of a frozen backbone')
    parser.add_argument(
        'config', help='classification config (e.g. a linear-probe one)')
    parser.add_argument(
        'checkpoint', help='clsa_mm checkpoint or exported backbone')
    parser.add_argument(
        '--k', type=int, default=KNN_DEFAULTS['k'],
        help=f'neighbours ({KNN_DEFAULTS["k"]})')
    parser.add_argument(
        '--temperature', type=float, default=KNN_DEFAULTS['temperature'],
        help='T of the vote')
    parser.add_argument(
        '--batch-size', type=int, help='override the dataloader batch size')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device for the encoder and the search')
    parser.add_argument('--out', help='also write the metrics to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings, key=value (keys must exist in the config)')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'clsa_mm'))

    # The backbone's Pretrained init, as the benchmark scripts set and check
    # it: weights that do not fit are refused.
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=args.checkpoint)
    cfg.merge_from_dict(pretrained_cfg_options(cfg, args.checkpoint))
    backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    data_preprocessor = build_feature_preprocessor(cfg)
    backbone.to(args.device)
    data_preprocessor.to(args.device)

    feats = {}
    for split in ('train', 'val'):
        loader = build_feature_loader(cfg, split, args.batch_size)
        print_log(f'Extracting {split} features of {len(loader.dataset)} '
                  'images', logger='current')
        feats[split] = extract_features(backbone, data_preprocessor, loader)
    num_classes = len(loader.dataset.metainfo['classes'])
    scores = knn_classify(
        *feats['train'], feats['val'][0], num_classes,
        k=args.k, temperature=args.temperature)
    topk = (1, 5) if num_classes >= 5 else (1, )
    metrics = {
        f'knn/{name}': value
        for name, value in knn_accuracy(scores, feats['val'][1], topk).items()
    }
    print_log(
        f'k-NN (k={args.k}, T={args.temperature}) on '
        f'{len(feats["val"][1])} val images: ' +
        ', '.join(f'{k}: {v:.2f}' for k, v in metrics.items()),
        logger='current')
    if args.out:
        dump(metrics, args.out)


if __name__ == '__main__':
    main()
