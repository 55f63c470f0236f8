"""``identlam metrics``: the identifiability report of latents aligned with a dataset.

Latents are one row per transition in dataset order (trajectory by trajectory, t = 0..T-2):
a ``.npy`` array ``(N, d)`` of continuous latents, or a ``.npz`` (e.g. ``RUN/latents.npz``, or
the run directory itself) with ``z`` and optionally ``codes`` (N,) and ``probs`` (N, M).
"""

from __future__ import annotations

import argparse

from identlam.argtypes import seed as seed_arg

from identlam.metrics._regions import DEFAULT_REGIONS, REGIONS_HELP

SUMMARY_ORDER = (
    "d1_code_entropy_given_transition", "d1_idm_conditional_entropy", "code_entropy_given_region_action",
    "d2_code_state_info_given_action", "d2_latent_state_info_given_action", "hungarian_global",
    "hungarian_per_region", "hungarian_gap", "d3_action_entropy_given_code", "d3_action_entropy_given_latent",
    "code_entropy_given_action", "used_codes", "distinct_codes", "n_actions", "action_dim", "ami", "nmi", "homogeneity",
    "completeness", "v_measure", "code_lookup_r2", "code_lookup_r2_per_region", "code_lookup_r2_gap",
    "action_probe_accuracy", "action_probe_f1_weighted", "action_probe_majority_baseline", "action_probe_r2",
    "action_probe_mse", "leakage_latent_exo_given_action", "leakage_code_exo_given_action",
    "leakage_latent_exo_next_given_action", "leakage_code_exo_next_given_action",
    "leakage_latent_exo_step_given_action", "leakage_code_exo_step_given_action",
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
    p.add_argument("--out", default=None, help="write the full report as JSON here (atomic)")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed for regions, splits and kNN jitter")
    p.add_argument("--regions", default=DEFAULT_REGIONS, metavar="SPEC", help=REGIONS_HELP)
    p.add_argument("--states", choices=("auto", "discrete", "continuous"), default="auto",
                   help="treat true states as discrete (exact plug-in) or continuous (state regions); "
                        "auto: discrete when whole numbers with at most N/5 distinct rows")
    p.set_defaults(func=run_metrics)


def format_summary(result) -> str:
    """Readable table of the headline numbers (with the better direction), then what did not apply."""
    score = result.score
    keys = [k for k in SUMMARY_ORDER if k in score] + sorted(set(score) - set(SUMMARY_ORDER))
    width = max(len(k) for k in keys) if keys else 0
    arrow = {True: "(higher is better)", False: "(lower is better)", None: ""}
    lines = [f"identifiability report ({result.details['n_samples']} transitions; MI in nats; "
             f"regions {result.params.get('regions', 'given')})"]
    lines += [f"  {k:<{width}}  {score[k]:.4f}  {arrow[result.better(k)]}".rstrip() for k in keys]
    from identlam.metrics._report import DECODERS

    curves = result.details["parts"].get("decoder_curves", {})
    if curves.get("budgets"):
        lines.append(f"decoder {curves['metric']} vs labelled transitions {curves['budgets']}:")
        for name in DECODERS:
            if name in curves:
                lines.append(f"  {name:<17} " + " ".join(f"{v:.3f}" for v in curves[name]))
    for key, reason in result.details["not_applicable"].items():
        lines.append(f"  n/a {key}: {reason}")
    return "\n".join(lines)


def run_metrics(args) -> int:
    from identlam.io import atomic_write_json
    from identlam.metrics._files import check_output_path, compute_report
    from identlam.metrics._regions import parse_regions

    spec = parse_regions(args.regions)  # a bad spec or output path fails before any work
    if args.out:
        check_output_path(args.out)
    result = compute_report(args.latents, args.data, seed=args.seed, regions=spec, states=args.states)
    print(format_summary(result))
    if args.out:
        atomic_write_json(args.out, result.to_dict())
        print(f"report written to {args.out}")
    return 0
