from .clsa_view_cells import clsa_view_cells
from .scalar_logs import load_scalar_logs
from .training_curves import curve_panels, plot_training_curves
from .view_grid import draw_view_grid

__all__ = [
    'clsa_view_cells', 'curve_panels', 'draw_view_grid', 'load_scalar_logs',
    'plot_training_curves'
]
