"""Config files of the earlier flat layout load by translation; old --set names say their new name."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from identlam.cli import main
from identlam.config import RunConfig, apply_overrides, from_dict, load, to_dict
from identlam.config.legacy import RENAMED
from identlam.errors import ConfigError
from identlam.presets import POINTMASS_RECIPE, get_preset

# `identlam presets lapo-entropy` as printed before the fields were grouped
FLAT = Path(__file__).with_name("lapo_entropy_flat_layout.json")
# what the preset was then: the PointMass recipe (fields added since take their neutral defaults)


def preset_then() -> RunConfig:
    return apply_overrides(get_preset("lapo-entropy"), POINTMASS_RECIPE)


def test_a_flat_layout_file_loads_as_the_same_config():
    cfg = load(FLAT)
    assert cfg == preset_then()
    flat = json.loads(FLAT.read_text())
    assert cfg.model.entropy.weight == flat["model"]["entropy_weight"] == 0.0024
    assert cfg.model.entropy.kind == flat["model"]["entropy"]
    assert cfg.train.optim.lr == flat["train"]["lr"] and cfg.bc.optim.lr == flat["bc"]["lr"]
    assert cfg.model.fdm_target == flat["model"]["target"] and cfg.bc.policy_target == flat["bc"]["target"]


def test_every_old_key_moves_to_its_new_path():
    flat = to_dict(RunConfig(labels=3, model=dataclasses.replace(RunConfig().model, n_codes=5)))
    for added in ("merge_weight", "cooling", "cooling_floor"):  # added after the flat layout: no old name, default on load
        flat["model"]["entropy"].pop(added)
    flat["model"]["vq"].pop("dead_code_threshold")  # likewise
    for old, new in reversed(RENAMED.items()):  # the entropy kind last: its table must be empty by then
        *parents, leaf = new.split(".")
        node = flat
        for part in parents:
            node = node[part]
        value = node.pop(leaf)
        section, old_leaf = old.split(".")
        if old == "model.entropy":
            assert flat["model"]["entropy"] == {}
        flat[section][old_leaf] = value
    assert flat["train"]["optim"] == flat["model"]["vq"] == flat["model"]["fsq"] == {}
    for table in (flat["train"], flat["model"], flat["model"], flat["bc"], flat["decoder"]):
        for name in ("optim", "vq", "fsq"):
            table.pop(name, None)  # the flat layout had no tables; bc and decoder had only their lr
    cfg = from_dict(RunConfig, flat)
    assert cfg == RunConfig(labels=3, model=dataclasses.replace(RunConfig().model, n_codes=5))


def test_a_file_mixing_an_old_name_with_its_new_one_is_refused():
    data = to_dict(RunConfig())
    data["train"]["lr"] = 1e-3
    with pytest.raises(ConfigError, match="'train.optim.lr'.*'train.lr'"):
        from_dict(RunConfig, data)


@pytest.mark.parametrize("key,new", [("model.entropy_weight", "model.entropy.weight"), ("model.target", "model.fdm_target"),
                                     ("bc.target", "bc.policy_target"), ("train.lr", "train.optim.lr"),
                                     ("model.vq_codebook_size", "model.vq.codebook_size"),
                                     ("entropy_bonus", "model.entropy.bonus"), ("fsq_levels", "model.fsq.levels")])
def test_an_old_set_name_names_the_new_one(key, new):
    with pytest.raises(ConfigError) as info:
        apply_overrides(RunConfig(), [f"{key}=1"])
    message = str(info.value)
    assert "\n" not in message and "renamed" in message and new in message


def test_an_old_set_name_on_the_command_line_is_one_line_naming_the_new_one(tmp_path, capsys, vector_data):
    code = main(["train", "--data", str(vector_data), "--method", "lapo-entropy", "--out", str(tmp_path / "run"),
                 "--set", "model.entropy_weight=0.3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["identlam train: error: --set key 'model.entropy_weight' was renamed to "
                                 "'model.entropy.weight'"]


def test_a_run_made_with_the_flat_layout_reopens(tmp_path, vector_data):
    from identlam.train.rundir import RunDir

    run = tmp_path / "run"
    run.mkdir()
    record = {"data": {"path": str(vector_data.resolve()), "sha256": "0" * 64, "size": 1},
              "config": json.loads(FLAT.read_text())}
    (run / "config.json").write_text(json.dumps(record))
    assert RunDir(run).cfg == preset_then()
