"""What ``identlam inspect`` reports about a dataset: shapes, actions, distractors, assumptions.

The summary is a JSON-able dict (``summarize``) with a plain-text rendering (``format_summary``).
It streams the small privileged fields in blocks of trajectories (a few numpy calls per block)
and never reads the observations, so it runs on files far larger than memory.

Distractor dependence on the action is the plug-in mutual information (nats) between the action
and the discretized change of each distractor dimension, ``I(a_t; bin(exo_{t+1,j} - exo_{t,j}))``:
0 for a distractor independent of the action, up to ``H(a)`` when the change copies it. Changes
are binned by value when they take at most ``BINS`` values and by quantiles otherwise; continuous
actions are binned per dimension the same way. The same estimate with the actions shuffled is
reported beside it as the estimator's bias at this sample size.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from identlam.data.privileged import moved_rows, privileged

BINS = 8
# Transitions used for the mutual-information estimate (whole trajectories, seeded choice).
MI_TRANSITIONS = 200_000


def summarize(ds, seed: int = 0) -> dict[str, Any]:
    """The inspect summary of an opened dataset; ``seed`` fixes the MI subsample and shuffle."""
    view = privileged(ds)
    rng = np.random.default_rng(seed)
    fields = {"obs": [*ds.obs_shape], "actions": [] if ds.action_space == "discrete" else [ds.action_dim], "states": [ds.state_dim]}
    dtypes = {"obs": ds.obs_dtype.name, "actions": "int64" if ds.action_space == "discrete" else "float32", "states": "float32"}
    if ds.exo_dim:
        fields["exo"], dtypes["exo"] = [ds.exo_dim], "float32"
    if ds.has_rewards:
        fields["rewards"], dtypes["rewards"] = [], "float32"
    order = rng.permutation(ds.n_trajectories)
    take = order[: max(1, int(np.searchsorted(np.cumsum(ds.lengths[order] - 1), MI_TRANSITIONS, side="right")))]
    in_take = np.zeros(ds.n_trajectories, bool)
    in_take[take] = True
    # Whole fields are streamed in blocks of trajectories: a few numpy calls per block, memory
    # bounded by the block size and the MI subsample.
    actions_all, mi_actions = [], []
    for first, stop, block in view.blocks("actions"):
        moved = moved_rows(ds.lengths[first:stop])  # the last action moves nothing stored
        actions_all.append(_action_summary_part(block[moved], ds))
        mi_actions.append(block[moved & np.repeat(in_take[first:stop], ds.lengths[first:stop])])
    states_stats, exo_stats, returns, mi_changes = _Moments(), _Moments(), [], []
    for _, _, block in view.blocks("states"):
        states_stats.add(block)
    if ds.exo_dim:
        for first, stop, block in view.blocks("exo"):
            exo_stats.add(block)
            lengths = ds.lengths[first:stop]
            keep = (moved_rows(lengths) & np.repeat(in_take[first:stop], lengths))[:-1]
            mi_changes.append(np.diff(block, axis=0)[keep])
    if ds.has_rewards:
        for first, stop, block in view.blocks("rewards"):
            starts = np.concatenate([[0], np.cumsum(ds.lengths[first:stop])[:-1]])
            returns.extend(np.add.reduceat(block.astype(np.float64), starts).tolist())
    out: dict[str, Any] = {
        "file": str(ds.path),
        "size_bytes": ds.path.stat().st_size,
        "format": ds.format,
        "env_id": ds.env_id,
        "seed": ds.attrs.get("seed"),
        "trajectories": ds.n_trajectories,
        "transitions": ds.n_transitions,
        "lengths": {"min": int(ds.lengths.min()), "mean": float(ds.lengths.mean()), "max": int(ds.lengths.max())},
        "fields": {name: {"step_shape": shape, "dtype": dtypes[name]} for name, shape in fields.items()},
        "actions": _actions(actions_all, ds),
        "states": states_stats.result(),
        "distractor": None,
        "returns": None,
        "assumptions": ds.attrs.get("assumptions"),
        "generator": ds.attrs.get("generator"),
    }
    if ds.exo_dim:
        out["distractor"] = {**exo_stats.result(), **_dependence(np.concatenate(mi_actions), np.concatenate(mi_changes), ds, rng)}
    if returns:
        out["returns"] = {"mean": float(np.mean(returns)), "std": float(np.std(returns)), "min": min(returns), "max": max(returns)}
    return out


class _Moments:
    """Streaming per-dimension mean and standard deviation of (T, d) blocks (float64 sums)."""

    def __init__(self):
        self.n, self.s, self.ss = 0, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        x = x.astype(np.float64)
        self.n += len(x)
        self.s = self.s + x.sum(0)
        self.ss = self.ss + (x * x).sum(0)

    def result(self) -> dict[str, Any]:
        mean = self.s / self.n
        std = np.sqrt(np.maximum(self.ss / self.n - mean * mean, 0.0))
        return {"dim": int(len(mean)), "mean": mean.tolist(), "std": std.tolist()}


def _action_summary_part(moved: np.ndarray, ds) -> Any:
    if ds.action_space == "discrete":
        return np.bincount(moved, minlength=ds.n_actions)
    return moved


def _actions(parts: list, ds) -> dict[str, Any]:
    if ds.action_space == "discrete":
        counts = np.sum(parts, axis=0)
        p = counts / max(1, counts.sum())
        nz = p[p > 0]
        return {"space": "discrete", "n_actions": ds.n_actions, "counts": counts.tolist(), "fractions": p.tolist(),
                "entropy_nats": float(-(nz * np.log(nz)).sum()), "max_entropy_nats": float(np.log(ds.n_actions))}
    moments, lo, hi = _Moments(), np.full(ds.action_dim, np.inf), np.full(ds.action_dim, -np.inf)
    for a in parts:
        moments.add(a)
        lo, hi = np.minimum(lo, a.min(0)), np.maximum(hi, a.max(0))
    return {"space": "continuous", "action_dim": ds.action_dim, **{k: v for k, v in moments.result().items() if k != "dim"},
            "min": lo.tolist(), "max": hi.tolist()}


def discretize(v: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Integer codes of a 1-D sample: by value when it has at most ``bins`` values, else quantiles."""
    values, codes = np.unique(v, return_inverse=True)
    if len(values) <= bins:
        return codes
    edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, v, side="right")


