"""Benchmark results as a markdown table and as a bar chart."""
import os
import os.path as osp

import numpy as np


def format_table(header, rows):
    """A markdown table.

    Args:
        header (Sequence[str]): The column titles.
        rows (Iterable[Sequence]): The cells of each row (``str()`` of each).

    Returns:
        str: The table, one line per row, no trailing newline.
    """
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(map(str, row)) + ' |' for row in rows]
    return '\n'.join(lines)


def plot_result_bars(summary, out_file, title,
                     metrics=(('linear_top1', 'linear probe'),
                              ('knn_top1', 'k-NN')),
                     ylabel='top-1 (%)'):
    """Bar chart of each metric per row, with std error bars.

    Args:
        summary (list[dict]): One dict per row: its ``name`` and, for each
            metric key ``m``, ``m_mean`` and ``m_std``.
        out_file (str): The PNG to write.
        title (str): Title of the chart.
        metrics (Sequence[tuple[str, str]]): ``(key, legend label)`` of the
            bars of each row. Defaults to linear probe and k-NN top-1.
        ylabel (str): Label of the y axis.
    """
    # A bare Figure renders with Agg and leaves pyplot's backend alone.
    from matplotlib.figure import Figure

    x = np.arange(len(summary))
    width = 0.8 / len(metrics)
    fig = Figure(figsize=(max(6, 0.8 * len(summary) + 2), 4))
    ax = fig.subplots()
    for i, (key, label) in enumerate(metrics):
        offset = (i - (len(metrics) - 1) / 2) * width
        ax.bar(x + offset, [s[f'{key}_mean'] for s in summary], width,
               yerr=[s[f'{key}_std'] for s in summary], capsize=3,
               label=label)
    ax.set_xticks(x, [s['name'] for s in summary], rotation=30, ha='right')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=100)
