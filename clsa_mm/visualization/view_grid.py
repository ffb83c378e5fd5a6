import os
import os.path as osp
import textwrap
from typing import List, Optional, Sequence


def draw_view_grid(rows: List[Sequence[dict]],
                   out_file: str,
                   title: Optional[str] = None,
                   cell_inches: float = 2.2,
                   caption_chars: int = 26) -> None:
    """Draw rows of images with titles and captions into one PNG.

    Used by ``tools/analysis_tools/browse_views.py``: one row per training
    image, holding the original image, its key, its weak queries and its
    strong views, with the StrongAugment ops written under each strong view.
    Every image is shown in its own cell whatever its size; the title says
    the size.

    Args:
        rows (list[Sequence[dict]]): Per row, the cells as dicts with ``img``
            (HWC uint8 RGB array), ``title`` (str) and optionally
            ``caption`` (str, wrapped below the image).
        out_file (str): The PNG to write.
        title (str, optional): Title of the figure.
        cell_inches (float): Width of one cell. Defaults to 2.2.
        caption_chars (int): Caption characters per line. Defaults to 26.
    """
    # A bare Figure renders with Agg and leaves pyplot's backend alone.
    from matplotlib.figure import Figure

    ncols = max(len(row) for row in rows)
    captions = [
        textwrap.fill(cell.get('caption') or '', caption_chars)
        for row in rows for cell in row
    ]
    caption_lines = max([c.count('\n') + 1 for c in captions if c] or [0])
    row_inches = cell_inches * 1.15 + 0.17 * caption_lines
    fig = Figure(figsize=(cell_inches * ncols, row_inches * len(rows) +
                          (0.4 if title else 0)))
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for r, row in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(row):
                ax.axis('off')
                continue
            cell = row[c]
            ax.imshow(cell['img'])
            ax.set_title(cell.get('title', ''), fontsize=9)
            caption = textwrap.fill(cell.get('caption') or '', caption_chars)
            if caption:
                ax.set_xlabel(caption, fontsize=7, family='monospace',
                              va='top')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file, dpi=90)
