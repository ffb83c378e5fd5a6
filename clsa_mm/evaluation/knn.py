"""Weighted k-nearest-neighbour classification of frozen features."""
import torch
import torch.nn.functional as F

# The k-NN protocol of every tool (knn_eval.py, KNNMonitorHook, the online
# monitors of the demo and the ablation): k neighbours, vote temperature T.
KNN_DEFAULTS = dict(k=20, temperature=0.07)


def knn_classify(train_feats,
                 train_labels,
                 test_feats,
                 num_classes,
                 k=KNN_DEFAULTS['k'],
                 temperature=KNN_DEFAULTS['temperature'],
                 chunk_size=256):
    """Class scores of a temperature-weighted k-NN vote (InstDisc, DINO).

    Each test feature votes with its ``k`` most cosine-similar training
    features; the neighbour with similarity ``s`` adds ``exp(s / T)`` to the
    score of its class.

    Args:
        train_feats (Tensor): ``(N, C)`` training features.
        train_labels (Tensor): ``(N, )`` integer labels.
        test_feats (Tensor): ``(M, C)`` features to classify.
        num_classes (int): Number of classes.
        k (int): Number of neighbours; at most ``N`` are used. Defaults to 20.
        temperature (float): ``T``. Defaults to 0.07.
        chunk_size (int): Test features per similarity matrix, to bound
            memory. Defaults to 256.

    Returns:
        Tensor: ``(M, num_classes)`` scores.
    """
    if train_feats.size(0) != train_labels.size(0):
        raise ValueError(f'{train_feats.size(0)} training features but '
                         f'{train_labels.size(0)} labels')
    train_feats = F.normalize(train_feats.float(), dim=1)
    test_feats = F.normalize(test_feats.float(), dim=1)
    train_labels = train_labels.to(train_feats.device).long()
    k = min(k, train_feats.size(0))
    scores = []
    for chunk in test_feats.split(chunk_size):
        similarity = chunk @ train_feats.t()
        top_sim, top_idx = similarity.topk(k, dim=1)
        weights = (top_sim / temperature).exp()
        votes = chunk.new_zeros(chunk.size(0), num_classes)
        votes.scatter_add_(1, train_labels[top_idx], weights)
        scores.append(votes)
    return torch.cat(scores) if scores else test_feats.new_zeros(
        0, num_classes)


def knn_accuracy(scores, labels, topk=(1, )):
    """Top-k accuracies in percent of :func:`knn_classify` scores.

    Args:
        scores (Tensor): ``(M, num_classes)`` scores.
        labels (Tensor): ``(M, )`` true labels.
        topk (Sequence[int]): Which accuracies. Defaults to ``(1, )``.

    Returns:
        dict: ``{'top1': float, ...}``.
    """
    labels = labels.to(scores.device).long()
    result = {}
    for k in topk:
        top = scores.topk(min(k, scores.size(1)), dim=1).indices
        correct = (top == labels[:, None]).any(dim=1).float()
        result[f'top{k}'] = correct.mean().item() * 100
    return result
