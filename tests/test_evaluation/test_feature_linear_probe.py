"""clsa_mm.evaluation.linear_probe: logistic regression on frozen features,
compared with the objective written out and minimised in plain torch."""
import torch
import torch.nn.functional as F

from clsa_mm.evaluation import linear_probe


def reference_predictions(train_x, train_y, val_x, weight_decay):
    """argmax of the minimiser of mean cross-entropy + wd / 2 * ||W||^2 on
    the standardised features (bias free), found by float64 L-BFGS."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    x = ((train_x - mean) / std).double()
    num_classes = int(train_y.max()) + 1
    weight = torch.zeros(num_classes, x.size(1), dtype=torch.float64,
                         requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=5000,
                                  tolerance_grad=1e-12,
                                  tolerance_change=1e-15,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight.t() + bias, train_y)
        loss = loss + weight_decay * weight.pow(2).sum() / 2
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return (((val_x - mean) / std).double() @ weight.t() + bias).argmax(1)


def overlapping_classes(seed, num=40, dims=6, classes=3):
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dims, generator=gen)
    labels = torch.arange(num) % classes
    feats = centres[labels] + 1.2 * torch.randn(num, dims, generator=gen)
    return feats * 5 + 3, labels  # not standardised


def test_linear_probe_is_the_penalised_logistic_regression():
    train_x, train_y = overlapping_classes(0)
    val_x, val_y = overlapping_classes(1, num=300)
    for weight_decay in (1e-3, 0.3):
        expected = reference_predictions(train_x, train_y, val_x,
                                         weight_decay)
        top1 = (expected == val_y).double().mean().item() * 100
        assert linear_probe(train_x, train_y, val_x, val_y,
                            weight_decay=weight_decay) == top1
    # The penalty matters here: the two weights score differently.
    strong = linear_probe(train_x, train_y, val_x, val_y, weight_decay=30)
    assert strong != linear_probe(train_x, train_y, val_x, val_y)


def test_linear_probe_separates_separable_classes():
    gen = torch.Generator().manual_seed(2)
    labels = torch.arange(60) % 4
    feats = 10 * torch.eye(4, 16)[labels] + torch.randn(60, 16, generator=gen)
    assert linear_probe(feats[:40], labels[:40], feats[40:],
                        labels[40:]) == 100.0
