"""Backtesting: a scenario's monthly trade and prices against observed data.

:func:`read_observed` reads the observed data (``docs/backtest.md``), :func:`compare` compares them
with replication results and :func:`draw_backtest` draws the figure. Nothing here runs a simulation:
the ``supplysim backtest`` command (``supplysim/cli/backtest.py``) runs the replications and hands
their results over.
"""
from .compare import compare, errors, largest_drop, simulated_value
from .figure import draw_backtest
from .observed import Observation, ObservedDataError, read_observed

__all__ = ["read_observed", "Observation", "ObservedDataError", "compare", "errors", "largest_drop",
           "simulated_value", "draw_backtest"]
