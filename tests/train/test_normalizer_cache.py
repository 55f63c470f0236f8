"""The BC-on-all-actions normalizer cache: one measurement under concurrency, corrupt files replaced.

The expensive part (training the BC, rolling it out) is replaced by a cheap function that
appends its process id to a counter file, so the tests count measurements across processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from identlam.errors import IdentlamError
from identlam.presets import get_preset
from identlam.train import evaluate_online
from identlam.train.evaluate_online import bc_all_normalizer, cache_dir

EPISODES = 3


def _fake_run(sha: str = "ab" * 32):
    return SimpleNamespace(cfg=get_preset("lapo-entropy", "cpu", "vector"), data_fingerprint={"sha256": sha})


@pytest.fixture
def counter(tmp_path, monkeypatch) -> Path:
    """A fresh cache directory and a counting measurement whose returns differ per process."""
    monkeypatch.setenv("IDENTLAM_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "measurements.txt"

    def measure(cfg, ds, device, episodes):
        with open(path, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.4)  # long enough for a racing process to reach the cache meanwhile
        return [float(os.getpid() % 1000), float(episodes)]

    monkeypatch.setattr(evaluate_online, "_measure_bc_all", measure)
    return path


def _measurements(counter: Path) -> list[str]:
    return counter.read_text().split() if counter.is_file() else []


def _evaluate_in_child(barrier, out: str) -> None:
    barrier.wait(timeout=20)
    record = bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES)
    Path(out).write_text(json.dumps(record))


@pytest.mark.skipif(sys.platform == "win32", reason="fork and fcntl are POSIX")
def test_two_processes_started_at_once_measure_once_and_agree(counter, tmp_path):
    ctx = multiprocessing.get_context("fork")  # the children inherit the monkeypatched measurement
    barrier = ctx.Barrier(2)
    outs = [tmp_path / f"child{i}.json" for i in range(2)]
    children = [ctx.Process(target=_evaluate_in_child, args=(barrier, str(out))) for out in outs]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0, 0]
    assert len(_measurements(counter)) == 1
    first, second = (json.loads(out.read_text()) for out in outs)
    assert first == second
    assert first["return_mean"] == pytest.approx((int(_measurements(counter)[0]) % 1000 + EPISODES) / 2)
    assert json.loads(Path(first["cache"]).read_text())["returns"] == first["returns"]


def test_a_cached_record_is_reused_and_a_different_key_measures_again(counter):
    first = bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES)
    again = bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES)
    assert again == first and len(_measurements(counter)) == 1
    other = bc_all_normalizer(_fake_run("cd" * 32), None, torch.device("cpu"), EPISODES)
    assert other["cache"] != first["cache"] and len(_measurements(counter)) == 2
    assert Path(first["cache"]).parent == cache_dir()


@pytest.mark.parametrize("damage", ["truncate", "wrong_key", "empty_returns"])
def test_an_unusable_cache_file_warns_in_one_line_and_is_rewritten(counter, damage):
    first = bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES)
    path = Path(first["cache"])
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    else:
        record = json.loads(text)
        if damage == "wrong_key":
            record["key"]["seed"] = -1
        else:
            record["returns"] = []
        path.write_text(json.dumps(record))
    with pytest.warns(RuntimeWarning, match="normalizer cache .* is unusable") as caught:
        again = bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert len(_measurements(counter)) == 2
    assert json.loads(path.read_text()) == {k: v for k, v in again.items() if k != "cache"}


def test_without_fcntl_measuring_fails_in_one_line_but_a_cached_record_still_reads(counter, monkeypatch):
    first = bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES)
    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` now raises ImportError
    assert bc_all_normalizer(_fake_run(), None, torch.device("cpu"), EPISODES) == first
    with pytest.raises(IdentlamError, match="locking needs fcntl") as err:
        bc_all_normalizer(_fake_run("ef" * 32), None, torch.device("cpu"), EPISODES)
    assert "\n" not in str(err.value) and len(_measurements(counter)) == 1
