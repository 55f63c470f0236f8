"""The shared optimization loop: schedule, resume bit-exactness, NaN handling, logging."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from identlam.errors import ConfigError, TrainingDiverged
from identlam.train.device import seeded_torch
from identlam.train.loop import RunLog, Schedule, fit

CPU = torch.device("cpu")


def _problem(seed: int):
    with seeded_torch(seed, CPU):
        net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 1))
    w = torch.tensor([[1.0], [-2.0], [0.5]])

    def make_step(rng: np.random.Generator):
        def step_fn(step: int):
            x = torch.from_numpy(rng.normal(size=(16, 3)).astype(np.float32))
            loss = ((net(x) - x @ w) ** 2).mean()
            return loss, {"mse": loss.item()}

        return step_fn

    return net, make_step


def _run(tmp_path, name, *, stop_at=None, steps=30, seed=0):
    net, make_step = _problem(seed)
    rng = np.random.default_rng(seed)
    sched = Schedule(steps=steps, lr=1e-2, warmup_steps=5, schedule="cosine", grad_clip=1.0,
                     checkpoint_every=7, log_every=5)
    with seeded_torch(seed, CPU):  # dropout draws from torch's RNG: it must resume too
        fit({"net": net}, make_step(rng), schedule=sched, rng=rng, device=CPU, stage="toy",
            checkpoint_path=tmp_path / f"{name}.pt", log=RunLog(tmp_path / f"{name}.jsonl"), stop_at=stop_at)
    return net


def test_resume_equals_uninterrupted(tmp_path):
    full = _run(tmp_path, "full")
    _run(tmp_path, "split", stop_at=11)  # "interrupted" after 11 updates (checkpointed at 11)
    resumed = _run(tmp_path, "split")
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    steps = [r["step"] for r in RunLog(tmp_path / "split.jsonl").records("toy")]
    assert steps == [5, 10, 11, 15, 20, 25, 30]


def test_log_lines_after_the_checkpoint_are_dropped_on_resume(tmp_path):
    log = RunLog(tmp_path / "log.jsonl")
    for step in (5, 10, 15):
        log.append({"stage": "toy", "step": step})
    log.append({"stage": "other", "step": 99})
    log.truncate("toy", 7)
    assert [(r["stage"], r["step"]) for r in log.records()] == [("toy", 5), ("other", 99)]


def test_different_seeds_differ(tmp_path):
    a = _run(tmp_path, "a", seed=0)
    b = _run(tmp_path, "b", seed=1)
    assert not torch.equal(a[0].weight, b[0].weight)


def test_schedule_warmup_then_cosine_to_zero():
    s = Schedule(steps=100, lr=1.0, warmup_steps=10, schedule="cosine")
    assert s.lr_factor(0) == pytest.approx(0.1)
    assert s.lr_factor(9) == pytest.approx(1.0)
    assert s.lr_factor(10) == pytest.approx(1.0)
    assert s.lr_factor(55) == pytest.approx(0.5)
    assert s.lr_factor(100) == pytest.approx(0.0, abs=1e-12)
    assert Schedule(steps=20, lr=1.0, schedule="linear").lr_factor(10) == pytest.approx(0.5)


@pytest.mark.parametrize("field,value", [("steps", 0), ("lr", 0.0), ("schedule", "exp"), ("warmup_steps", -1)])
def test_schedule_validation_names_the_field(field, value):
    kwargs = {"steps": 10, "lr": 1e-3, field: value}
    with pytest.raises(ConfigError, match=f"train.{field}"):
        Schedule(**kwargs).validate("train")


def test_nan_stops_before_the_update_and_keeps_the_last_good_checkpoint(tmp_path):
    net = torch.nn.Linear(2, 1)
    rng = np.random.default_rng(0)

    def step_fn(step):
        out = net(torch.ones(4, 2)).mean()
        bad = torch.tensor(float("nan")) if step == 6 else torch.tensor(0.0)
        loss = out ** 2 + bad
        return loss, {"recon": float(out.detach() ** 2), "entropy": float(bad)}

    sched = Schedule(steps=20, lr=1e-2, checkpoint_every=4, log_every=1)
    ckpt = tmp_path / "c.pt"
    with pytest.raises(TrainingDiverged) as info:
        fit({"net": net}, step_fn, schedule=sched, rng=rng, device=CPU, stage="toy",
            checkpoint_path=ckpt, log=RunLog(tmp_path / "log.jsonl"))
    msg = str(info.value)
    assert "\n" not in msg
    assert "step 6" in msg and "'entropy'" in msg and "step 4" in msg
    assert torch.load(ckpt, weights_only=False)["step"] == 4
    logged = [r["step"] for r in RunLog(tmp_path / "log.jsonl").records()]
    assert logged == [1, 2, 3, 4, 5, 6]
    assert all(np.isfinite(r["loss"]) for r in RunLog(tmp_path / "log.jsonl").records())


def test_log_records_loss_lr_and_model_diagnostics(tmp_path):
    _run(tmp_path, "logged")
    rows = RunLog(tmp_path / "logged.jsonl").records()
    assert rows[0]["step"] == 5 and {"loss", "lr", "grad_norm", "mse"} <= set(rows[0])
    assert rows[0]["lr"] == pytest.approx(1e-2)  # step 4 is the last warm-up step: factor 5/5
    json.dumps(rows)
