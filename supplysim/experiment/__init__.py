"""Experiments: scenarios x replications with common random numbers, a store, statistics, exports."""
from .experiment import Experiment, ExperimentResults
from .runner import Task, run_replications, run_task
from .stats import difference, mean_ci, paired, summarize, t_quantile, wilson

__all__ = ["Experiment", "ExperimentResults", "Task", "run_task", "run_replications", "mean_ci", "summarize",
           "paired", "difference", "t_quantile", "wilson"]
