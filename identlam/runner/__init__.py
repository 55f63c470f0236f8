"""Experiments as configs: sweeps over data, methods and parameters, a results store, backends.

``identlam run experiments/NAME.toml`` runs one; :func:`load_results` reads its table.
"""

from identlam.runner.results import format_summary, load_results, summarize
from identlam.runner.spec import Experiment, load_experiment
from identlam.runner.sweep import run_experiment

__all__ = ["Experiment", "format_summary", "load_experiment", "load_results", "run_experiment", "summarize"]
