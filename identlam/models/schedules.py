"""Per-step coefficients of the categorical bottleneck's entropy terms and softmax temperature.

The categorical bottleneck of :class:`~identlam.models.LatentActionModel` minimises

    L = sum_a q(a | s, s') ||target - f(s, a)||^2
        + w_conditional * H(A^ | S, S') + w_policy * H(A^ | S) + w_marginal * H(A^)

with ``q = softmax(logits / temperature)``. It asks :func:`coefficients` for the weights at
every step, so the schedule lives in one place and the model stays a plain objective.

Sign convention: a positive weight is a penalty (the entropy is pushed down), a negative
weight is a bonus (the entropy is pushed up). Entropies are in nats.

Schedules (each a config switch, so its effect can be ablated; docs/identification.md):

- warm-up (``entropy_warmup_steps``): lambda ramps linearly from 0;
- deterministic annealing (``entropy_bonus > 0``): the chosen term starts as a *bonus*
  ``-entropy_bonus`` and moves linearly to the penalty ``+entropy_weight`` at the fraction
  ``entropy_anneal_end`` of training, then stays there. Early on every code is kept in use and
  the FDM learns each code's effect while the labelling is still soft; the codes specialize as
  the bonus fades (the symmetry-breaking of deterministic-annealing clustering), and the penalty
  finally makes the labelling deterministic. On PointMass it lifts AMI from about 0.6 (lambda
  constant) to about 0.9.
"""

from __future__ import annotations

from identlam.config import LAMConfig
from identlam.errors import ConfigError

ENTROPY_TERMS = ("conditional", "policy", "marginal")
ENTROPY_VARIANTS = ("none",) + ENTROPY_TERMS


def coefficients(cfg: LAMConfig, step: int, total_steps: int) -> dict[str, float]:
    """Weights of the three entropy terms and the softmax temperature at ``step``.

    Args:
        cfg: the model config; reads ``entropy`` (which term carries ``entropy_weight``),
            ``entropy_weight`` (lambda), ``entropy_warmup_steps`` (lambda ramps linearly
            from 0 to its full value over these steps; 0 = full weight from step 0) and the
            annealing switches ``entropy_bonus`` / ``entropy_anneal_end``.
        step: the current optimisation step, 0-based.
        total_steps: the planned length of training (> 0).

    Returns:
        ``{"conditional": w_c, "policy": w_p, "marginal": w_m, "temperature": tau}``; weights
        are floats (negative = bonus), ``tau > 0`` divides the IDM logits (1.0 = none).
    """
    _check(cfg, step, total_steps)
    weights = {term: 0.0 for term in ENTROPY_TERMS}
    if cfg.entropy != "none":
        if cfg.entropy_bonus > 0:
            weights[cfg.entropy] = _anneal(step / total_steps, -cfg.entropy_bonus, cfg.entropy_weight,
                                           cfg.entropy_anneal_end)
        else:
            weights[cfg.entropy] = cfg.entropy_weight * _warmup(step, cfg.entropy_warmup_steps)
    return {**weights, "temperature": 1.0}


def _anneal(frac: float, start: float, end: float, end_frac: float) -> float:
    """Linear from ``start`` at frac 0 to ``end`` at ``end_frac``, constant afterwards."""
    return end if frac >= end_frac else start + (end - start) * frac / end_frac


def _warmup(step: int, warmup_steps: int) -> float:
    """Linear ramp 0 -> 1 over ``warmup_steps`` (step 0 gives 0 when warming up)."""
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, step / warmup_steps)


def _check(cfg: LAMConfig, step: int, total_steps: int) -> None:
    if cfg.entropy not in ENTROPY_VARIANTS:
        raise ConfigError(f"model.entropy: expected one of {', '.join(ENTROPY_VARIANTS)}, got {cfg.entropy!r}")
    if cfg.entropy_weight != cfg.entropy_weight:
        raise ConfigError("model.entropy_weight: must be finite, got nan")
    if cfg.entropy_warmup_steps < 0:
        raise ConfigError(f"model.entropy_warmup_steps: must be >= 0, got {cfg.entropy_warmup_steps}")
    if cfg.entropy_bonus < 0 or cfg.entropy_bonus != cfg.entropy_bonus:
        raise ConfigError(f"model.entropy_bonus: must be >= 0 (the bonus size), got {cfg.entropy_bonus}")
    if cfg.entropy_bonus > 0 and not 0 < cfg.entropy_anneal_end <= 1:
        raise ConfigError(f"model.entropy_anneal_end: must lie in (0, 1], got {cfg.entropy_anneal_end}")
    if cfg.entropy_bonus > 0 and cfg.entropy_warmup_steps > 0:
        raise ConfigError("model.entropy_warmup_steps: annealing (entropy_bonus > 0) replaces the warm-up; set one of them")
    if total_steps <= 0:
        raise ConfigError(f"train.steps: must be > 0, got {total_steps}")
    if step < 0:
        raise ConfigError(f"step: must be >= 0, got {step}")
