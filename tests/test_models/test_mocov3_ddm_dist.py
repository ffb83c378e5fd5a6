"""MoCoV3DDM in two CPU processes (gloo): the gathered DDM banks."""
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmengine.model import MMDistributedDataParallel

import clsa_mm.models.algorithms.mocov3_ddm as mocov3_ddm
from cli_helpers import free_port
from mocov3_helpers import current_hub, tiny_mocov3, views

WORLD = 2
N = 3  # per process


def worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    current_hub(10)
    # Different initial weights per rank: DDP broadcasts rank 0's.
    model = tiny_mocov3(seed=rank, num_strong_views=1)
    ddp = MMDistributedDataParallel(model)
    seen = []
    ddm_loss = mocov3_ddm.ddm_loss

    def spy(anchors, strongs, banks, temperature, **kwargs):
        seen.append(dict(anchors=[a.detach() for a in anchors],
                         strongs=[s.detach() for s in strongs],
                         banks=[b.detach() for b in banks]))
        return ddm_loss(anchors, strongs, banks, temperature, **kwargs)

    mocov3_ddm.ddm_loss = spy
    x = views(3, batch=N, seed=rank)
    losses = ddp(x, None, mode='loss')
    with torch.no_grad():  # this rank's own keys (local BN batch)
        own = [F.normalize(model.momentum_encoder(v)[0], dim=1)
               for v in x[:2]]
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    torch.save(dict(seen=seen, own=own, loss_ddm=losses['loss_ddm'].detach(),
                    pos_sim=losses['pos_sim']),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_process_gloo_banks(tmp_path):
    mp.start_processes(worker, args=(free_port(), str(tmp_path)),
                       nprocs=WORLD, join=True, start_method='spawn')
    out = [torch.load(tmp_path / f'rank{r}.pth', weights_only=False)
           for r in range(WORLD)]
    (step0, ), (step1, ) = out[0]['seen'], out[1]['seen']
    for bank0, bank1 in zip(step0['banks'], step1['banks']):
        assert bank0.shape == (16, N * WORLD)
        torch.testing.assert_close(bank0, bank1)  # the ranks agree
    for r, rank_out in enumerate(out):
        (step, ) = rank_out['seen']
        cols = slice(r * N, (r + 1) * N)
        # Anchor of crop c against the other crop's keys: column r·N + n of
        # the bank is sample n of rank r, i.e. each row's own sample.
        for c in range(2):
            torch.testing.assert_close(step['banks'][c][:, cols],
                                       rank_out['own'][1 - c].t())
        assert torch.isfinite(rank_out['loss_ddm'])
        # pos_sim reads the positive of row n at column r·N + n.
        expected_pos = torch.cat([
            (a @ b)[:, cols].diagonal()
            for a, b in zip(step['anchors'], step['banks'])]).mean()
        torch.testing.assert_close(rank_out['pos_sim'], expected_pos)
