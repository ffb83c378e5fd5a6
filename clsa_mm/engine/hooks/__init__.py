from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_match_hook import CheckpointMatchHook
from .empty_run_check_hook import EmptyRunCheckHook
from .finite_loss_hook import FiniteLossHook
from .knn_monitor_hook import KNNMonitorHook
from .momentum_queue_hook import MomentumQueueHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointMatchHook', 'EmptyRunCheckHook',
    'FiniteLossHook', 'KNNMonitorHook', 'MomentumQueueHook', 'RNGStateHook'
]
