"""Per-step weights of the categorical bottleneck's entropy terms.

The categorical bottleneck minimises

    L = sum_a q(a | s, s') ||target - f(s, a)||^2
        + w_conditional * H(A^ | S, S') + w_policy * H(A^ | S) + w_marginal * H(A^)

and asks :func:`coefficients` for the weights at every step, so the schedule lives in one place
and the model stays a plain objective.

Sign convention: a positive weight is a penalty (the entropy is pushed down), a negative
weight is a bonus (the entropy is pushed up). Entropies are in nats.

Schedules (each a config switch of ``model.entropy``, so its effect can be ablated;
docs/identification.md):

- warm-up (``warmup_steps``): lambda ramps linearly from 0;
- deterministic annealing (``bonus > 0``): the chosen term starts as a *bonus* ``-bonus`` and
  moves linearly to the penalty ``+weight`` at the fraction ``anneal_end`` of training, then
  stays there. Early on every code is kept in use and the FDM learns each code's effect while
  the labelling is still soft; the codes specialize as the bonus fades (the symmetry-breaking
  of deterministic-annealing clustering), and the penalty finally makes the labelling
  deterministic. On PointMass it lifts AMI from about 0.6 (lambda constant) to about 0.9.
  ``cooling="geometric"`` lowers the bonus by a constant factor per step instead, down to
  ``bonus * cooling_floor`` at ``anneal_end``, then switches to the penalty: two actions with close
  effects separate only below a small critical bonus, which a linear schedule crosses in a few
  steps and a geometric one spends as long at as at any other decade.
- merging (``merge_weight > 0``): once the annealing is over, a penalty on the marginal entropy
  H(A^) joins the chosen term. Splitting one action over two codes costs no reconstruction, so
  only a term that charges for codes in use removes a split; it starts after the annealing
  because earlier it would merge codes before they have specialized.
"""

from __future__ import annotations

from identlam.config import EntropyConfig, validate
from identlam.errors import ConfigError

ENTROPY_TERMS = ("conditional", "policy", "marginal")


def coefficients(ent: EntropyConfig, step: int, total_steps: int) -> dict[str, float]:
    """Weights of the three entropy terms at ``step``.

    Args:
        ent: ``model.entropy``: ``kind`` (which term carries the weight), ``weight`` (lambda),
            ``warmup_steps`` (lambda ramps linearly from 0 over these steps; 0 = full weight
            from step 0) and the annealing switches ``bonus`` / ``anneal_end``.
        step: the current optimisation step, 0-based.
        total_steps: the planned length of training (> 0).

    Returns:
        ``{"conditional": w_c, "policy": w_p, "marginal": w_m}``; floats, negative = bonus.
    """
    validate(ent, "model.entropy")
    if total_steps <= 0:
        raise ConfigError(f"config key 'train.steps': must be >= 1, got {total_steps}")
    if step < 0:
        raise ConfigError(f"step: must be >= 0, got {step}")
    weights = {term: 0.0 for term in ENTROPY_TERMS}
    if ent.kind != "none":
        if ent.bonus > 0:
            frac = step / total_steps
            if ent.cooling == "geometric":
                weights[ent.kind] = _cool(frac, ent.bonus, ent.cooling_floor, ent.weight, ent.anneal_end)
            else:
                weights[ent.kind] = _anneal(frac, -ent.bonus, ent.weight, ent.anneal_end)
        else:
            weights[ent.kind] = ent.weight * _warmup(step, ent.warmup_steps)
    if ent.merge_weight > 0 and step / total_steps >= ent.anneal_end:
        weights["marginal"] += ent.merge_weight
    return weights


def _anneal(frac: float, start: float, end: float, end_frac: float) -> float:
    """Linear from ``start`` at frac 0 to ``end`` at ``end_frac``, constant afterwards."""
    return end if frac >= end_frac else start + (end - start) * frac / end_frac


def _cool(frac: float, bonus: float, floor: float, penalty: float, end_frac: float) -> float:
    """The bonus ``bonus * floor ** (frac / end_frac)`` (negative: a bonus) before ``end_frac``, the penalty after."""
    return penalty if frac >= end_frac else -bonus * floor ** (frac / end_frac)


def _warmup(step: int, warmup_steps: int) -> float:
    """Linear ramp 0 -> 1 over ``warmup_steps`` (step 0 gives 0 when warming up)."""
    if warmup_steps <= 0:
        return 1.0
    return min(1.0, step / warmup_steps)
