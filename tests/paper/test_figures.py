"""The report's figure of an experiment with many conditions reads as rows: every condition's name
level and whole, once per row of panels, and a condition without a metric marked, not drawn as 0."""

from __future__ import annotations

import pandas as pd

from identlam.paper.figures import MANY_CONDITIONS, plot_experiment


def many_conditions(n: int) -> pd.DataFrame:
    # one method per data source: two grid columns that are not a product, so one bar per condition
    rows = [dict(data=f"source-{i}", method=f"a-long-method-name-{i}", run_id=f"r{i}-{s}", seed=s, metric=metric,
                 value=0.1 * i + 0.01 * s)
            for i in range(n) for s in range(3) for metric in ("ami", "action_probe_accuracy", "used_codes")
            if not (metric == "used_codes" and i == 2)]
    table = pd.DataFrame(rows)
    # a condition whose runs have the metric but no value (NaN) is not measured either
    table.loc[(table["metric"] == "ami") & (table["data"] == "source-5"), "value"] = float("nan")
    return table


def test_many_conditions_are_rows_named_level_and_whole(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)   # keep the figure to read its labels
    n = MANY_CONDITIONS + 3
    paths = plot_experiment(many_conditions(n), tmp_path / "many", ["ami", "action_probe_accuracy", "used_codes"],
                            "many")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    (fig,) = figures
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    names = [f"source-{i}, a-long-method-name-{i}" for i in range(n)]
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    left = min(ax.get_position().x0 for ax in panels)
    for ax in panels:
        labels = [t for t in ax.get_yticklabels() if t.get_text()]
        if ax.get_position().x0 > left + 1e-6:
            assert not labels, "a panel right of the first repeats the condition names"
            continue
        assert [t.get_text() for t in labels] == names
        assert all(t.get_rotation() == 0 for t in labels)
        boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.y0)
        assert all(a.y1 <= b.y0 + 0.5 for a, b in zip(boxes, boxes[1:])), "condition names overlap"
        assert min(b.x0 for b in boxes) >= 0, "a condition name is cut at the figure's edge"
    # the third condition has no used_codes: its row says so instead of showing an empty bar
    (codes,) = [ax for ax in panels if ax.get_xlabel() == "used_codes"]
    marks = [t for t in codes.texts if t.get_text() == "not measured"]
    assert len(marks) == 1 and marks[0].get_position()[1] == 2
    (ami,) = [ax for ax in panels if ax.get_xlabel() == "ami"]
    assert [t.get_position()[1] for t in ami.texts if t.get_text() == "not measured"] == [5]
    (probe,) = [ax for ax in panels if ax.get_xlabel() == "action_probe_accuracy"]
    assert not any(t.get_text() == "not measured" for t in probe.texts)


def test_few_conditions_stay_columns(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    plot_experiment(many_conditions(4), tmp_path / "few", ["ami"], "few")
    (fig,) = figures
    (ax,) = [ax for ax in fig.axes if ax.get_visible()]
    assert [t.get_text() for t in ax.get_xticklabels()][0].startswith("source-0")
