"""The sweep figure draws only metrics that have a value in some run."""

from __future__ import annotations

import math

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


def test_many_long_category_names_do_not_overlap_on_the_axis(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)   # keep the figure to measure its labels
    names = ["entropy", "lambda0", "vq", "vq-lapo", "fsq", "fsq-lapo", "continuous"]
    rows = [dict(method=m, run_id=f"{m}{s}", seed=s, metric=metric, value=0.5 + 0.1 * s)
            for m in names for s in range(3) for metric in ("ami", "used_codes", "action_probe_accuracy")]
    plot_sweep(pd.DataFrame(rows), tmp_path / "fig")
    (fig,) = figures
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        labels = [label for label in ax.get_xticklabels() if label.get_text()]
        assert len(labels) == len(names)
        boxes = [label.get_window_extent(renderer) for label in labels]
        angle = math.radians(labels[0].get_rotation())
        if angle == 0:   # upright: no two boxes side by side may overlap
            assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:])), "x labels overlap"
        else:            # tilted: parallel lines of text at least a line's height apart
            ticks = ax.transData.transform([(x, 0) for x in ax.get_xticks()])[:, 0]
            line = labels[0].get_fontsize() * fig.dpi / 72
            assert np.diff(ticks).min() * math.sin(angle) >= line, "tilted x labels overlap"
        # the labels take extra figure height, not the panel's (2 inches with short upright labels)
        assert ax.get_window_extent(renderer).height >= 1.8 * fig.dpi, "the panel was squashed"
