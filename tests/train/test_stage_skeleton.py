"""What every stage shares: progress a person can follow, report.md, thread choice recorded,
dataset fingerprints on every output, one-line errors for damaged outputs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from identlam.cli import main
from identlam.fingerprint import dataset_fingerprint
from identlam.models import LatentActionModel
from identlam.train.artifacts import load_artifact
from identlam.train.pipeline import make_config, run_pipeline, stage_budgets
from identlam.train.report import format_report
from identlam.train.rundir import RunDir
from identlam.train.stage_bc import run_bc
from identlam.train.stage_train import run_train
from identlam.train.threads import FLOPS_PER_THREAD, choose_threads, default_threads

from train_fixtures import TINY, make_pointmass


def _cfg(data, extra=()):
    return make_config(data, "lapo-entropy", labels=2, overrides=[*TINY, *extra])


@pytest.fixture(scope="module")
def finished(tmp_path_factory, vector_data):
    run = RunDir.create(tmp_path_factory.mktemp("skeleton") / "run", _cfg(vector_data), vector_data)
    run_pipeline(run)
    return run


def test_progress_lines_say_stage_step_rate_eta_and_where_a_resume_starts(tmp_path, vector_data, capsys, monkeypatch):
    monkeypatch.setenv("IDENTLAM_PROGRESS_SECONDS", "0")  # a line per step (stdout is not a terminal here)
    run = RunDir.create(tmp_path / "run", _cfg(vector_data), vector_data)
    real_loss = LatentActionModel.loss

    def interrupted(self, batch, step, total_steps=1):
        if step == 17:
            raise KeyboardInterrupt
        return real_loss(self, batch, step, total_steps)

    monkeypatch.setattr(LatentActionModel, "loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_train(run)
    first = capsys.readouterr().out
    assert "train: starting, 30 steps" in first
    assert "train: step 17/30 (57%)" in first and " steps/s, ETA " in first
    monkeypatch.setattr(LatentActionModel, "loss", real_loss)
    run_train(run)
    again = capsys.readouterr().out
    assert f"train: resuming at step 10 of 30 from checkpoint '{run.checkpoint('train')}'" in again
    assert "train: step 30/30 (100%)" in again
    run_train(run)
    assert "train: done" in capsys.readouterr().out  # a finished stage says it is skipped


def test_pipeline_prints_each_stage_budget_at_start(tmp_path, vector_data, capsys):
    cfg = _cfg(vector_data)
    line = stage_budgets(cfg)
    assert line == ("pipeline: train 30 steps (batch 32), relabel 1 pass, bc 20 steps (batch 32), "
                    "decode 20 steps on 2 labelled trajectories, evaluate 2 episodes")
    assert "decode skipped (no --labels)" in stage_budgets(make_config(vector_data, "lapo-entropy", overrides=TINY))
    help_text = main_help(capsys, ["pipeline", "--help"])
    assert "--steps sets train.steps only" in " ".join(help_text.split())


def main_help(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out


def test_report_md_holds_the_offline_and_online_tables(finished):
    metrics = json.loads(finished.output("evaluate").read_text())
    text = (finished.path / "report.md").read_text()
    assert text == format_report(metrics)
    score = metrics["offline"]["score"]
    assert f"| ami | {score['ami']:.4g} |" in text
    assert f"| return_mean | {metrics['online']['return_mean']:.4g} |" in text
    assert "## Offline" in text and "## Online" in text
    for row in (ln for ln in text.splitlines() if ln.startswith("| ")):  # every table row has its columns
        assert len(row.replace("\\|", "").split("|")) - 2 in (2, 3), row
    (finished.path / "report.md").unlink()
    run_pipeline(RunDir(finished.path))  # a finished run gets its missing report back, nothing retrained
    assert (finished.path / "report.md").read_text() == text


def test_report_md_says_when_the_codes_collapsed():
    from identlam.train.report import COLLAPSED

    def report(distinct, n_actions=4, used=1):
        score = {"distinct_codes": distinct, "used_codes": used, "n_actions": n_actions}
        return format_report({"offline": {"score": score}})

    assert COLLAPSED in report(1)
    assert COLLAPSED not in report(4, used=4) and COLLAPSED not in report(1, n_actions=1)
    assert COLLAPSED not in report(40)  # one code above 1% of the transitions, many below: not one code
    assert COLLAPSED not in format_report({"offline": {"score": {"action_probe_r2": 0.5}}})  # continuous latent


def test_threads_are_chosen_recorded_and_restored(tmp_path, vector_data, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    # without the merge test's fine-tuning: two threads on a tiny model under load run it for minutes
    no_merge = ["train.merge_tolerance=0"]
    run = RunDir.create(tmp_path / "run", _cfg(vector_data, no_merge), vector_data)
    run_train(run, threads=2)
    events = run.log.events("threads")
    assert [(e["of"], e["threads"], e["reason"]) for e in events] == [("train", 2, "--threads")]
    assert torch.get_num_threads() == before
    run2 = RunDir.create(tmp_path / "run2", _cfg(vector_data, no_merge), vector_data)
    run_train(run2)
    (event,) = run2.log.events("threads")
    assert event["threads"] == 1 and event["reason"].startswith("default for")  # a tiny model: one thread


def test_default_threads_grow_with_work_and_leave_a_core(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads(0.0, 16) == 1
    assert default_threads(FLOPS_PER_THREAD * 0.99, 16) == 1
    assert default_threads(FLOPS_PER_THREAD * 4, 16) == 4
    assert default_threads(FLOPS_PER_THREAD * 100, 16) == 15
    assert default_threads(FLOPS_PER_THREAD * 100, 2) == 1
    assert default_threads(FLOPS_PER_THREAD * 100, 1) == 1
    assert choose_threads(None, FLOPS_PER_THREAD * 100, resumed_with=3)[0] == 3  # a resume keeps its count
    assert choose_threads(5, 0.0, resumed_with=3) == (5, "--threads")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert choose_threads(None, 0.0) == (2, "OMP_NUM_THREADS")


def test_every_output_records_the_dataset_fingerprint(finished, tmp_path, vector_data):
    fp = dataset_fingerprint(vector_data)
    with np.load(finished.output("relabel")) as z:
        assert str(z["data_fingerprint"]) == fp
    for stage in ("train", "bc", "decode"):
        assert load_artifact(finished.output(stage))["meta"]["data_fingerprint"] == fp, stage
    assert json.loads(finished.output("evaluate").read_text())["run"]["data_fingerprint"] == fp
    copy = tmp_path / "copy.h5"
    shutil.copyfile(vector_data, copy)
    assert dataset_fingerprint(copy) == fp  # a copy is the same data
    other = make_pointmass(tmp_path / "other.h5", distractor="iid", noise=0.05)  # same length, other data
    assert dataset_fingerprint(other) != fp


def test_metrics_refuses_latents_of_another_dataset_of_the_same_length(finished, tmp_path, capsys, vector_data):
    other = make_pointmass(tmp_path / "other.h5", distractor="iid", noise=0.05)
    capsys.readouterr()
    assert main(["metrics", "--latents", str(finished.output("relabel")), "--data", str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different dataset" in err[0], err


def test_a_corrupt_latents_file_gives_one_line(tmp_path, finished, capsys):
    run_path = tmp_path / "corrupt"
    shutil.copytree(finished.path, run_path)
    for name in ("policy.pt", "decoder.pt", "metrics.json"):
        (run_path / name).unlink()
    (run_path / "latents.npz").write_bytes(b"PK\x03\x04 torn")
    capsys.readouterr()
    assert main(["bc", str(run_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "latents.npz" in err[0] and "identlam relabel" in err[0], err
    with pytest.raises(Exception) as info:
        run_bc(run_path)  # the Python API takes the run's path too
    assert "cannot be read" in str(info.value)
