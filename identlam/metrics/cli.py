"""``identlam metrics``: the identifiability report of latents aligned with a dataset.

Latents are one row per transition in dataset order (trajectory by trajectory, t = 0..T-2):
a ``.npy`` array ``(N, d)`` of continuous latents, or a ``.npz`` (e.g. ``RUN/latents.npz``, or
the run directory itself) with ``z`` and optionally ``codes`` (N,) and ``probs`` (N, M).
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

from identlam.argtypes import output_file
from identlam.errors import IdentlamError

SUMMARY_ORDER = (
    "d1_code_entropy_given_transition", "d1_idm_conditional_entropy", "code_entropy_given_region_action",
    "d2_code_state_info_given_action", "d2_latent_state_info_given_action", "hungarian_global",
    "hungarian_per_region", "hungarian_gap", "d3_action_entropy_given_code", "d3_action_entropy_given_latent",
    "code_entropy_given_action", "used_codes", "n_actions", "action_dim", "ami", "nmi", "homogeneity",
    "completeness", "v_measure", "code_lookup_r2", "code_lookup_r2_per_region", "code_lookup_r2_gap",
    "action_probe_accuracy", "action_probe_f1_weighted", "action_probe_majority_baseline", "action_probe_r2",
    "action_probe_mse", "leakage_latent_exo_given_action", "leakage_code_exo_given_action",
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "metrics",
        help="identifiability report (D1-D3, matching gap, probes, leakage) of latents vs a dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--latents", required=True, help="Z.npy, RUN/latents.npz, or a run directory holding latents.npz")
    p.add_argument("--data", required=True, help="dataset file (.h5) the latents were computed on")
    p.add_argument("--out", default=None, type=output_file, help="write the full report as JSON here (atomic)")
    p.add_argument("--seed", type=int, default=0, help="seed for regions, splits and kNN jitter")
    p.add_argument("--regions", type=int, default=16, help="k-means state regions for continuous states")
    p.add_argument("--states", choices=("auto", "discrete", "continuous"), default="auto",
                   help="treat true states as discrete (exact plug-in) or continuous (k-means regions); "
                        "auto: discrete when whole numbers with at most N/5 distinct rows")
    p.set_defaults(func=run_metrics)


def load_latents(path: str | Path) -> dict:
    """Read ``z`` / ``codes`` / ``probs`` from a .npy, .npz or run directory."""
    import numpy as np

    path = Path(path)
    if path.is_dir():
        path = path / "latents.npz"
    if not path.is_file():
        raise IdentlamError(f"--latents: {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise IdentlamError(f"--latents: {path} is not a .npy/.npz file ({str(exc).splitlines()[0]})") from None
    if isinstance(loaded, np.ndarray):
        return {"z": loaded, "codes": None, "probs": None, "data_fingerprint": None}
    with loaded:
        try:
            out = {key: (loaded[key] if key in loaded.files else None)
                   for key in ("z", "codes", "probs", "data_fingerprint")}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise IdentlamError(f"--latents: {path} is damaged ({type(exc).__name__})") from None
    if out["z"] is None and out["codes"] is None:
        found = ", ".join(loaded.files) or "nothing"
        raise IdentlamError(f"--latents: {path} holds neither 'z' nor 'codes' (found {found})")
    return out


def compute_report(latents_path, data_path, *, seed: int = 0, n_regions: int = 16, states: str = "auto"):
    """The desiderata :class:`MetricResult` of the latents in ``latents_path`` on ``data_path``."""
    from identlam.data import open_dataset
    from identlam.data.privileged import privileged
    from identlam.fingerprint import check_same_data
    from identlam.metrics.desiderata import desiderata

    lat = load_latents(latents_path)
    with open_dataset(data_path) as ds:
        table = privileged(ds).transition_table()
    check_same_data(lat["data_fingerprint"], data_path, f"--latents {latents_path}")
    n = len(table)
    for key in ("z", "codes", "probs"):
        if lat[key] is not None and len(lat[key]) != n:
            raise IdentlamError(f"--latents: '{key}' has {len(lat[key])} rows but {data_path} has {n} transitions "
                                "(one row per transition, dataset order)")
    return desiderata(lat["z"], table.actions, table.states, codes=lat["codes"], next_states=table.next_states,
                      exo=table.exo, probs=lat["probs"], seed=seed, n_regions=n_regions,
                      discrete_states={"auto": None, "discrete": True, "continuous": False}[states])


def format_summary(result) -> str:
    """Readable table of the headline numbers, then the parts that did not apply."""
    score = result.score
    keys = [k for k in SUMMARY_ORDER if k in score] + sorted(set(score) - set(SUMMARY_ORDER))
    width = max(len(k) for k in keys) if keys else 0
    lines = [f"identifiability report ({result.details['n_samples']} transitions; MI in nats)"]
    lines += [f"  {k:<{width}}  {score[k]:.4f}" for k in keys]
    curves = result.details["parts"].get("decoder_curves", {})
    if curves.get("budgets"):
        lines.append(f"decoder {curves['metric']} vs labelled transitions {curves['budgets']}:")
        for name in ("global_lookup", "state_conditioned", "latent_probe", "bc_scratch"):
            if name in curves:
                lines.append(f"  {name:<17} " + " ".join(f"{v:.3f}" for v in curves[name]))
    for key, reason in result.details["not_applicable"].items():
        lines.append(f"  n/a {key}: {reason}")
    return "\n".join(lines)


def run_metrics(args) -> int:
    from identlam.io import atomic_write_json

    result = compute_report(args.latents, args.data, seed=args.seed, n_regions=args.regions, states=args.states)
    print(format_summary(result))
    if args.out:
        atomic_write_json(args.out, result.to_dict())
        print(f"report written to {args.out}")
    return 0
