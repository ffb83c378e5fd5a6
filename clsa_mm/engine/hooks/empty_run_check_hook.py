import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dist import all_reduce, get_comm_device, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.models import BaseSelfSupervisor

from clsa_mm.registry import HOOKS


@HOOKS.register_module()
class EmptyRunCheckHook(Hook):
    """Refuse, before the first iteration, a run that would train nothing.

    MMEngine runs an epoch of a loader that yields no batch without a word,
    saves its checkpoints and exits 0: the "trained" model holds its initial
    weights. ``before_train`` raises an error (on every rank) when

    - the loader yields no batch: fewer images per process than the batch
      per process, with ``drop_last=True`` (the error names the number of
      images, the batch per process, the number of processes and what to
      change);
    - the schedule makes no step (``train_cfg.max_epochs`` or ``max_iters``
      of 0);
    - no parameter in the optimizer both requires a gradient and has a
      learning rate above 0, or, for a self-supervised model, none of its
      backbone does;
    - the model has an online probe (``model.online_probe``) but the
      training data set gives no labels (``UnlabeledImageDataset``) or more
      classes than the probe's ``num_classes``.

    When batches are produced but ``drop_last`` leaves out more than a
    quarter of each epoch, it logs one warning with the numbers.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        self._check_data(runner, loop.dataloader)
        if loop.max_iters <= 0:
            key, value = (('max_epochs', loop.max_epochs) if isinstance(
                loop, EpochBasedTrainLoop) else ('max_iters', loop.max_iters))
            raise ValueError(
                f'train_cfg.{key} is {value}: the schedule makes no training '
                f'step. Set train_cfg.{key} to at least 1.')
        self._check_parameters(runner)
        self._check_probe_labels(runner, loop.dataloader.dataset)

    @staticmethod
    def _check_data(runner, loader) -> None:
        batch_size = getattr(loader.batch_sampler, 'batch_size', None)
        if batch_size is None or isinstance(loader.sampler, InfiniteSampler):
            return
        num_images = len(loader.dataset)
        world_size = get_world_size()
        # The fewest batches of any rank (a sampler without round_up gives
        # the ranks different shares): all ranks stop together.
        fewest = torch.tensor([len(loader)], device=get_comm_device())
        all_reduce(fewest, op='min')
        per_process = len(loader.sampler)
        if int(fewest) == 0:
            global_batch = batch_size * world_size
            largest = num_images // world_size
            smaller = (f' or set train_dataloader.batch_size to at most '
                       f'{largest}' if largest else '')
            raise ValueError(
                f'The training data set has {num_images} images: with '
                f'{world_size} process(es) and train_dataloader.batch_size '
                f'{batch_size} per process (a global batch of {global_batch} '
                f'images), each process draws {per_process} images per epoch '
                'and its loader yields no complete batch, so no training '
                f'iteration would run. Use at least {global_batch} images'
                f'{smaller}.')
        if not loader.drop_last:
            return
        used = len(loader) * batch_size
        dropped = per_process - used
        if dropped * 4 > per_process:
            runner.logger.warning(
                f'train_dataloader.drop_last=True leaves out {dropped} of the '
                f'{per_process} images each process draws per epoch '
                f'({dropped / per_process:.0%}): {num_images} images, '
                f'{world_size} process(es), batch {batch_size} per process, '
                f'{len(loader)} batch(es) per epoch. Use a number of images '
                'near a multiple of the global batch '
                f'({batch_size * world_size}) or another batch size.')

    @staticmethod
    def _check_parameters(runner) -> None:
        wrapper = runner.optim_wrapper
        wrappers = (
            wrapper.values()
            if isinstance(wrapper, OptimWrapperDict) else [wrapper])
        trained, num_params = set(), 0
        for optim_wrapper in wrappers:
            for group in optim_wrapper.optimizer.param_groups:
                num_params += len(group['params'])
                if group.get('initial_lr', group['lr']) > 0:
                    trained.update(
                        id(p) for p in group['params'] if p.requires_grad)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        name = type(model).__name__
        if not trained:
            raise ValueError(
                f'No parameter of {name} would train: each of the '
                f'{num_params} parameters in the optimizer is frozen '
                '(requires_grad=False, e.g. by frozen_stages) or has a '
                'learning rate of 0 (optim_wrapper.optimizer.lr, '
                'paramwise_cfg lr_mult). Unfreeze the parameters the loss '
                'reaches or give them a learning rate.')
        backbone = getattr(model, 'backbone', None)
        if isinstance(model, BaseSelfSupervisor) and backbone is not None \
                and not any(id(p) in trained for p in backbone.parameters()):
            raise ValueError(
                f'The backbone of {name} would not train: each of its '
                'parameters is frozen (requires_grad=False, e.g. '
                'model.backbone.frozen_stages) or has a learning rate of 0 '
                '(paramwise_cfg lr_mult), so pretraining would save its '
                'initial weights. Unfreeze the backbone '
                '(model.backbone.frozen_stages=-1) or give it a learning '
                'rate.')

    @staticmethod
    def _check_probe_labels(runner, dataset) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        probe = getattr(model, 'online_probe', None)
        if probe is None or not hasattr(dataset, 'get_data_info'):
            return
        where = (f'train_dataloader.dataset ({type(dataset).__name__}, '
                 f'data_root={getattr(dataset, "data_root", None)!r})')
        if len(dataset) and 'gt_label' not in dataset.get_data_info(0):
            raise ValueError(
                f'model.online_probe needs the class of every training '
                f'image, but {where} gives no labels. Use a labelled data '
                'set: train_dataloader.dataset.type="CustomDataset" over an '
                'ImageNet-style train/<class>/* folder, or with an ann_file '
                'of "path label" lines (ImageNet\'s meta/train.txt); or '
                'remove model.online_probe.')
        classes = getattr(dataset, 'metainfo', {}).get('classes')
        if classes and len(classes) > probe.num_classes:
            raise ValueError(
                f'{where} has {len(classes)} classes but '
                f'model.online_probe.num_classes is {probe.num_classes}: set '
                f'model.online_probe.num_classes={len(classes)}.')
