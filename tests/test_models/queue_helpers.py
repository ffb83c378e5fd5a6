"""What tests of models with an ``EmbeddingQueue`` share."""
import re


def queue_len_error(queue_len, step, views, batch, world):
    """The whole error text of a queue length that does not fit a step of
    ``views`` views x ``batch`` per process x ``world`` processes, as a
    regex."""
    return '^' + re.escape(
        f'model.queue_len={queue_len} is not a multiple of the {step} '
        f'embeddings enqueued per step ({views} views x {batch} per process '
        f'x {world} processes). Set model.queue_len to a multiple of '
        f'{step}, or change the batch size.') + '$'
