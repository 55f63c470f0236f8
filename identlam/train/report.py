"""``RUN/report.md``: the results of ``metrics.json`` as tables a person can read.

Written by ``evaluate`` beside ``metrics.json`` (and by any later ``evaluate`` of a run whose
report is missing). It holds the run's identity, the offline identifiability scores (held-out
trajectories, true actions used for scoring only) and the online returns.
"""

from __future__ import annotations

from typing import Any

REPORT_NAME = "report.md"

# The offline scores shown first, with what they mean; the others follow in name order.
HEADLINE = {
    "ami": "AMI(codes, true actions): 1 = the codes are the actions up to relabelling",
    "used_codes": "codes used on held-out transitions",
    "n_actions": "true actions",
    "d1_idm_conditional_entropy": "D1 H(code | s, s'): 0 = deterministic labels (nats)",
    "d2_code_state_info_given_action": "D2 I(code; s | a): 0 = a code means the same action everywhere",
    "d3_action_entropy_given_code": "D3 H(a | code): 0 = no two actions share a code",
    "hungarian_global": "accuracy of the best global code -> action matching",
    "hungarian_per_region": "accuracy of the best matching per state region",
    "hungarian_gap": "per-region minus global: > 0 = state-dependent relabelling",
    "action_probe_accuracy": "linear probe latent -> true action (accuracy)",
    "action_probe_r2": "linear probe latent -> true action (R2)",
    "action_probe_accuracy_fit_on_train": "the same probe fitted on the training trajectories (accuracy)",
    "action_probe_r2_fit_on_train": "the same probe fitted on the training trajectories (R2)",
}
ONLINE = (
    ("return_mean", "return of the final policy"),
    ("random_return_mean", "return of a uniformly random policy"),
    ("bc_all_return_mean", "return of BC on all true actions (the normalizer)"),
    ("normalized_return", "return / BC-all return"),
    ("normalized_return_random", "(return - random) / (BC-all - random)"),
    ("episodes", "episodes"),
)


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "n/a" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


COLLAPSED = ("**The codes collapsed**: every held-out transition got the same code, so the FDM read the "
             "same latent whatever the action and the codes carry none of it; a probe can "
             "still find the action in the IDM's output before the bottleneck. A `vq` bottleneck revives "
             "unused codes with `model.vq.dead_code_threshold` > 0.")

LABEL_FREE = (
    ("rec_normalized", "FDM error under the IDM's codes over the variance of the FDM target"),
    ("objective_normalized", "the same plus the final entropy penalty"),
    ("h_conditional", "H(code | o_t, o_t+1) in nats: 0 when every transition gets one code"),
    ("codes_used", "codes given to more than 1% of held-out transitions"),
)


def format_report(report: dict[str, Any]) -> str:
    """Markdown of a ``metrics.json`` dict."""
    run = report.get("run") or {}
    lines = [f"# Run report: {run.get('method', '?')} (seed {run.get('seed', '?')})", "",
             "| | |", "|---|---|"]
    for key in ("method", "kind", "seed", "labels", "data", "data_fingerprint"):
        if key in run:
            lines.append(f"| {key} | {_cell(run[key])} |")
    lines += ["", "## Offline: identifiability on held-out trajectories", ""]
    offline = report.get("offline")
    if not offline:
        lines.append("Not computed (the `bc` baseline has no latent actions).")
    else:
        score = offline.get("score") or {}
        lines += [f"{offline.get('transitions', '?')} transitions; state regions "
                  f"`{(offline.get('params') or {}).get('regions', '?')}`.", "",
                  "| score | value | meaning |", "|---|---|---|"]
        keys = [k for k in HEADLINE if k in score] + sorted(k for k in score if k not in HEADLINE)
        for key in keys:
            lines.append(f"| {key} | {_cell(score[key])} | {_cell(HEADLINE.get(key, ''))} |")
        if score.get("distinct_codes") == 1 and (score.get("n_actions") or 0) > 1:
            lines += ["", COLLAPSED]
    free = report.get("label_free")
    if free:
        lines += ["", "## Label-free quality on held-out trajectories", "",
                  "Read from observations only; compare runs on the same data (lower is better).", "",
                  "| quantity | value | meaning |", "|---|---|---|"]
        for key, meaning in LABEL_FREE:
            if key in free:
                lines.append(f"| {key} | {_cell(free[key])} | {_cell(meaning)} |")
    lines += ["", "## Online: return in the environment", ""]
    online = report.get("online")
    if online:
        lines += ["| quantity | value | meaning |", "|---|---|---|"]
        for key, meaning in ONLINE:
            if key in online:
                lines.append(f"| {key} | {_cell(online[key])} | {_cell(meaning)} |")
    else:
        lines.append(f"Skipped: {report.get('online_skipped', 'not run')}.")
    return "\n".join(lines) + "\n"
