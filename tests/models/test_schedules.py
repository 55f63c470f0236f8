"""The entropy schedule of the categorical bottleneck."""

import dataclasses

import numpy as np

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identlam.config import EntropyConfig
from identlam.errors import ConfigError
from identlam.models.schedules import ENTROPY_TERMS, coefficients


def cfg(**kw):
    return EntropyConfig(**kw)


@pytest.mark.parametrize("variant", ENTROPY_TERMS)
def test_only_the_chosen_term_carries_lambda(variant):
    c = coefficients(cfg(kind=variant, weight=0.3), step=10, total_steps=100)
    assert c[variant] == pytest.approx(0.3)
    assert all(c[t] == 0.0 for t in ENTROPY_TERMS if t != variant)


def test_none_switches_every_term_off():
    c = coefficients(cfg(kind="none", weight=0.3), step=10, total_steps=100)
    assert [c[t] for t in ENTROPY_TERMS] == [0.0, 0.0, 0.0]


def test_linear_warmup_reaches_lambda_at_the_end_of_warmup():
    c = cfg(kind="conditional", weight=0.4, warmup_steps=200)
    got = [coefficients(c, s, 1000)["conditional"] for s in (0, 50, 100, 200, 900)]
    assert got == pytest.approx([0.0, 0.1, 0.2, 0.4, 0.4])


@settings(max_examples=30, deadline=None)
@given(step=st.integers(0, 5000), warm=st.integers(0, 3000), lam=st.floats(0, 2))
def test_weight_is_monotone_in_step_and_bounded_by_lambda(step, warm, lam):
    c = cfg(kind="policy", weight=lam, warmup_steps=warm)
    now = coefficients(c, step, 5000)["policy"]
    later = coefficients(c, step + 1, 5000)["policy"]
    assert abs(now) <= abs(lam) + 1e-12
    assert abs(later) >= abs(now) - 1e-12


@pytest.mark.parametrize(
    "kw, step, total, field",
    [
        ({"kind": "joint"}, 0, 10, "model.entropy.kind"),
        ({"warmup_steps": -1}, 0, 10, "model.entropy.warmup_steps"),
        ({"weight": float("nan")}, 0, 10, "model.entropy.weight"),
        ({}, 0, 0, "train.steps"),
        ({}, -1, 10, "step"),
    ],
)
def test_bad_values_raise_config_error_naming_the_field(kw, step, total, field):
    with pytest.raises(ConfigError, match=field):
        coefficients(cfg(**kw), step, total)


def test_annealing_moves_from_bonus_to_penalty_then_stays():
    c = cfg(kind="conditional", weight=0.1, bonus=0.3, anneal_end=0.5)
    got = [coefficients(c, s, 1000)["conditional"] for s in (0, 250, 375, 500, 999)]
    assert got == pytest.approx([-0.3, -0.1, 0.0, 0.1, 0.1])


def test_annealing_scales_with_the_length_of_training():
    c = cfg(kind="conditional", weight=0.1, bonus=0.3, anneal_end=0.5)
    assert coefficients(c, 100, 400)["conditional"] == pytest.approx(coefficients(c, 1000, 4000)["conditional"])


def test_zero_bonus_leaves_the_plain_schedule():
    plain = cfg(kind="conditional", weight=0.2, warmup_steps=100)
    assert coefficients(plain, 50, 1000) == coefficients(dataclasses.replace(plain, anneal_end=0.9), 50, 1000)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"bonus": -0.1}, "model.entropy.bonus"),
        ({"bonus": 0.3, "anneal_end": 0.0}, "model.entropy.anneal_end"),
        ({"bonus": 0.3, "anneal_end": 1.5}, "model.entropy.anneal_end"),
        ({"bonus": 0.3, "warmup_steps": 10}, "model.entropy.warmup_steps"),
    ],
)
def test_bad_annealing_values_raise(kw, field):
    with pytest.raises(ConfigError, match=field):
        coefficients(cfg(**kw), 0, 10)


def test_the_merge_penalty_joins_the_marginal_term_once_the_annealing_is_over():
    ent = EntropyConfig(kind="conditional", weight=0.1, bonus=0.3, anneal_end=0.5, merge_weight=0.05)
    before, after = coefficients(ent, 49, 100), coefficients(ent, 50, 100)
    assert before["marginal"] == 0.0 and before["conditional"] < 0.1
    assert after == pytest.approx({"conditional": 0.1, "policy": 0.0, "marginal": 0.05})
    plain = coefficients(dataclasses.replace(ent, merge_weight=0.0), 80, 100)
    assert plain["marginal"] == 0.0 and plain["conditional"] == after["conditional"]


def test_entropy_gradients_stay_finite_where_a_probability_underflows_to_zero():
    import torch

    from identlam.models.bottlenecks.base import entropy

    logits = torch.tensor([[0.0, 200.0, -200.0]], requires_grad=True)  # softmax gives exact zeros
    q = logits.softmax(-1)
    assert (q == 0).any()
    (entropy(q).sum() + entropy(q.mean(0))).backward()
    assert torch.isfinite(logits.grad).all()
    assert float(entropy(torch.tensor([0.5, 0.5, 0.0]))) == pytest.approx(np.log(2))


def test_geometric_cooling_spends_equal_time_per_decade_then_turns_into_the_penalty():
    ent = EntropyConfig(kind="conditional", weight=0.1, bonus=1.0, anneal_end=0.6, cooling="geometric",
                        cooling_floor=1e-3)
    bonus = [-coefficients(ent, s, 1000)["conditional"] for s in (0, 200, 400, 599)]
    assert bonus[:3] == pytest.approx([1.0, 0.1, 0.01])  # one decade per 200 steps
    assert 1e-3 < bonus[3] < 1.02e-3
    assert coefficients(ent, 600, 1000)["conditional"] == pytest.approx(0.1)
    linear = dataclasses.replace(ent, cooling="linear")
    # the linear schedule is still at half the bonus where the geometric one is a hundredth of it
    assert -coefficients(linear, 200, 1000)["conditional"] > 50 * bonus[2]


@pytest.mark.parametrize("kw", [{"cooling": "exponential"}, {"cooling_floor": 0.0}, {"cooling_floor": 1.0}])
def test_bad_cooling_values_raise(kw):
    field = "model.entropy." + next(iter(kw))
    with pytest.raises(ConfigError, match=field):
        coefficients(cfg(bonus=0.3, **kw), 0, 10)
