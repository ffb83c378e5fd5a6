default_scope = 'clsa_mm'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Crash safety: atomic checkpoint writes, RNG states in checkpoints,
    # stop at the first NaN/Inf loss term (clsa_mm/engine/hooks).
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    rng_state=dict(type='RNGStateHook'),
    finite_loss=dict(type='FiniteLossHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # load_from/--resume must fit the model (MMEngine loads non-strictly).
    checkpoint_match=dict(type='CheckpointMatchHook'),
    # Refuse a run that would train nothing (data smaller than a global
    # batch, no step, nothing trainable) before the first iteration.
    empty_run_check=dict(type='EmptyRunCheckHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(window_size=10)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
