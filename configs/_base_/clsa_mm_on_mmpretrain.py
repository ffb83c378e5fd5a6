# What a DDM config on an mmpretrain recipe (configs/clsa/*-ddm_*.py) takes
# from clsa_mm besides its model and its strong view, as helpers (an
# mmpretrain config and this file may not set the same keys):
# - unlabeled_images: the train data set of every clsa_mm pretraining
#   config, any folder (searched recursively) or list file of images, so
#   that --cfg-options train_dataloader.dataset.data_root=DIR points any of
#   them at DIR/train (mmpretrain's ImageNet wants 1000 class folders);
# - clsa_mm_hooks: clsa_mm's crash-safety hooks (default_runtime.py).
unlabeled_images = dict(
    _scope_='clsa_mm',
    type='UnlabeledImageDataset',
    data_root='data/imagenet/',
    data_prefix='train')
clsa_mm_hooks = dict(
    checkpoint=dict(_scope_='clsa_mm', type='AtomicCheckpointHook'),
    rng_state=dict(_scope_='clsa_mm', type='RNGStateHook'),
    finite_loss=dict(_scope_='clsa_mm', type='FiniteLossHook'),
    checkpoint_match=dict(_scope_='clsa_mm', type='CheckpointMatchHook'),
    empty_run_check=dict(_scope_='clsa_mm', type='EmptyRunCheckHook'))
