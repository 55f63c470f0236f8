"""`identlam demo`: the quickstart runs every stage and reports identifiability."""

from __future__ import annotations

import re

import pytest

from identlam.cli import main
from identlam.demo import DEMO_EPISODES, DEMO_STEPS, run_demo

TINY_DEMO = ["--steps", "12", "--set", "train.batch_size=32", "--set", "train.optim.warmup_steps=2",
             "--set", "bc.steps=5", "--set", "decoder.steps=5", "--set", "eval.episodes=1",
             "--set", "eval.max_steps=5", "--set", "eval.normalizer_steps=5"]


def test_demo_runs_every_stage_prints_the_report_and_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), *TINY_DEMO]) == 0
    printed = capsys.readouterr().out
    assert "synthetic/pointmass" in printed
    for name in ("A1", "A2", "A3", "A4"):  # the measured assumption table of the dataset
        assert re.search(rf"^  {name} +[\w' -]+ +(yes|no) +\w+=", printed, re.M), name
    for needle in ("AMI(codes, true actions)", "used codes / true actions", "D1", "D2", "D3",
                   "matching global / per-region", "return: policy / BC-all / random"):
        assert needle in printed, needle
    for stage_output in ("pointmass.h5", "lapo-entropy/config.json", "lapo-entropy/latents.npz",
                         "lapo-entropy/metrics.json", "lapo-entropy/report.md"):
        assert (out / stage_output).is_file(), stage_output
    # "Next:" names the files the demo wrote, and nothing outside the repository or the output
    assert f"identlam metrics --latents {out / 'lapo-entropy' / 'latents.npz'} --data {out / 'pointmass.h5'}" in printed
    assert f"cat {out / 'lapo-entropy' / 'report.md'}" in printed
    assert "theory" not in printed and "research/" not in printed
    # Rerunning reuses the dataset and every finished stage: nothing is retrained.
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.suffix in (".h5", ".npz", ".pt")}
    assert main(["demo", "--out", str(out), *TINY_DEMO]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_demo_dataset_has_the_documented_size(tmp_path):
    result = run_demo(tmp_path, steps=3, overrides=TINY_DEMO[3::2], echo=lambda _: None)
    assert result["dataset"]["transitions"] == DEMO_EPISODES * (DEMO_STEPS - 1)
    assert result["report"]["offline"]["score"]["n_actions"] == 4


@pytest.mark.slow
def test_the_full_demo_recovers_the_true_actions(tmp_path):
    """The quickstart's claim: with the preset recipe the codes identify the 4 true actions."""
    result = run_demo(tmp_path, echo=lambda _: None)
    score = result["report"]["offline"]["score"]
    assert score["ami"] >= 0.9 and score["used_codes"] == 4
    online = result["report"]["online"]
    assert online["return_mean"] > online["random_return_mean"] + 0.5 * (
        online["bc_all_return_mean"] - online["random_return_mean"])
