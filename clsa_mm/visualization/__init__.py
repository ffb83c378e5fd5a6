from .clsa_view_cells import clsa_view_cells
from .results import format_table, plot_result_bars
from .scalar_logs import load_scalar_logs
from .training_curves import (curve_panels, plot_runs_side_by_side,
                              plot_training_curves)
from .view_grid import draw_view_grid

__all__ = [
    'clsa_view_cells', 'curve_panels', 'draw_view_grid', 'format_table',
    'load_scalar_logs', 'plot_result_bars', 'plot_runs_side_by_side',
    'plot_training_curves'
]
