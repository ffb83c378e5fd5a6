"""MoCoV3DDM in two CPU processes (gloo): the gathered DDM bank."""
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import MMDistributedDataParallel

import clsa_mm.models.heads.ddm_head as ddm_head
from mocov3_helpers import current_hub, tiny_mocov3, views
from gloo_helpers import WORLD, init_gloo, run_gloo

N = 3  # per process


def worker(rank, port, out_dir):
    init_gloo(rank, port)
    current_hub(10)
    # Different initial weights per rank: DDP broadcasts rank 0's.
    model = tiny_mocov3(seed=rank, num_strong_views=1)
    ddp = MMDistributedDataParallel(model)
    seen = []
    ddm_loss = ddm_head.ddm_loss

    def spy(anchors, strongs, bank, temperature, excluded, **kwargs):
        seen.append(dict(anchors=[a.detach() for a in anchors],
                         bank=bank.detach(), excluded=excluded))
        return ddm_loss(anchors, strongs, bank, temperature,
                        excluded=excluded, **kwargs)

    ddm_head.ddm_loss = spy
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
    out = run_gloo(worker, tmp_path)
    (step0, ), (step1, ) = out[0]['seen'], out[1]['seen']
    b = N * WORLD
    # One bank [K_1all; K_2all], the same on both ranks.
    assert step0['bank'].shape == (16, 2 * b)
    torch.testing.assert_close(step0['bank'], step1['bank'])
    for r, rank_out in enumerate(out):
        (step, ) = rank_out['seen']
        for c in range(2):
            # Column c·B + r·N + n: crop c of sample n of rank r.
            cols = slice(c * b + r * N, c * b + (r + 1) * N)
            torch.testing.assert_close(step['bank'][:, cols],
                                       rank_out['own'][c].t())
            # Anchor c leaves out its own crop's keys: it is scored
            # against the other crop's.
            assert torch.equal(step['excluded'][c],
                               torch.arange(c * b, (c + 1) * b).expand(N, b))
        assert torch.isfinite(rank_out['loss_ddm'])
        # pos_sim reads the positive of row n at the other crop's column
        # r·N + n.
        expected_pos = torch.cat([
            (a @ step['bank'][:, (1 - c) * b:(2 - c) * b])[
                :, r * N:(r + 1) * N].diagonal()
            for c, a in enumerate(step['anchors'])]).mean()
        torch.testing.assert_close(rank_out['pos_sim'], expected_pos)
