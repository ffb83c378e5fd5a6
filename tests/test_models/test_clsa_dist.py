"""CLSA in two CPU processes (gloo): shuffle-BN, key gathering, the queue."""
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import MMDistributedDataParallel

from clsa_helpers import tiny_clsa, views
from gloo_helpers import WORLD, init_gloo, run_gloo

N = 2  # per process
SEED = 1234



def worker(rank, port, out_dir):
    init_gloo(rank, port)
    # Different initial weights and queues per rank, as with
    # diff_rank_seed=True: DDP must broadcast rank 0's.
    model = tiny_clsa(queue_len=3 * N * WORLD, seed=rank)
    ddp = MMDistributedDataParallel(model, broadcast_buffers=False)
    queue0 = model.queue.clone()
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    for step in range(2):
        x = views(batch=N, seed=10 * step + rank)
        # The key batch permutation is drawn on rank 0 and broadcast.
        torch.manual_seed(SEED + step)
        losses = ddp(x, None, mode='loss')
        encoder_k = {k: v.clone() for k, v in
                     model.encoder_k.module.state_dict().items()}
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        x_k_all = [torch.empty_like(x[0]) for _ in range(WORLD)]
        dist.all_gather(x_k_all, x[0])
        steps.append(dict(x_k_all=torch.cat(x_k_all), encoder_k=encoder_k,
                          losses={k: v.detach() for k, v in losses.items()}))
    torch.save(dict(queue0=queue0, queue=model.queue.clone(),
                    queue_ptr=model.queue_ptr.clone(), steps=steps,
                    params=[p.detach().clone()
                            for p in model.parameters()]),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def expected_keys(step, seed):
    """Shuffle-BN keys of all ranks, recomputed in one process."""
    model = tiny_clsa()
    model.encoder_k.module.load_state_dict(step['encoder_k'])
    x_all = step['x_k_all']
    torch.manual_seed(seed)
    idx = torch.randperm(N * WORLD)
    chunks = []
    with torch.no_grad():
        for r in range(WORLD):  # rank r's BN batch: shuffled chunk r
            k = model.encoder_k(x_all[idx.view(WORLD, N)[r]])[0]
            chunks.append(F.normalize(k, dim=1))
    return torch.cat(chunks)[torch.argsort(idx)]


def test_two_process_gloo_queue(tmp_path):
    out = run_gloo(worker, tmp_path)
    b = N * WORLD
    # The ranks start with different queues; rank 0's is used by both.
    assert not torch.allclose(out[0]['queue0'], out[1]['queue0'])
    for p0, p1 in zip(out[0]['params'], out[1]['params']):
        torch.testing.assert_close(p0, p1)
    torch.testing.assert_close(out[0]['queue'], out[1]['queue'])
    assert int(out[0]['queue_ptr']) == int(out[1]['queue_ptr']) == 2 * b
    queue = out[0]['queue']
    for i, step in enumerate(out[0]['steps']):
        keys = expected_keys(step, SEED + i)
        # columns rank * N + n: the keys of both ranks, in rank order
        torch.testing.assert_close(queue[:, i * b:(i + 1) * b], keys.t(),
                                   rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(queue[:, 2 * b:], out[0]['queue0'][:, 2 * b:])
    for r in range(WORLD):
        assert all(torch.isfinite(v).all()
                   for s in out[r]['steps'] for v in s['losses'].values())
