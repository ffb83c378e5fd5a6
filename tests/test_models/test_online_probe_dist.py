"""The online probe and the k-NN monitor in two CPU processes (gloo): DDP
synchronises the probe, the val metric and the k-NN features are gathered
over the ranks."""
import os
from types import SimpleNamespace

import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmpretrain.structures import DataSample

from clsa_helpers import tiny_clsa, views
from clsa_mm.engine.hooks import KNNMonitorHook
from clsa_mm.evaluation import OnlineProbeAccuracy
from knn_monitor_helpers import knn_loader_cfg, image_folder
from gloo_helpers import WORLD, init_gloo, run_gloo

N = 2  # per process


def labelled(batch, seed):
    gen = torch.Generator().manual_seed(seed)
    return [DataSample().set_gt_label(int(c))
            for c in torch.randint(3, (batch, ), generator=gen)]


def worker(rank, port, out_dir, data_root):
    init_gloo(rank, port)
    model = tiny_clsa(queue_len=2 * N * WORLD, seed=rank,
                      online_probe=dict(num_classes=3))
    ddp = MMDistributedDataParallel(model, broadcast_buffers=False)
    # The k-NN monitor on rank 0's initial weights (DDP broadcast them), each
    # rank reading its share of the folder.
    knn = KNNMonitorHook(**knn_loader_cfg(data_root), k=3).evaluate(
        SimpleNamespace(model=ddp))
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(2):
        losses = ddp(views(batch=N, seed=10 * step + rank),
                     labelled(N, 10 * step + rank), mode='loss')
        loss, _ = model.parse_losses(losses)
        optim.zero_grad()
        loss.backward()
        optim.step()
    # The val loop's metric over this rank's share of 6 images.
    model.eval()
    images = torch.randn(6, 3, 32, 32, generator=torch.Generator()
                         .manual_seed(99))
    samples = labelled(6, 99)
    mine = list(range(rank, 6, WORLD))  # as DefaultSampler splits
    with torch.no_grad():
        preds = model(images[mine], [samples[i] for i in mine],
                      mode='predict')
    metric = OnlineProbeAccuracy()
    metric.process([], [p.to_dict() for p in preds])
    val = metric.evaluate(6)
    torch.save(dict(probe=model.online_probe.state_dict(), val=val, knn=knn,
                    preds=[p.pred_score for p in preds], mine=mine,
                    samples=samples),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_process_gloo_probe_and_knn(tmp_path):
    data_root = image_folder(tmp_path / 'data', separable=False)
    out = run_gloo(worker, tmp_path, data_root)
    # DDP broadcast rank 0's start and averaged the gradients: one probe.
    for key, value in out[0]['probe'].items():
        if 'running' not in key and 'num_batches' not in key:
            assert torch.equal(out[1]['probe'][key], value), key
    assert out[0]['probe']['fc.weight'].abs().sum() > 0
    # The val metric covers all 6 images, each scored by its own rank.
    assert out[0]['val'] == out[1]['val']
    scores = torch.empty(6, 3)
    for rank_out in out:
        scores[rank_out['mine']] = torch.stack(rank_out['preds'])
    labels = torch.tensor([s.gt_label.item() for s in out[0]['samples']])
    expected = (scores.argmax(1) == labels).float().mean().item() * 100
    assert out[0]['val'] == {'online_probe/val_top1': expected}
    # k-NN: the top-1 of one process over all images, on both ranks.
    single = KNNMonitorHook(**knn_loader_cfg(data_root), k=3).evaluate(
        SimpleNamespace(model=tiny_clsa(seed=0)))
    assert out[0]['knn'] == out[1]['knn'] == single
