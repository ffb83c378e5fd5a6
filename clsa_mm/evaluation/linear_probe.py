"""Logistic regression on frozen features."""
from sklearn.linear_model import LogisticRegression


def linear_probe(train_feats, train_labels, val_feats, val_labels,
                 weight_decay=1e-3, max_iter=10000):
    """Top-1 (%) of a multinomial logistic regression on frozen features.

    The features are standardised with the training mean and std, then
    scikit-learn's ``LogisticRegression`` (L-BFGS, multinomial) minimises the
    mean cross-entropy plus ``weight_decay / 2 * ||W||^2`` (bias not
    penalised) to convergence: the result is the minimiser's, whatever the
    solver's path, and deterministic.

    Args:
        train_feats (Tensor): ``(N, C)`` training features.
        train_labels (Tensor): ``(N, )`` integer labels.
        val_feats (Tensor): ``(M, C)`` features to classify.
        val_labels (Tensor): ``(M, )`` their labels.
        weight_decay (float): The L2 weight. Defaults to 1e-3.
        max_iter (int): L-BFGS iterations at most (scikit-learn warns if
            they do not suffice). Defaults to 10000.

    Returns:
        float: Top-1 accuracy in percent.
    """
    mean = train_feats.mean(0)
    std = train_feats.std(0) + 1e-6
    x_train = ((train_feats - mean) / std).double().cpu().numpy()
    x_val = ((val_feats - mean) / std).double().cpu().numpy()
    classifier = LogisticRegression(
        C=1 / (weight_decay * len(x_train)), max_iter=max_iter, tol=1e-8)
    classifier.fit(x_train, train_labels.cpu().numpy())
    correct = classifier.predict(x_val) == val_labels.cpu().numpy()
    return float(correct.mean()) * 100