def plug_in_mi(x: np.ndarray, y: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two integer code vectors of equal length."""
    _, x = np.unique(x, return_inverse=True)
    _, y = np.unique(y, return_inverse=True)
    joint = np.bincount(x * (y.max() + 1) + y, minlength=(x.max() + 1) * (y.max() + 1)).reshape(x.max() + 1, y.max() + 1)
    p = joint / joint.sum()
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float(max(0.0, (p[nz] * np.log(p[nz] / (px @ py)[nz])).sum()))


def _dependence(actions: np.ndarray, changes: np.ndarray, ds, rng: np.random.Generator) -> dict[str, Any]:
    codes = [actions] if ds.action_space == "discrete" else [discretize(actions[:, j]) for j in range(ds.action_dim)]
    change_codes = [discretize(changes[:, j]) for j in range(changes.shape[1])]
    mi = np.array([[plug_in_mi(a, c) for c in change_codes] for a in codes])
    perm = rng.permutation(len(actions))
    shuffled = np.array([[plug_in_mi(a[perm], c) for c in change_codes] for a in codes])
    return {
        "change_std": changes.std(0).tolist(),
        "mi_action_change_nats": mi.max(0).tolist(),
        "mi_shuffled_nats": shuffled.max(0).tolist(),
        "mi_matrix_nats": mi.tolist() if ds.action_space == "continuous" else None,
        "mi_transitions": int(len(actions)),
        "mi_estimator": f"plug-in on the action and the change binned into <= {BINS} values/quantiles",
    }


def _fmt(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.3g}"
    if isinstance(x, list):
        if x and all(isinstance(v, str) for v in x):
            return "; ".join(x)
        if len(x) <= 6 and all(isinstance(v, (int, float)) for v in x):
            return "[" + ", ".join(_fmt(v) for v in x) + "]"
        return f"<{'x'.join(str(s) for s in np.shape(x))} values>"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}={_fmt(v)}" for k, v in x.items()) + "}"
    return str(x)


def _vec(values: list[float]) -> str:
    return " ".join(f"{v:8.3g}" for v in values)


# What each identifiability assumption asks (docs/synthetic.md explains them), for the table's readers.
ASSUMPTION_NAMES = {
    "A1": "continuity of the transition",
    "A2": "injectivity in the action",
    "A3": "connected supports per action",
    "A4": "co-occurrence of actions",
    "scope": "inside the theorem's setting",
}


def format_assumptions(report: dict | None) -> list[str]:
    """The assumption report as table lines: name, what it asks, holds, the measured quantities."""
    if not report:
        return ["assumptions  (none recorded: not a synthetic dataset)"]
    width = max(len(v) for v in ASSUMPTION_NAMES.values())
    lines = ["assumptions  (A1-A4 of docs/synthetic.md; measured on the environment)",
             f"  {'name':<6} {'asks':<{width}} {'holds':<6} measured"]
    for name, entry in report.items():
        asks = ASSUMPTION_NAMES.get(name, "")
        if isinstance(entry, dict):
            holds = entry.get("holds")
            rest = ", ".join(f"{k}={_fmt(v)}" for k, v in entry.items() if k != "holds")
            lines.append(f"  {name:<6} {asks:<{width}} {_fmt(holds) if holds is not None else '-':<6} {rest}")
        else:
            lines.append(f"  {name:<6} {asks:<{width}} {'-':<6} {_fmt(entry)}")
    return lines


def _layout(step_shape: list[int]) -> str:
    return "(T" + ("".join(f", {d}" for d in step_shape) if step_shape else ",") + ")"


def format_summary(s: dict[str, Any]) -> str:
    """Plain-text rendering of ``summarize``'s result."""
    size = s["size_bytes"] / 2**20
    lines = [
        f"file         {s['file']} ({size:.1f} MiB, {s['format']})",
        f"env          {s['env_id']}" + (f"  (seed {s['seed']})" if s.get("seed") is not None else ""),
        f"data         {s['trajectories']} trajectories, {s['transitions']} transitions "
        f"(length min {s['lengths']['min']}, mean {s['lengths']['mean']:.1f}, max {s['lengths']['max']})",
        "fields       " + " | ".join(
            f"{n} {_layout(f['step_shape'])} {f['dtype']}" for n, f in s["fields"].items()
        ),
    ]
    a = s["actions"]
    if a["space"] == "discrete":
        lines.append(f"actions      discrete, {a['n_actions']} actions, entropy {a['entropy_nats']:.3f} of {a['max_entropy_nats']:.3f} nats")
        lines.append(f"  {'action':>6} {'count':>9} {'fraction':>9}")
        lines += [f"  {i:>6} {c:>9} {p:>9.3f}" for i, (c, p) in enumerate(zip(a["counts"], a["fractions"]))]
    else:
        lines.append(f"actions      continuous, {a['action_dim']} dims")
        for key in ("mean", "std", "min", "max"):
            lines.append(f"  {key:<6} {_vec(a[key])}")
    lines.append(f"states       {s['states']['dim']} dims" + (" (first 8 shown)" if s["states"]["dim"] > 8 else ""))
    lines.append(f"  {'mean':<6} {_vec(s['states']['mean'][:8])}")
    lines.append(f"  {'std':<6} {_vec(s['states']['std'][:8])}")
    d = s["distractor"]
    if d is None:
        lines.append("distractor   none")
    else:
        lines.append(f"distractor   {d['dim']} dims; I(action; binned change) from {d['mi_transitions']} transitions, nats")
        lines.append(f"  {'dim':>4} {'mean':>9} {'std':>9} {'chg std':>9} {'I(a;chg)':>9} {'shuffled':>9}")
        for j in range(d["dim"]):
            lines.append(
                f"  {j:>4} {d['mean'][j]:>9.3g} {d['std'][j]:>9.3g} {d['change_std'][j]:>9.3g} "
                f"{d['mi_action_change_nats'][j]:>9.3f} {d['mi_shuffled_nats'][j]:>9.3f}"
            )
    if s.get("returns"):
        r = s["returns"]
        lines.append(f"returns      mean {r['mean']:.3g}, std {r['std']:.3g}, min {r['min']:.3g}, max {r['max']:.3g}")
    lines += format_assumptions(s.get("assumptions"))
    return "\n".join(lines)


def to_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False)
