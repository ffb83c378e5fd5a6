import math

import numpy as np
import pytest
from cli_helpers import run_tool
from mmengine.visualization import LocalVisBackend
from PIL import Image

from clsa_mm.visualization import curve_panels, load_scalar_logs


def write_run(work_dir, timestamp, steps, truncate_last=False):
    """Log like MMEngine's LoggerHook does, through LocalVisBackend."""
    backend = LocalVisBackend(save_dir=str(work_dir / timestamp / 'vis_data'))
    for step in steps:
        backend.add_scalars(
            dict(lr=0.03 * math.cos(step / 40), data_time=0.01,
                 loss=9 - step / 20, loss_contrastive=6 - step / 40,
                 loss_ddm=3 - step / 40, time=0.2, queue_ptr=step * 8 % 256,
                 pos_sim=step / 100, epoch=step // 10 + 1, iter=step,
                 memory=10),
            step=step, file_path=f'{timestamp}.json')
        if step % 10 == 0:  # a validation after every epoch of 10 iters
            backend.add_scalars({'accuracy/top1': step / 2},
                                step=step // 10,
                                file_path=f'{timestamp}.json')
    if truncate_last:
        with open(work_dir / timestamp / 'vis_data/scalars.json', 'a') as f:
            f.write('{"lr": 0.01, "loss')  # killed while logging


def test_resumed_run_continues_the_curves(tmp_path):
    write_run(tmp_path, '20240101_000000', range(1, 31), truncate_last=True)
    # Resumed from the checkpoint at iteration 20: 21..30 are trained again.
    write_run(tmp_path, '20240101_010000', range(21, 41))
    train, val = load_scalar_logs(str(tmp_path))
    assert [r['step'] for r in train] == list(range(1, 41))
    assert train[25]['loss'] == pytest.approx(9 - 26 / 20)
    assert [(r['step'], r['accuracy/top1'])
            for r in val] == [(1, 5.0), (2, 10.0), (3, 15.0), (4, 20.0)]
    assert len(val) == 4  # epoch 3, validated by both runs, counted once
    panels = {title: names for title, _, _, names in curve_panels(train, val)}
    assert panels == {
        'losses': ['loss', 'loss_contrastive', 'loss_ddm'],
        'learning rate': ['lr'],
        'queue_ptr': ['queue_ptr'],
        'pos_sim': ['pos_sim'],
        'val: accuracy/top1': ['accuracy/top1'],
    }


def test_plot_logs_writes_png(tmp_path):
    write_run(tmp_path, '20240101_000000', range(1, 41))
    proc = run_tool(['tools/analysis_tools/plot_logs.py', str(tmp_path)])
    assert ('Plotted losses, learning rate, queue_ptr, pos_sim, '
            'val: accuracy/top1') in proc.stdout + proc.stderr
    png = np.asarray(Image.open(tmp_path / 'training_curves.png'))
    # Three panels per row, two rows; not a blank canvas.
    assert png.shape[0] > 400 and png.shape[1] > 1000
    assert len(np.unique(png.reshape(-1, png.shape[-1]), axis=0)) > 50

    out = tmp_path / 'only_losses.png'
    proc = run_tool([
        'tools/analysis_tools/plot_logs.py',
        str(tmp_path), '--out',
        str(out), '--keys', 'loss_contrastive', 'loss_ddm'
    ])
    assert 'Plotted losses to' in proc.stdout + proc.stderr
    assert out.exists()


def test_plot_logs_without_logs_fails_clearly(tmp_path):
    proc = run_tool(['tools/analysis_tools/plot_logs.py',
                     str(tmp_path)], check=False)
    assert proc.returncode != 0
    assert 'No MMEngine logs in' in proc.stderr


def test_online_probe_and_knn_curves_share_a_top1_panel(tmp_path):
    backend = LocalVisBackend(save_dir=str(tmp_path / '20240101' /
                                           'vis_data'))
    for step in range(1, 21):
        backend.add_scalars(
            dict(lr=0.03, loss=5 - step / 10, iter=step, epoch=step // 10,
                 **{'online_probe/loss': 1.1 - step / 40,
                    'online_probe/top1': step * 4.0}), step=step)
        if step % 10 == 0:  # after each epoch: the monitor, then the val loop
            backend.add_scalars({'knn/top1': step * 3.0, 'knn/seconds': 1.5},
                                step=step // 10)
            backend.add_scalars({'online_probe/val_top1': step * 2.0},
                                step=step // 10)
    train, val = load_scalar_logs(str(tmp_path))
    panels = {title: names for title, _, _, names in curve_panels(train, val)}
    assert panels == {
        'losses': ['loss'],
        'learning rate': ['lr'],
        'online probe loss': ['online_probe/loss'],
        'online_probe/top1': ['online_probe/top1'],
        'top-1 (%)': ['knn/top1', 'online_probe/val_top1'],
        'val: knn/seconds': ['knn/seconds'],
    }
    proc = run_tool(['tools/analysis_tools/plot_logs.py', str(tmp_path)])
    assert 'top-1 (%)' in proc.stdout + proc.stderr
    assert (tmp_path / 'training_curves.png').exists()


def write_monitors(work_dir, knn, probe):
    """The monitors' records of a run: ``knn``/``probe`` top-1 per epoch."""
    backend = LocalVisBackend(save_dir=str(work_dir / '20240101' /
                                           'vis_data'))
    for epoch, (k, p) in enumerate(zip(knn, probe), 1):
        backend.add_scalars(dict(lr=0.03, loss=5.0 - epoch, iter=epoch * 10,
                                 epoch=epoch), step=epoch * 10)
        backend.add_scalars({'knn/top1': k, 'knn/seconds': 1.0}, step=epoch)
        backend.add_scalars({'online_probe/val_top1': p}, step=epoch)


def test_several_runs_are_drawn_side_by_side(tmp_path):
    write_monitors(tmp_path / 'clsa', [30.0, 40.0, 50.0], [35.0, 45.0, 60.0])
    write_monitors(tmp_path / 'moco', [20.0, 30.0, 45.0], [25.0, 40.0, 55.0])
    out = tmp_path / 'monitors.png'
    proc = run_tool([
        'tools/analysis_tools/plot_logs.py',
        str(tmp_path / 'clsa'), str(tmp_path / 'moco'), '--labels', 'CLSA',
        'MoCo v2', '--keys', 'online_probe/val_top1', 'knn/top1', '--out',
        str(out)])
    assert ('Plotted CLSA: top-1 (%), MoCo v2: top-1 (%) to'
            in proc.stdout + proc.stderr)
    png = np.asarray(Image.open(out))
    # Two panels side by side: wider than high.
    assert png.shape[1] > 1.5 * png.shape[0]
    assert len(np.unique(png.reshape(-1, png.shape[-1]), axis=0)) > 50
    proc = run_tool([
        'tools/analysis_tools/plot_logs.py',
        str(tmp_path / 'clsa'), str(tmp_path / 'moco'), '--labels', 'CLSA'],
        check=False)
    assert proc.returncode != 0 and '1 labels for 2 work dirs' in proc.stderr
