import json

import numpy as np
import pytest
import torch

from clsa_mm.evaluation import knn_accuracy, knn_classify
from cli_helpers import run_tool
from eval_helpers import linear_probe_config


def direct_knn_scores(train_feats, train_labels, test_feats, num_classes, k,
                      temperature):
    """The k-NN vote written out one test sample at a time in numpy."""
    train = train_feats.double().numpy()
    test = test_feats.double().numpy()
    train /= np.linalg.norm(train, axis=1, keepdims=True)
    scores = np.zeros((len(test), num_classes))
    for i, feat in enumerate(test):
        cosine = train @ feat / np.linalg.norm(feat)
        for j in np.argsort(-cosine)[:k]:
            scores[i, train_labels[j]] += np.exp(cosine[j] / temperature)
    return scores


def test_knn_classify_matches_direct_computation():
    gen = torch.Generator().manual_seed(0)
    train = torch.randn(50, 8, generator=gen) * 3  # not normalised
    labels = torch.randint(0, 4, (50, ), generator=gen)
    test = torch.randn(13, 8, generator=gen)
    # chunk_size 5 splits the 13 queries into 3 similarity matrices
    scores = knn_classify(
        train, labels, test, 4, k=7, temperature=0.07, chunk_size=5)
    expected = direct_knn_scores(train, labels, test, 4, 7, 0.07)
    np.testing.assert_allclose(scores.double().numpy(), expected, rtol=1e-4)
    assert torch.equal(scores.argmax(1),
                       torch.from_numpy(expected.argmax(1)))


def test_temperature_weighting_overrules_the_majority():
    # Two class-0 neighbours at cosine 0.5, one class-1 neighbour at 0.9:
    # a majority vote says 0, exp(s / 0.07) weights say 1.
    train = torch.tensor([[0.5, 0.75**0.5], [0.5, -0.75**0.5],
                          [0.9, 0.19**0.5], [-1.0, 0.0]])
    labels = torch.tensor([0, 0, 1, 2])
    test = torch.tensor([[1.0, 0.0]])
    scores = knn_classify(train, labels, test, 3, k=3, temperature=0.07)
    assert scores.argmax().item() == 1
    assert scores[0, 2] == 0  # the 4th sample is not among the 3 neighbours
    np.testing.assert_allclose(
        scores[0, :2].numpy(), [2 * np.exp(0.5 / 0.07),
                                np.exp(0.9 / 0.07)], rtol=1e-5)
    # at a high temperature the weights even out and the majority wins
    scores = knn_classify(train, labels, test, 3, k=3, temperature=100.)
    assert scores.argmax().item() == 0


def test_k_larger_than_the_training_set_uses_all_samples():
    # At a high temperature every neighbour weighs about 1: the votes count
    # all three training samples.
    train = torch.eye(3)
    scores = knn_classify(train, torch.tensor([0, 1, 1]), torch.eye(3), 2,
                          k=20, temperature=1e4)
    np.testing.assert_allclose(scores.numpy(), [[1, 2]] * 3, rtol=1e-3)


def test_knn_accuracy():
    scores = torch.tensor([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    result = knn_accuracy(scores, torch.tensor([2, 0]), topk=(1, 2))
    assert result == pytest.approx({'top1': 50.0, 'top2': 100.0})


def test_knn_eval_tool_finds_each_training_image_itself(
        tmp_path, tiny_imagenet, clsa_r18):
    # With the training images as queries and k=1, every query's nearest
    # neighbour is itself: 100 % unless features or labels are misaligned.
    config = linear_probe_config(tmp_path / 'cfg.py', tiny_imagenet)
    out = tmp_path / 'knn.json'
    proc = run_tool([
        'tools/benchmarks/knn_eval.py', config, clsa_r18, '--k', '1',
        '--out', str(out), '--cfg-options',
        'val_dataloader.dataset.data_prefix=train'
    ])
    assert 'k-NN (k=1, T=0.07) on 12 val images: knn/top1: 100.00' in (
        proc.stdout + proc.stderr)
    assert json.loads(out.read_text()) == {'knn/top1': 100.0}
