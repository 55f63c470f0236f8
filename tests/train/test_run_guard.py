"""A run directory is guarded: one writer at a time, crashes leave no temporaries and no torn
log behind, files follow the user's umask."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from identlam.cli import main
from identlam.errors import IdentlamError
from identlam.io import atomic_write_text, sweep_temp_files
from identlam.train.artifacts import load_artifact
from identlam.train.pipeline import make_config, run_pipeline
from identlam.train.rundir import RunDir

from train_fixtures import TINY

SMALL = [*TINY, "train.steps=12", "bc.steps=6", "decoder.steps=6", "eval.episodes=1", "eval.max_steps=5",
         "eval.normalizer_steps=5"]
SETS = [arg for item in SMALL if not item.startswith("train.steps=") for arg in ("--set", item)]
ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, data: Path, name: str, extra=()) -> RunDir:
    return RunDir.create(tmp_path / name, make_config(data, "lapo-entropy", labels=2, overrides=[*SMALL, *extra]), data)


def _temporaries(path: Path) -> list[Path]:
    return [p for p in path.rglob("*.tmp")]


def _hold_lock(run_path: Path) -> subprocess.Popen:
    """Another process holding the run's lock, as a running identlam command does."""
    code = ("import sys, time; from identlam.io import directory_lock\n"
            "with directory_lock(sys.argv[1], 'run'):\n    print('held', flush=True); time.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", code, str(run_path)], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture(scope="module")
def done_run(tmp_path_factory, vector_data) -> RunDir:
    run = _run(tmp_path_factory.mktemp("guard"), vector_data, "done")
    run_pipeline(run)
    return run


def test_a_second_command_on_a_busy_run_stops_with_one_line_and_a_dead_holder_does_not_block(
        tmp_path, vector_data, capsys):
    run = _run(tmp_path, vector_data, "busy")
    data = str(vector_data)
    commands = {
        "train": ["train", "--data", data, "--method", "lapo-entropy", "--labels", "2", "--out", str(run.path),
                  "--steps", "12", *SETS],
        "relabel": ["relabel", str(run.path)],
        "bc": ["bc", str(run.path)],
        "decode": ["decode", str(run.path)],
        "evaluate": ["evaluate", str(run.path)],
        "pipeline": ["pipeline", "--data", data, "--method", "lapo-entropy", "--labels", "2", "--out", str(run.path),
                     "--steps", "12", *SETS],
    }
    holder = _hold_lock(run.path)
    try:
        for name, argv in commands.items():
            capsys.readouterr()
            assert main(argv) == 2, name
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and "in use by pid" in err[0] and f"pid {holder.pid}" in err[0], (name, err)
        assert not run.finished("train") and not run.log.records()  # nothing ran
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    for name in ("train", "relabel", "bc", "decode", "evaluate", "pipeline"):
        assert main(commands[name]) == 0, name  # the dead holder's lock is gone with it
    assert [r["step"] for r in run.log.records("train")] == [5, 10, 12]


@pytest.mark.slow  # two fresh processes import torch and train: ~30 s on 2 shared cores
def test_two_real_pipelines_at_once_do_the_work_once(tmp_path, vector_data):
    out = tmp_path / "race"
    argv = [sys.executable, "-m", "identlam", "pipeline", "--data", str(vector_data), "--method", "lapo-entropy",
            "--labels", "2", "--out", str(out), "--steps", "12", *SETS]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert sorted(rc for rc, _ in results) in ([0, 0], [0, 2]), results
    for rc, err in results:
        if rc == 2:
            assert len(err.strip().splitlines()) == 1 and "in use by" in err, err
    log = RunDir(out).log
    assert [r["step"] for r in log.records("train")] == [5, 10, 12]  # trained once, logged once
    assert RunDir(out).finished("evaluate")


