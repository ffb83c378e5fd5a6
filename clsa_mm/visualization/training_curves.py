import math
import os
import os.path as osp
from typing import List, Optional, Sequence

from .scalar_logs import BOOKKEEPING_KEYS


def _numeric_keys(records: List[dict]) -> List[str]:
    keys = []
    for record in records:
        for key, value in record.items():
            if (key not in keys and key not in BOOKKEEPING_KEYS
                    and isinstance(value, (int, float))
                    and not isinstance(value, bool)):
                keys.append(key)
    return keys


def curve_panels(train: List[dict],
                 val: List[dict],
                 keys: Optional[Sequence[str]] = None) -> List[tuple]:
    """Group the logged scalars into panels.

    The pretraining losses share one panel, learning rates another, the
    online probe's loss (``online_probe/loss``) has its own; the validation
    top-1 accuracies (the online probe's ``online_probe/val_top1``, the
    k-NN monitor's ``knn/top1``) share one panel over the validation steps
    (epochs); every other training scalar (e.g. the queue statistics of
    ``MomentumQueueHook``, ``online_probe/top1`` of the training batches)
    and every other validation metric gets its own.

    Args:
        train (list[dict]): Training records of :func:`load_scalar_logs`.
        val (list[dict]): Validation records of :func:`load_scalar_logs`.
        keys (Sequence[str], optional): Plot only these scalars.

    Returns:
        list[tuple]: ``(title, records, x label, scalar names)`` per panel.
    """
    train_keys = _numeric_keys(train)
    val_keys = _numeric_keys(val)
    if keys is not None:
        missing = [k for k in keys if k not in train_keys + val_keys]
        if missing:
            raise KeyError(f'{missing} not logged; logged scalars: '
                           f'{sorted(set(train_keys + val_keys))}')
        train_keys = [k for k in train_keys if k in keys]
        val_keys = [k for k in val_keys if k in keys]
    probe_losses = [k for k in train_keys if k == 'online_probe/loss']
    losses = [k for k in train_keys if 'loss' in k and k not in probe_losses]
    lrs = [k for k in train_keys if k.endswith('lr')]
    top1s = [k for k in val_keys if k.endswith('top1')
             and k.startswith(('online_probe/', 'knn/'))]
    panels = []
    if losses:
        panels.append(('losses', train, 'iteration', losses))
    if lrs:
        panels.append(('learning rate', train, 'iteration', lrs))
    if probe_losses:
        panels.append(('online probe loss', train, 'iteration',
                       probe_losses))
    panels += [(k, train, 'iteration', [k]) for k in train_keys
               if k not in losses + lrs + probe_losses]
    if top1s:
        panels.append(('top-1 (%)', val, 'validation step (epoch)', top1s))
    panels += [(f'val: {k}', val, 'validation step', [k]) for k in val_keys
               if k not in top1s]
    return panels


def plot_training_curves(train: List[dict],
                         val: List[dict],
                         out_file: str,
                         keys: Optional[Sequence[str]] = None,
                         title: Optional[str] = None,
                         ncols: int = 3) -> List[str]:
    """Draw the curves of :func:`curve_panels` into one PNG.

    Args:
        train (list[dict]): Training records of :func:`load_scalar_logs`.
        val (list[dict]): Validation records of :func:`load_scalar_logs`.
        out_file (str): The PNG to write.
        keys (Sequence[str], optional): Plot only these scalars.
        title (str, optional): Title of the figure.
        ncols (int): Panels per row. Defaults to 3.

    Returns:
        list[str]: The titles of the panels drawn.
    """
    # A bare Figure renders with Agg and leaves pyplot's backend alone.
    from matplotlib.figure import Figure

    panels = curve_panels(train, val, keys)
    if not panels:
        raise ValueError('No numeric scalars to plot.')
    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(5 * ncols, 3.4 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        _draw_panel(ax, *panel)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    _save(fig, out_file, title)
    return [panel[0] for panel in panels]


def plot_runs_side_by_side(runs: Sequence[tuple],
                           out_file: str,
                           keys: Optional[Sequence[str]] = None,
                           title: Optional[str] = None) -> List[str]:
    """Draw the curves of several runs side by side into one PNG: one
    column per run, one row per panel of :func:`curve_panels`, the panels of
    a row on one y scale.

    Args:
        runs (Sequence[tuple]): ``(label, train, val)`` per run, the records
            of :func:`load_scalar_logs`.
        out_file (str): The PNG to write.
        keys (Sequence[str], optional): Plot only these scalars.
        title (str, optional): Title of the figure.

    Returns:
        list[str]: The titles of the panels drawn, ``'<label>: <panel>'``.
    """
    from matplotlib.figure import Figure

    columns = [(label, curve_panels(train, val, keys))
               for label, train, val in runs]
    nrows = max((len(panels) for _, panels in columns), default=0)
    if not nrows:
        raise ValueError('No numeric scalars to plot.')
    fig = Figure(figsize=(5 * len(columns), 3.4 * nrows))
    axes = fig.subplots(nrows, len(columns), squeeze=False, sharey='row')
    drawn = []
    for col, (label, panels) in enumerate(columns):
        for row in range(nrows):
            if row < len(panels):
                name, *rest = panels[row]
                _draw_panel(axes[row, col], f'{label}: {name}', *rest)
                drawn.append(f'{label}: {name}')
            else:
                axes[row, col].axis('off')
    _save(fig, out_file, title)
    return drawn


def _draw_panel(ax, name, records, xlabel, names):
    for key in names:
        points = [(r['step'], r[key]) for r in records if key in r]
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker='.' if len(xs) < 30 else None, label=key)
    ax.set_title(name)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    if len(names) > 1:
        ax.legend(fontsize='small')
    if name.endswith('learning rate'):
        ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))


def _save(fig, out_file, title):
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=100)
