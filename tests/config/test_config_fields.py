"""Every config field refuses values that make no sense, with one line naming its dotted path.

The bad values are generated for every leaf of the run config from its type and declared
range (wrong type, NaN/inf, out of range, unknown choice, empty list), plus a hand-written list
of values a user is likely to try. Each is refused by :func:`identlam.config.validate` (through
``apply_overrides``, as ``--set`` does), and through the CLI with exit status 2 and one stderr
line, before a run directory is created.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.cli import main
from identlam.config import RunConfig, apply_overrides, leaf_paths, validate, walk
from identlam.config.rules import Flag, Num, OneOf, Seq, Text
from identlam.errors import ConfigError
from identlam.presets import PRESET_NAMES, get_preset

BASE = get_preset("lapo-entropy", obs_kind="vector")
LEAVES = list(walk(BASE))
NAN, INF = float("nan"), float("inf")


def bad_values(rule) -> list:
    """Values ``rule`` must refuse: wrong types, non-finite numbers, out-of-range and unknown values."""
    if isinstance(rule, Num):
        out = ["abc", True, [1], None, NAN, INF, -INF]
        if rule.integer:
            out.append(1.5)
        if rule.lo is not None:
            out.append(rule.lo if rule.lo_open else rule.lo - 1)
            out.append(-1e9)
        if rule.hi is not None:
            out.append(rule.hi if rule.hi_open else rule.hi + 1)
            out.append(1e12 if rule.integer is False else 2**40)
        return out
    if isinstance(rule, OneOf):
        return ["no-such-choice", "", 3, True, None, ["x"]]
    if isinstance(rule, Flag):
        return ["yes", 1, 0.0, None, [True]]
    if isinstance(rule, Text):
        return ["", "two words", "a/b", 3, None]
    if isinstance(rule, Seq):
        return [[], "word" if not isinstance(rule.item, OneOf) else 7, [None], *([[v] for v in bad_values(rule.item)[:4]])]
    raise AssertionError(f"no bad values for rule {rule!r}")


CASES = [(dotted, bad) for dotted, _, rule in LEAVES for bad in bad_values(rule)]

# values a user is likely to try, written out independently of the declarations
LIKELY = [
    ("model.entropy.weight", -0.1), ("model.entropy.bonus", -1.0), ("model.entropy.anneal_end", 0.0),
    ("train.batch_size", 0), ("bc.batch_size", -3), ("decoder.batch_size", 0), ("labels", -1),
    ("train.steps", 0), ("train.optim.lr", 0.0), ("train.optim.lr", NAN), ("bc.optim.lr", -1e-3),
    ("train.optim.schedule", "exp"), ("train.optim.grad_clip", -1.0), ("model.vq.decay", 1.0),
    ("model.fsq.levels", [2, 5]), ("model.n_codes", 1), ("model.bottleneck", "gumbel"),
    ("model.augment_ops", ["blur"]), ("model.augment_ops", ["shift", "shift"]), ("eval.holdout_fraction", 1.0),
    ("model.target_ema_tau", 2.0), ("device", "tpu"), ("seed", -1), ("kind", "vae"), ("train.curriculum", 1.5),
]


def test_every_field_declares_a_rule_and_a_doc_line():
    def check(cls, prefix=""):
        for f in dataclasses.fields(cls):
            dotted = f"{prefix}.{f.name}" if prefix else f.name
            doc = f.metadata.get("doc", "")
            assert doc and "\n" not in doc, dotted
            if "rule" in f.metadata:
                assert f.metadata["rule"].problem(getattr(cls(), f.name)) is None, dotted  # defaults are valid
            else:
                check(type(f.default_factory()), dotted)

    check(RunConfig)
    assert {d for d, _, _ in LEAVES} == set(leaf_paths(RunConfig))


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("scale", ["cpu", "paper"])
def test_every_preset_is_valid(name, scale):
    validate(get_preset(name, scale))


def _refused(dotted: str, value) -> str:
    with pytest.raises(ConfigError) as info:
        apply_overrides(BASE, {dotted: value})
    return str(info.value)


@pytest.mark.parametrize("dotted,bad", CASES + LIKELY, ids=lambda v: repr(v)[:40])
def test_a_bad_value_is_refused_naming_the_dotted_path(dotted, bad):
    message = _refused(dotted, bad)
    assert "\n" not in message
    assert f"'{dotted}" in message, message  # the field itself, or an item of it ('model.fsq.levels[0]')


def _number_outside(rule: Num):
    below = st.floats(max_value=rule.lo, exclude_max=not rule.lo_open, allow_nan=False) if rule.lo is not None else None
    above = st.floats(min_value=rule.hi, exclude_min=not rule.hi_open, allow_nan=False) if rule.hi is not None else None
    options = [s for s in (below, above) if s is not None]
    return st.one_of(*options) if options else st.nothing()


BOUNDED = [(d, r) for d, _, r in LEAVES if isinstance(r, Num) and (r.lo is not None or r.hi is not None)]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_number_outside_a_declared_range_is_refused(data):
    dotted, rule = data.draw(st.sampled_from(BOUNDED))
    value = data.draw(_number_outside(rule))
    if rule.integer and math.isfinite(value):
        value = int(math.floor(value) if rule.lo is not None and value <= rule.lo else math.ceil(value))
    assert f"'{dotted}'" in _refused(dotted, value)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_numbers_inside_a_declared_range_are_accepted(data):
    dotted, rule = data.draw(st.sampled_from(BOUNDED))
    lo = rule.lo if rule.lo is not None else -1e6
    hi = rule.hi if rule.hi is not None else lo + 1e6
    if rule.integer:
        value = data.draw(st.integers(int(lo) + rule.lo_open, min(int(hi) - rule.hi_open, int(lo) + 50)))
    else:
        value = data.draw(st.floats(lo, hi, exclude_min=rule.lo_open, exclude_max=rule.hi_open))
    if dotted in ("train.restart_steps",):
        value = min(value, BASE.train.steps - 1)
    if dotted == "train.curriculum_hold":
        value = 0.0  # must stay below train.curriculum: a relation, tested below
    if dotted == "train.curriculum" and 0 < value <= BASE.train.curriculum_hold:
        value = 0.0  # on, it must exceed the preset's hold (a relation, tested below); 0 switches both off
    if dotted == "model.entropy.warmup_steps":
        value = 0  # annealing (entropy.bonus > 0) replaces the warm-up: a relation, tested below
    cfg = apply_overrides(dataclasses.replace(BASE, labels=4), {dotted: value})  # labels: label_coef > 0 needs some
    assert dict(((d, v) for d, v, _ in walk(cfg)))[dotted] == value


@pytest.mark.parametrize("assignments,needle", [
    ({"model.entropy.warmup_steps": 10}, "model.entropy.warmup_steps"),  # with the preset's bonus > 0
    ({"model.normalize_target": True, "model.fdm_target": "latent"}, "model.normalize_target"),
    ({"model.bottleneck": "vq", "model.vq.num_codebooks": 8, "model.vq.num_latents": 8}, "model.vq.codebook_size"),
    ({"train.restarts": 2, "train.restart_steps": 3000}, "train.restart_steps"),
    ({"train.curriculum": 0.3, "train.curriculum_hold": 0.3}, "train.curriculum_hold"),
    ({"kind": "bc", "labels": 0}, "labels"),
    ({"model.label_coef": 0.5, "labels": 0}, "labels"),
    ({"model.bottleneck": "none", "bc.policy_target": "codes"}, "bc.policy_target"),
])
def test_fields_that_contradict_each_other_are_refused(assignments, needle):
    with pytest.raises(ConfigError, match=f"'{needle}'"):
        apply_overrides(BASE, assignments)


# ---------------------------------------------------------------------------------------------
# Through the command line: exit status 2, one line on stderr, no run directory.


def _cli_raw(value) -> str:
    return value if isinstance(value, str) and value not in ("", "true", "false") else json.dumps(value)


CLI_CASES = [(dotted, bad_values(rule)[i % len(bad_values(rule))]) for i, (dotted, _, rule) in enumerate(LEAVES)]


@pytest.mark.parametrize("dotted,bad", CLI_CASES + LIKELY, ids=lambda v: repr(v)[:40])
def test_the_cli_refuses_a_bad_value_with_one_line_and_status_2(dotted, bad, vector_data, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", str(vector_data), "--method", "lapo-entropy", "--out", str(out),
                 "--set", f"{dotted}={_cli_raw(bad)}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("identlam train: error: ") and dotted in err[0], err[0]
    assert not out.exists()  # refused before any work started


def test_the_installed_command_refuses_a_negative_entropy_weight(vector_data, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "identlam", "train", "--data", str(vector_data), "--method",
                           "lapo-entropy", "--out", str(tmp_path / "run"), "--set", "model.entropy.weight=-0.5"],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "identlam train: error: config key 'model.entropy.weight': must be >= 0, got -0.5"]