def test_read_only_or_file_locations_are_refused_in_one_line(tmp_path, vector_data, capsys):
    regular = tmp_path / "file"
    regular.write_text("x")
    for out in (regular, regular / "run"):
        capsys.readouterr()
        assert main(["train", "--data", str(vector_data), "--method", "lapo", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--out" in err[0], err


def _kill_at_write(name: str, action) -> int:
    """Run ``action`` in a forked child that dies (SIGKILL) when an atomic write of a file called
    ``name`` is about to be renamed into place: the crash leaves its temporary on disk."""
    pid = os.fork()
    if pid == 0:  # child
        real = os.replace

        def replace(src, dst, *a, **k):
            if Path(dst).name == name:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(src, dst, *a, **k)

        os.replace = replace
        try:
            action()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


KINDS = ("config.json", "restart0.pt", "restarts.json", "train.pt", "model.pt", "latents.npz", "bc.pt", "policy.pt",
         "decode.pt", "decoder.pt", "metrics.json", "report.md")


def test_a_crash_during_every_kind_of_write_leaves_no_temporary_after_the_next_run(tmp_path, vector_data):
    extra = ["train.restarts=2", "train.restart_steps=4"]
    whole = _run(tmp_path, vector_data, "whole", extra)
    run_pipeline(whole)
    cfg = make_config(vector_data, "lapo-entropy", labels=2, overrides=[*SMALL, *extra])
    path = tmp_path / "crashed"
    for kind in KINDS:  # each crash resumes the previous one's run, as a user rerunning would
        status = _kill_at_write(kind, lambda: run_pipeline(RunDir.create(path, cfg, vector_data)))
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, kind
        assert any(p.name.startswith(f".{kind}.") for p in _temporaries(path)), kind  # the crash left it
    run_pipeline(RunDir.create(path, cfg, vector_data))
    crashed = RunDir(path)
    assert _temporaries(crashed.path) == []
    for stage in ("train", "bc", "decode"):
        a, b = load_artifact(whole.output(stage))["modules"], load_artifact(crashed.output(stage))["modules"]
        assert all(torch.equal(a[n][k], b[n][k]) for n in a for k in a[n]), stage
    with np.load(whole.output("relabel")) as la, np.load(crashed.output("relabel")) as lb:
        assert all(np.array_equal(la[k], lb[k]) for k in la.files)
    assert [r["step"] for r in crashed.log.records("train")] == [5, 10, 12]


def test_a_torn_last_log_line_never_blocks_resume(tmp_path, vector_data, capsys):
    run = _run(tmp_path, vector_data, "torn")
    run_pipeline(run)
    rows = len(run.log.records())
    with open(run.log.path, "a") as fh:
        fh.write('{"stage": "bc", "step": 1')  # a crash or a full disk mid-line
    run.output("evaluate").unlink()
    capsys.readouterr()
    run_pipeline(RunDir(run.path))
    assert "dropped 1 torn line" in capsys.readouterr().out
    assert len(run.log.records()) == rows
    assert run.log.path.read_text().endswith("\n")
    run.log.append({"stage": "x", "step": 1})
    with open(run.log.path, "a") as fh:
        fh.write('{"torn')
    run.log.append({"stage": "x", "step": 2})  # an append after a torn line starts a new line
    assert [r["step"] for r in run.log.records("x")] == [1, 2]


def test_files_follow_the_umask(tmp_path, done_run):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640
    finally:
        os.umask(old)
    mask = os.umask(old)
    os.umask(mask)
    for name in ("config.json", "model.pt", "latents.npz", "policy.pt", "decoder.pt", "metrics.json", "report.md"):
        assert stat.S_IMODE((done_run.path / name).stat().st_mode) == 0o666 & ~mask, name


def test_sweep_removes_only_temporaries(tmp_path):
    keep = [tmp_path / "model.pt", tmp_path / ".hidden", tmp_path / "x.tmp"]
    gone = [tmp_path / ".model.pt.abcd1234.tmp", tmp_path / ".log.jsonl.x_Y9zzzz.tmp"]
    for p in keep + gone:
        p.write_text("")
    assert sorted(sweep_temp_files(tmp_path)) == sorted(gone)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in gone)


@pytest.mark.parametrize("damage,needle", [
    (b'{"data": {"path": "x.h5", "sha', "not valid JSON"),  # torn by a crash or a full disk
    (b'{"data": "\xff\xfe"}', "not UTF-8"),
    (b'{"config": {}}', "no 'data' entry"),
])
def test_a_damaged_run_config_says_what_is_wrong_with_it(tmp_path, damage, needle):
    (tmp_path / "config.json").write_bytes(damage)
    with pytest.raises(IdentlamError, match=needle) as info:
        RunDir(tmp_path)
    assert "config" in str(info.value) and "\n" not in str(info.value)
