"""The sweep figure draws only metrics that have a value in some run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from identlam.plots import plot_sweep


def table(values: dict[str, float]) -> pd.DataFrame:
    rows = [dict(method=method, run_id=f"{method}{seed}", seed=seed, metric=metric,
                 value=value if np.isnan(value) else value + seed)
            for metric, value in values.items() for method in ("a", "b") for seed in range(3)]
    return pd.DataFrame(rows)


def test_a_metric_without_values_gets_no_panel_and_none_at_all_gives_no_figure(tmp_path):
    paths = plot_sweep(table({"ami": 0.5, "normalized_return": np.nan}), tmp_path / "fig",
                       metrics=["ami", "normalized_return"])
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 0 for p in paths)
    assert plot_sweep(table({"normalized_return": np.nan}), tmp_path / "none", metrics=["normalized_return"]) == []
    assert not (tmp_path / "none.png").exists()
