from .checkpoint_match_hook import CheckpointMatchHook

__all__ = ['CheckpointMatchHook']
