"""Seaborn figures from the results store (``identlam.runner.load_results``)."""

from identlam.plots.sweep import plot_sweep

__all__ = ["plot_sweep"]
