"""Experiments: replications, statistics, summaries."""
from .runner import Task, run_replications, run_task
from .stats import mean_ci, paired, t_quantile, wilson
from .summary import format_table, summarize, write_replications_csv, write_summary

__all__ = ["Task", "run_task", "run_replications", "mean_ci", "paired", "t_quantile", "wilson", "summarize",
           "write_summary", "write_replications_csv", "format_table"]
