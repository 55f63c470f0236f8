"""The sweep figure draws only metrics that have a value in some run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

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


def test_a_third_grid_column_gets_its_own_bars_instead_of_being_pooled(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from identlam.plots.sweep import layout

    # E5's shape: method x warp, plus latent widths set for one method at one warp only
    conditions = [("entropy", 0.0, None), ("entropy", 0.5, None), ("continuous", 0.0, None),
                  ("continuous", 0.5, None), ("continuous", 0.5, 2), ("continuous", 0.5, 32)]
    rows = [{"method": m, "env.warp": w, "model.latent_dim": d, "run_id": f"{m}{w}{d}{s}", "seed": s,
             "metric": "ami", "value": 0.1 * i + 0.01 * s}
            for i, (m, w, d) in enumerate(conditions) for s in range(3)]
    table = pd.DataFrame(rows)
    data, x, hue, order, _ = layout(table)
    assert x == "condition" and hue is None and len(order) == len(conditions)
    assert "continuous\nwarp=0.5\nlatent_dim=32" in order and "entropy\nwarp=0" in order
    means = data.groupby("condition")["value"].mean()
    assert means["continuous\nwarp=0.5\nlatent_dim=32"] == pytest.approx(0.5 + 0.01)

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    plot_sweep(table, tmp_path / "fig")
    (fig,) = figures
    assert len([t for t in fig.axes[0].get_xticklabels() if t.get_text()]) == len(conditions)


def test_decoder_curve_points_are_titled_in_words():
    from identlam.plots.sweep import metric_label

    assert metric_label("decoder.global_lookup@32") == ("action decoded from 32 labelled transitions\n"
                                                        "code -> majority action (held-out accuracy; R² if continuous)")
    assert metric_label("decoder.no_such@32") == "decoder.no_such@32"
    assert metric_label("ami").startswith("AMI(code, true action)")
    assert metric_label("online.return_std") == "online.return_std"


def test_every_metric_a_shipped_experiment_tabulates_is_titled_in_words():
    # a panel titled with a bare metric name leaves the reader to guess its units and direction
    import tomllib
    from pathlib import Path

    from identlam.plots.sweep import metric_label

    configs = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.toml"))
    metrics = {m for path in configs for m in tomllib.loads(path.read_text()).get("metrics", [])}
    assert len(metrics) > 20
    assert sorted(m for m in metrics if metric_label(m) == m) == []


def test_three_grid_columns_in_a_full_product_draw_as_x_and_one_joint_hue():
    """The flagship's shape: method x rho x labels. One bar per condition gave 24 stacked
    labels no one could read; x is the column with most levels, the others share a hue."""
    from identlam.plots.sweep import layout

    rows = [{"method": m, "env.rho": r, "labels": b, "run_id": f"{m}{r}{b}{s}", "seed": s, "metric": "ami",
             "value": 0.1 * r + 0.01 * b + s}
            for m in ("vq", "fsq", "none", "entropy") for r in (0.0, 0.5, 0.9) for b in (2, 8) for s in range(2)]
    data, x, hue, order, hue_order = layout(pd.DataFrame(rows))
    assert (x, hue) == ("method", "rho, labels")
    assert order == ["vq", "fsq", "none", "entropy"]
    assert hue_order == ["rho=0, labels=2", "rho=0, labels=8", "rho=0.5, labels=2", "rho=0.5, labels=8",
                         "rho=0.9, labels=2", "rho=0.9, labels=8"]
    means = data.groupby([x, hue])["value"].mean()
    assert means[("fsq", "rho=0.9, labels=8")] == pytest.approx(0.09 + 0.08 + 0.5)  # no two conditions pooled
    # a product with too many joint levels keeps one bar per condition
    many = [dict(row, labels=b) for row in rows for b in range(5)]
    assert layout(pd.DataFrame(many))[1] == "condition"


def test_conditions_of_a_grid_that_is_not_a_product_follow_the_configs_order():
    """dcs_visibility's shape: distractions x methods with one method missing at the last level.
    Alphabetical order would read easy, hard, vanilla; the config lists vanilla, easy, hard."""
    from identlam.plots.sweep import layout

    conditions = [(d, m) for d in ("vanilla", "easy", "hard") for m in ("lapo", "laom") if (d, m) != ("hard", "lapo")]
    rows = [{"data": d, "method": m, "run_id": f"{d}{m}{s}", "seed": s, "metric": "r2", "value": 0.1 * s}
            for d, m in sorted(conditions) for s in range(2)]
    orders = {"data": ["vanilla", "easy", "hard"], "method": ["lapo", "laom"]}
    data, x, hue, order, _ = layout(pd.DataFrame(rows), orders)
    assert x == "condition" and hue is None
    assert order == ["vanilla\nlapo", "vanilla\nlaom", "easy\nlapo", "easy\nlaom", "hard\nlaom"]
    # without orders: values as they come in the table (here alphabetical)
    assert layout(pd.DataFrame(rows))[3][0] == "easy\nlaom"


def test_a_grid_of_blocks_with_gaps_in_a_string_column_draws_and_orders_its_conditions(tmp_path):
    """E6's shape: noise levels in one [[grid]] block, distractors in another, so each run lacks the
    other block's column; pandas keeps a string column's gap as its own NA, not the text "nan"."""
    from identlam.plots.sweep import layout
    from identlam.runner.results import levels

    rows = [{"env.noise": n, "env.distractor": None, "run_id": f"n{n}{s}", "seed": s, "metric": "ami",
             "value": 1.0 - n} for n in (0.05, 0.0) for s in range(2)]
    rows += [{"env.noise": None, "env.distractor": d, "run_id": f"{d}{s}", "seed": s, "metric": "ami",
              "value": 0.1} for d in ("markov", "iid") for s in range(2)]
    table = pd.DataFrame(rows).astype({"env.noise": "float64", "env.distractor": pd.StringDtype(na_value=np.nan)})
    assert levels(table["env.noise"]) == ["0.0", "0.05", "nan"]
    assert levels(table["env.distractor"]) == ["markov", "iid", "nan"]
    orders = {"env.noise": [0.0, 0.05], "env.distractor": ["iid", "markov"]}
    data, x, hue, order, _ = layout(table, orders)
    assert x == "condition" and order == ["noise=0", "noise=0.05", "distractor=iid", "distractor=markov"]
    assert plot_sweep(table, tmp_path / "summary", orders=orders)


def test_orders_put_listed_values_first_and_numbers_in_numeric_order():
    from identlam.runner.results import levels, ordered_levels

    assert levels(pd.Series([10.0, 2.0, np.nan, 2.0])) == ["2.0", "10.0", "nan"]
    assert ordered_levels(pd.Series([0.5, 0.0, 0.9]), [0.9]) == ["0.9", "0.0", "0.5"]
    assert ordered_levels(pd.Series(["b", "a", "c"]), ["c", "zz"]) == ["c", "b", "a"]


def test_the_title_gives_the_seeds_per_condition_not_all_seeds_seen(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    # the recipe with 5 seeds beside an ablation with 3: "3-5 seeds", not the 5 distinct seeds
    rows = [dict(method=m, run_id=f"{m}{s}", seed=s, metric="ami", value=0.1 * s)
            for m, n in (("recipe", 5), ("lambda0", 3)) for s in range(n)]
    plot_sweep(pd.DataFrame(rows), tmp_path / "mixed")
    plot_sweep(pd.DataFrame([r for r in rows if r["seed"] < 3]), tmp_path / "even")
    titles = [fig._suptitle.get_text() for fig in figures]
    assert "mean over 3-5 seeds" in titles[0] and "mean over 3 seeds" in titles[1]
