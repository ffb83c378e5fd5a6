from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_match_hook import CheckpointMatchHook
from .finite_loss_hook import FiniteLossHook
from .momentum_queue_hook import MomentumQueueHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointMatchHook', 'FiniteLossHook',
    'MomentumQueueHook', 'RNGStateHook'
]
