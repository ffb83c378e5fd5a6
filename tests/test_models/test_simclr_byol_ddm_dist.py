"""SimCLR-DDM and BYOL-DDM in two CPU processes (gloo): gathered banks."""
import os

import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel

from simclr_byol_helpers import (byol_spec_losses, byol_step_embeddings,
                                 simclr_spec_losses, simclr_step_embeddings,
                                 tiny_byol, tiny_simclr, views)
from gloo_helpers import WORLD, init_gloo, run_gloo

N = 2  # per process



def one_step(model, x):
    """One DDP step; returns what the test compares."""
    x = [v.double() for v in x]
    ddp = MMDistributedDataParallel(model, broadcast_buffers=False)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = ddp(x, None, mode='loss')
    optim.zero_grad()
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    optim.step()
    return dict(start=start, x=x,
                losses={k: v.detach() for k, v in losses.items()},
                params=[p.detach().clone() for p in model.parameters()])


def worker(rank, port, out_dir):
    init_gloo(rank, port)
    # Different initial weights and queues per rank (diff_rank_seed=True):
    # DDP broadcasts rank 0's weights, the model rank 0's queue.
    # fp64, so that the reference can be held to 1e-5.
    simclr = tiny_simclr(seed=rank, t2=0.3,
                         beta=0.5).double()
    out = dict(simclr=one_step(simclr, views(batch=N, seed=10 + rank)))
    byol = tiny_byol(seed=rank, queue_len=2 * 2 * N * WORLD,
                     t2=0.3, beta=0.5).double()
    queue0 = byol.queue.clone()
    out['byol'] = one_step(byol, views(batch=N, seed=20 + rank))
    out['byol'].update(queue0=queue0, queue=byol.queue.clone(),
                       queue_ptr=int(byol.queue_ptr))
    torch.save(out, os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_process_gloo_banks(tmp_path):
    out = run_gloo(worker, tmp_path)
    for name in ('simclr', 'byol'):
        # Both ranks start from rank 0's weights and end equal.
        for key, value in out[0][name]['start'].items():
            if key != 'queue':
                torch.testing.assert_close(
                    out[1][name]['start'][key], value, msg=key)
        for p0, p1 in zip(out[0][name]['params'], out[1][name]['params']):
            torch.testing.assert_close(p0, p1)

    # SimCLR: each rank's BN batch is its own 2N rows; the bank holds the
    # 2B rows of both ranks in rank order.
    model = tiny_simclr().double()
    model.load_state_dict(out[0]['simclr']['start'])
    per_rank = [simclr_step_embeddings(model, o['simclr']['x'][:2],
                                       o['simclr']['x'][2:]) for o in out]
    z_all = torch.cat([z for z, _ in per_rank])
    for rank, (_, strongs) in enumerate(per_rank):
        loss, loss_ddm = simclr_spec_losses(z_all, strongs, rank, t=0.1,
                                            t2=0.3, beta=0.5)
        losses = out[rank]['simclr']['losses']
        assert abs(losses['loss_contrastive'].item() - loss.item()) < 1e-5
        assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5

    # BYOL: bank of crop c = [targets of crop 1 - c of both ranks; queue].
    model = tiny_byol(queue_len=2 * 2 * N * WORLD).double()
    model.load_state_dict(out[0]['byol']['start'])
    queue0 = out[0]['byol']['queue0']
    assert not torch.allclose(queue0, out[1]['byol']['queue0'])
    per_rank = [byol_step_embeddings(model, o['byol']['x'][:2],
                                     o['byol']['x'][2:]) for o in out]
    targets_all = [torch.cat([t[c] for _, t, _ in per_rank])
                   for c in range(2)]
    for rank, (preds, _, strongs) in enumerate(per_rank):
        loss, loss_ddm = byol_spec_losses(preds, targets_all, queue0,
                                          strongs, rank, t2=0.3, beta=0.5)
        losses = out[rank]['byol']['losses']
        assert abs(losses['loss_byol'].item() - loss.item()) < 1e-5
        assert abs(losses['loss_ddm'].item() - loss_ddm.item()) < 1e-5
    # Both ranks enqueue the same 2B targets: crop 1 of all ranks, crop 2.
    b = N * WORLD
    for o in out:
        assert o['byol']['queue_ptr'] == 2 * b
        queue = o['byol']['queue']
        torch.testing.assert_close(queue[:, :2 * b],
                                   torch.cat(targets_all).t(),
                                   rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(queue[:, 2 * b:], queue0[:, 2 * b:])
