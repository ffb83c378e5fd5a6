from mmpretrain.evaluation import Accuracy

from clsa_mm.registry import METRICS


@METRICS.register_module()
class OnlineProbeAccuracy(Accuracy):
    """Top-k accuracy (%) of the online probe in the val loop, logged as
    ``online_probe/val_top1`` (``val_top5`` ...), apart from the training
    batch's ``online_probe/top1``.

    Args:
        topk (int or Sequence[int]): Which accuracies. Defaults to 1.
        collect_device (str): Where the ranks' results are gathered
            (``'cpu'`` or ``'gpu'``). Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the names. Defaults to
            ``'online_probe'``.
    """
    default_prefix = 'online_probe'

    def __init__(self, topk=1, collect_device='cpu', prefix=None):
        super().__init__(
            topk=topk, collect_device=collect_device, prefix=prefix)

    def compute_metrics(self, results):
        return {
            f'val_{name}': value
            for name, value in super().compute_metrics(results).items()
        }
