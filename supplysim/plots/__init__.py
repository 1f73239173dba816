"""Figures of models and results (matplotlib is imported only when a figure is drawn)."""
from .network import draw_network, option_facilities

__all__ = ["draw_network", "option_facilities"]
