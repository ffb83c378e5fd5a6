from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.dist import broadcast, get_world_size


class EmbeddingQueue:
    """A queue of past embeddings, mixed into a model (``CLSA``, ``BYOLDDM``).

    The model gets two buffers, saved in its checkpoints: ``queue``, d×K
    L2-normalised columns (random at the start), and ``queue_ptr``, the
    column the next embeddings go to. Each step enqueues the same
    ``views_per_step × N × W`` columns on every rank (N per process, W
    processes), so K must be 0 (no queue) or a multiple of that.
    :meth:`start_queue` checks it and gives every rank rank 0's queue (ranks
    seeded differently start with different ones; DDP does not sync
    buffers): ``MomentumQueueHook`` calls it before training, the model at
    its first step otherwise.
    """

    def init_queue(self, feat_dim: int, queue_len: int,
                   views_per_step: int = 1) -> None:
        """Register ``queue`` (``feat_dim``×``queue_len``) and ``queue_ptr``;
        each step enqueues ``views_per_step`` views of each sample."""
        if not (isinstance(queue_len, int) and queue_len >= 0):
            raise ValueError(
                f'model.queue_len must be an int >= 0, got {queue_len!r}')
        self.queue_len = queue_len
        self.queue_views = views_per_step
        self.queue_started = False
        self.register_buffer(
            'queue', F.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))

    def start_queue(self, batch_size: int,
                    world_size: Optional[int] = None) -> None:
        """Check K against a step's columns for ``batch_size`` per process
        and ``world_size`` processes (default: the current world); take rank
        0's queue."""
        if world_size is None:
            world_size = get_world_size()
        step = self.queue_views * batch_size * world_size
        if self.queue_len % step:
            raise ValueError(
                f'model.queue_len={self.queue_len} is not a multiple of the '
                f'{step} embeddings enqueued per step ({self.queue_views} '
                f'views x {batch_size} per process x {world_size} '
                f'processes). Set model.queue_len to a multiple of {step}, '
                'or change the batch size.')
        broadcast(self.queue, src=0)
        self.queue_started = True

    @torch.no_grad()
    def enqueue(self, columns: torch.Tensor) -> None:
        """Write ``columns`` (M×d, all ranks') at the pointer; advance it."""
        if self.queue_len == 0:
            return
        idx = (self.queue_ptr + torch.arange(
            columns.shape[0], device=columns.device)) % self.queue_len
        self.queue.index_copy_(1, idx, columns.t().to(self.queue.dtype))
        self.queue_ptr.add_(columns.shape[0]).remainder_(self.queue_len)
