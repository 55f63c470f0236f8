"""``identlam demo``: the quickstart job, end to end on a laptop CPU in a few minutes.

1. Generate PointMass-4 on the torus (A1–A4 hold; the report says so, measured) into
   ``DIR/pointmass.h5`` and print its inspect summary.
2. Run the whole pipeline of entropy-regularized LAPO (``lapo-entropy``) with a label budget of
   two trajectories into ``DIR/lapo-entropy``: train, relabel, latent BC, decode, evaluate.
3. Print the identifiability report: did the codes recover the true actions (AMI, used codes vs
   K, D1–D3, the global-vs-per-region matching gap), and how well does the decoded policy act.

Rerunning resumes: the dataset is reused and finished stages are skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Sequence

from identlam.argtypes import field_int, output_dir, positive_int, thread_count

DEMO_ENV = "pointmass"
DEMO_PARAMS: dict[str, Any] = {"K": 4}
DEMO_EPISODES = 60
DEMO_STEPS = 100
DEMO_SEED = 0
DEMO_METHOD = "lapo-entropy"
DEMO_LABELS = 2
# The LAM keeps its preset; the later stages are shortened so the whole job takes minutes.
DEMO_OVERRIDES = ("bc.steps=500", "decoder.steps=300", "eval.episodes=5")


def register(subparsers) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="the quickstart: PointMass data, entropy-regularized LAPO, identifiability report",
        description="Generate PointMass-4 into DIR, train entropy-regularized LAPO through every stage "
        "(train, relabel, bc, decode, evaluate) and print whether the latent codes recovered the true "
        "actions. Takes a few minutes on two CPU cores; rerunning resumes.",
    )
    demo.add_argument("--out", type=output_dir, default=Path("demo"), help="output directory (default ./demo)")
    demo.add_argument("--steps", type=field_int("train.steps", 1), default=None, help="LAM updates (default: the preset's)")
    demo.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override a config field of the run (repeatable)")
    demo.add_argument("--threads", type=thread_count, default=None, metavar="N",
                      help="torch CPU threads (default: chosen from the model's size and the cores)")
    demo.set_defaults(func=run)


def run_demo(out_dir: str | Path, *, steps: int | None = None, overrides: Sequence[str] = (),
             episodes: int = DEMO_EPISODES, threads: int | None = None,
             echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the quickstart into ``out_dir``; return ``{"dataset": summary, "report": metrics.json}``."""
    from identlam.data.cli import generate
    from identlam.data.reader import open_dataset
    from identlam.data.summary import format_summary, summarize
    from identlam.train.pipeline import make_config, run_pipeline
    from identlam.train.rundir import RunDir

    from identlam.config import apply_overrides
    from identlam.presets import get_preset

    # a bad --set is refused before the dataset is generated (the demo's data are vectors)
    apply_overrides(get_preset(DEMO_METHOD, "cpu", "vector"), [*DEMO_OVERRIDES, *overrides])
    out = Path(out_dir)
    data = out / "pointmass.h5"
    if not data.is_file():
        generate(DEMO_ENV, data, episodes, DEMO_STEPS, DEMO_SEED, dict(DEMO_PARAMS))
    with open_dataset(data) as ds:
        summary = summarize(ds)
    echo(format_summary(summary))

    cfg = make_config(data, DEMO_METHOD, labels=DEMO_LABELS, steps=steps,
                      overrides=[*DEMO_OVERRIDES, *overrides])
    echo(f"\n== {DEMO_METHOD}: train, relabel, bc, decode, evaluate -> {out / DEMO_METHOD} ==")
    report = run_pipeline(RunDir.create(out / DEMO_METHOD, cfg, data), threads=threads)
    echo(format_headline(report, n_actions=int(DEMO_PARAMS["K"]), run_dir=out / DEMO_METHOD, data=data))
    return {"dataset": summary, "report": report}


def format_headline(report: dict[str, Any], n_actions: int, run_dir: str | Path = "RUN",
                    data: str | Path = "FILE.h5") -> str:
    """The few numbers that answer 'did it recover the true actions?', with what they mean."""
    score = report["offline"]["score"]
    lines = ["", "== identifiability on held-out trajectories (true actions used for scoring only) =="]
    rows = [
        ("AMI(codes, true actions)", score["ami"], "1 = the codes are the actions up to relabelling"),
        ("used codes / true actions", f"{score['used_codes']:.0f} / {n_actions}", "more = split, fewer = merged"),
        ("D1  H(Â|S,S') of the IDM", score.get("d1_idm_conditional_entropy"), "0 = deterministic labels (nats)"),
        ("D2  I(Â;S|A)", score.get("d2_code_state_info_given_action"), "0 = a code means the same action everywhere"),
        ("D3  H(A|Â)", score.get("d3_action_entropy_given_code"), "0 = no two actions share a code"),
        ("matching global / per-region", f"{score['hungarian_global']:.3f} / {score['hungarian_per_region']:.3f}",
         "a gap = state-dependent relabelling"),
    ]
    online = report.get("online")
    if online:
        rows.append(("return: policy / BC-all / random",
                     f"{online['return_mean']:.1f} / {online['bc_all_return_mean']:.1f} / "
                     f"{online['random_return_mean']:.1f}", "policy decoded from 2 labelled trajectories"))
    for name, value, meaning in rows:
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        lines.append(f"  {name:<32} {text:>22}   {meaning}")
    run_dir, data = Path(run_dir), Path(data)
    lines += ["", f"Written: {data} (dataset), {run_dir}/ (run: config.json, log.jsonl, model.pt, latents.npz, "
                  f"policy.pt, decoder.pt, metrics.json, report.md)",
              f"Next: identlam metrics --latents {run_dir / 'latents.npz'} --data {data}   (the full report)",
              f"      cat {run_dir / 'report.md'}   (this run's results as tables)",
              f"      identlam generate pointmass-islands --out {data.parent / 'islands.h5'} --set K=4   "
              "(assumption A3 switched off: run the demo's method on it and compare)"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    run_demo(args.out, steps=args.steps, overrides=args.overrides, threads=args.threads)
    return 0
