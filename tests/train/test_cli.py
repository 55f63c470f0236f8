"""The pipeline commands through `identlam.cli.main`: outputs, config round trip, one-line errors."""

from __future__ import annotations

import json
import shutil

from train_fixtures import TINY

from identlam.cli import main
from identlam.presets import PRESET_NAMES

SETS = [arg for item in TINY if not item.startswith("train.steps=") for arg in ("--set", item)]


def _error_line(capsys, argv) -> str:
    capsys.readouterr()  # drop what earlier commands printed
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_presets_lists_every_method_with_one_line(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(PRESET_NAMES)
    assert all(len(line.split()) > 3 for line in lines)
    assert main(["presets", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == set(PRESET_NAMES)


def test_preset_json_round_trips_through_config(tmp_path, capsys, vector_data):
    assert main(["presets", "lapo-entropy", "--obs", "vector"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    cfg["model"]["entropy"]["weight"] = 0.25
    cfg["train"]["steps"] = 8
    (tmp_path / "mine.json").write_text(json.dumps(cfg))
    out = tmp_path / "run"
    assert main(["train", "--data", str(vector_data), "--config", str(tmp_path / "mine.json"), "--out", str(out),
                 "--set", "train.batch_size=16", "--set", "model.hidden_dim=16", "--set", "model.embed_dim=8",
                 "--set", "train.optim.warmup_steps=2"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["model"]["entropy"]["weight"] == 0.25 and saved["config"]["train"]["steps"] == 8
    assert saved["config"]["train"]["batch_size"] == 16
    assert saved["data"]["path"] == str(vector_data.resolve()) and len(saved["data"]["sha256"]) == 64
    assert (out / "model.pt").is_file()
    # the run's own config.json is accepted by --config too
    assert main(["train", "--data", str(vector_data), "--config", str(out / "config.json"), "--out", str(out)]) == 0


def test_stage_commands_and_pipeline_rerun(tmp_path, capsys, vector_data):
    out = str(tmp_path / "run")
    assert main(["train", "--data", str(vector_data), "--method", "lapo-entropy", "--out", out, "--labels", "2",
                 "--steps", "10", "--seed", "3", "--device", "cpu", *SETS]) == 0
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert (cfg["train"]["steps"], cfg["seed"], cfg["labels"], cfg["device"]) == (10, 3, 2, "cpu")
    for stage, name in (("relabel", "latents.npz"), ("bc", "policy.pt"), ("decode", "decoder.pt")):
        assert main([stage, out]) == 0
        assert name in capsys.readouterr().out
    assert main(["evaluate", out, "--episodes", "1"]) == 0
    printed = capsys.readouterr().out
    assert "metrics.json" in printed and "ami" in printed and "return" in printed
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["online"]["episodes"] == 1
    # pipeline over a finished run: every stage is skipped, the same metrics come back
    before = (tmp_path / "run" / "metrics.json").read_text()
    assert main(["pipeline", "--data", str(vector_data), "--method", "lapo-entropy", "--out", out, "--labels", "2",
                 "--steps", "10", "--seed", "3", "--device", "cpu", *SETS]) == 0
    assert (tmp_path / "run" / "metrics.json").read_text() == before
    # asking for another number of episodes re-evaluates
    assert main(["evaluate", out, "--episodes", "2"]) == 0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["online"]["episodes"] == 2


def test_one_line_errors(tmp_path, capsys, vector_data):
    data = str(vector_data)
    run = str(tmp_path / "run")
    assert "missing.h5" in _error_line(capsys, ["train", "--data", str(tmp_path / "missing.h5"), "--method", "lapo",
                                                "--out", run])
    assert "nope" in _error_line(capsys, ["train", "--data", data, "--method", "nope", "--out", run])
    assert "model.entropy_wait" in _error_line(capsys, ["train", "--data", data, "--method", "lapo-entropy", "--out",
                                                        run, "--set", "model.entropy_wait=1"])
    assert "--method" in _error_line(capsys, ["train", "--data", data, "--out", run])
    assert "config.json" in _error_line(capsys, ["relabel", str(tmp_path / "empty")])
    assert "labels" in _error_line(capsys, ["train", "--data", data, "--method", "bc", "--out", run, "--labels", "0",
                                            *SETS])
    assert "train.steps" in _error_line(capsys, ["train", "--data", data, "--method", "lapo-entropy", "--out",
                                                 str(tmp_path / "r0"), "--steps", "0"])


def test_stage_order_and_changed_data_errors(tmp_path, capsys, vector_data):
    data = tmp_path / "copy.h5"
    shutil.copyfile(vector_data, data)
    run = str(tmp_path / "run")
    assert main(["train", "--data", str(data), "--method", "lapo-entropy", "--out", run, "--steps", "4", *SETS]) == 0
    assert "identlam relabel" in _error_line(capsys, ["bc", run])  # bc before relabel names the missing stage
    assert "--labels" in _error_line(capsys, ["decode", run])  # no label budget, no decoder
    # a different config for the same RUN is refused, naming the first difference
    line = _error_line(capsys, ["train", "--data", str(data), "--method", "lapo-entropy", "--out", run, *SETS])
    assert "train.steps" in line
    with open(data, "r+b") as fh:  # change the file's bytes
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 0xFF]))
    assert "changed" in _error_line(capsys, ["relabel", run])


def test_a_diverging_run_reports_one_line(tmp_path, capsys, vector_data):
    line = _error_line(capsys, ["train", "--data", str(vector_data), "--method", "lapo-continuous", "--out",
                                str(tmp_path / "run"), *SETS, "--set", "train.optim.lr=1e30", "--set", "train.optim.grad_clip=0",
                                "--set", "train.optim.warmup_steps=0", "--set", "train.checkpoint_every=1"])
    assert line.startswith("identlam train: error: train diverged at step ") and "last good checkpoint" in line
