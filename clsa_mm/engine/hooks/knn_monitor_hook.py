import time
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.dist import broadcast_object_list, collect_results, get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from clsa_mm.evaluation import (KNN_DEFAULTS, build_feature_loader,
                                extract_features, knn_accuracy, knn_classify)
from clsa_mm.registry import HOOKS, clsa_mm_scope
from .rng_state_hook import get_rng_state, set_rng_state


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """k-NN top-1 of the current backbone every ``interval`` epochs.

    The protocol of ``tools/benchmarks/knn_eval.py``
    (:func:`~clsa_mm.evaluation.extract_features`,
    :func:`~clsa_mm.evaluation.knn_classify`): the global-average-pooled,
    L2-normalised last backbone output of every ``train_dataloader`` image
    (read with the ``val_dataloader`` pipeline, unshuffled) is the memory
    bank, and each ``val_dataloader`` image is classified by the
    exp(similarity / T)-weighted vote of its ``k`` nearest. The images go
    through the model's own data preprocessor, the backbone in eval mode
    (its BatchNorm statistics untouched); each rank reads its share and the
    features are gathered. After the epoch, ``knn/top1`` and
    ``knn/seconds`` (the wall time of the evaluation) are logged, and
    written to the scalar logs with the number of epochs as ``step``, as
    the val loop's metrics. The random states are restored afterwards, so
    the run trains as it would without the hook.

    Args:
        train_dataloader (dict): The memory bank's loader (a labelled data
            set; a subset of the training images is enough).
        val_dataloader (dict): The loader of the classified images; its
            dataset's pipeline is used for both.
        interval (int): Evaluate every ``interval`` epochs (and after the
            last). Defaults to 1.
        k (int): The neighbours. Defaults to 20 (as knn_eval.py).
        temperature (float): T of the vote. Defaults to 0.07 (as
            knn_eval.py).
    """

    priority = 'LOW'

    def __init__(self,
                 train_dataloader: dict,
                 val_dataloader: dict,
                 interval: int = 1,
                 k: int = KNN_DEFAULTS['k'],
                 temperature: float = KNN_DEFAULTS['temperature']) -> None:
        if not (isinstance(interval, int) and interval >= 1):
            raise ValueError(f'KNNMonitorHook interval must be an int >= 1, '
                             f'got {interval!r}')
        self.loaders_cfg = Config(
            dict(train_dataloader=train_dataloader,
                 val_dataloader=val_dataloader))
        self.interval = interval
        self.k = k
        self.temperature = temperature
        self._loaders: Optional[dict] = None

    def after_train_epoch(self, runner) -> None:
        if not (self.every_n_epochs(runner, self.interval)
                or self.is_last_train_epoch(runner)):
            return
        start = time.perf_counter()
        top1 = self.evaluate(runner)
        seconds = time.perf_counter() - start
        metrics = {'knn/top1': top1, 'knn/seconds': seconds}
        runner.visualizer.add_scalars(metrics, step=runner.epoch + 1)
        runner.logger.info(
            f'Epoch(knn) [{runner.epoch + 1}] knn/top1: {top1:.2f}  '
            f'knn/seconds: {seconds:.1f}  (k={self.k}, '
            f'T={self.temperature})')

    def evaluate(self, runner) -> float:
        """The k-NN top-1 (%) of the model's backbone now, on all ranks."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        rng = get_rng_state()  # building a sampler draws a seed
        training = model.backbone.training
        try:
            if self._loaders is None:
                with clsa_mm_scope():
                    self._loaders = {
                        split: build_feature_loader(self.loaders_cfg, split)
                        for split in ('train', 'val')
                    }
            feats = {
                split: self._gathered_features(model, loader)
                for split, loader in self._loaders.items()
            }
        finally:
            model.backbone.train(training)
            set_rng_state(rng)
        top1 = [None]
        if get_rank() == 0:
            dataset = self._loaders['train'].dataset
            classes = dataset.metainfo.get('classes')
            num_classes = len(classes) if classes else int(
                max(feats['train'][1].max(), feats['val'][1].max())) + 1
            scores = knn_classify(
                *feats['train'], feats['val'][0], num_classes, k=self.k,
                temperature=self.temperature)
            top1 = [knn_accuracy(scores, feats['val'][1])['top1']]
        broadcast_object_list(top1)
        return top1[0]

    @staticmethod
    def _gathered_features(model, loader) -> Optional[tuple]:
        """This rank's features and labels, gathered in data set order on
        rank 0 (None elsewhere)."""
        feats, labels = extract_features(
            model.backbone, model.data_preprocessor, loader, progress=False)
        rows = collect_results(
            list(zip(feats.cpu(), labels.cpu())), len(loader.dataset))
        if rows is None:
            return None
        return torch.stack([f for f, _ in rows]), torch.stack(
            [label for _, label in rows])

