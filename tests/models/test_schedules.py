"""The entropy/temperature schedule of the categorical bottleneck."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.config import LAMConfig
from identlam.errors import ConfigError
from identlam.models.schedules import ENTROPY_TERMS, coefficients


def cfg(**kw):
    return dataclasses.replace(LAMConfig(), **kw)


@pytest.mark.parametrize("variant", ENTROPY_TERMS)
def test_only_the_chosen_term_carries_lambda(variant):
    c = coefficients(cfg(entropy=variant, entropy_weight=0.3), step=10, total_steps=100)
    assert c[variant] == pytest.approx(0.3)
    assert all(c[t] == 0.0 for t in ENTROPY_TERMS if t != variant)
    assert c["temperature"] == 1.0


def test_none_switches_every_term_off():
    c = coefficients(cfg(entropy="none", entropy_weight=0.3), step=10, total_steps=100)
    assert [c[t] for t in ENTROPY_TERMS] == [0.0, 0.0, 0.0]


def test_linear_warmup_reaches_lambda_at_the_end_of_warmup():
    c = cfg(entropy="conditional", entropy_weight=0.4, entropy_warmup_steps=200)
    got = [coefficients(c, s, 1000)["conditional"] for s in (0, 50, 100, 200, 900)]
    assert got == pytest.approx([0.0, 0.1, 0.2, 0.4, 0.4])


@settings(max_examples=30, deadline=None)
@given(step=st.integers(0, 5000), warm=st.integers(0, 3000), lam=st.floats(-2, 2))
def test_weight_is_monotone_in_step_and_bounded_by_lambda(step, warm, lam):
    c = cfg(entropy="policy", entropy_weight=lam, entropy_warmup_steps=warm)
    now = coefficients(c, step, 5000)["policy"]
    later = coefficients(c, step + 1, 5000)["policy"]
    assert abs(now) <= abs(lam) + 1e-12
    assert abs(later) >= abs(now) - 1e-12


@pytest.mark.parametrize(
    "kw, step, total, field",
    [
        ({"entropy": "joint"}, 0, 10, "model.entropy"),
        ({"entropy_warmup_steps": -1}, 0, 10, "model.entropy_warmup_steps"),
        ({"entropy_weight": float("nan")}, 0, 10, "model.entropy_weight"),
        ({}, 0, 0, "train.steps"),
        ({}, -1, 10, "step"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(kw, step, total, field):
    with pytest.raises(ConfigError, match=field):
        coefficients(cfg(**kw), step, total)
