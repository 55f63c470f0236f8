"""The label-free merge test: after training, join codes that carry the same action.

Splitting one action over two codes costs the entropy-regularized objective almost nothing, and
a penalty strong enough to remove every split during training also joins two actions whose
effects are close. The merge test decides pair by pair instead, with the only evidence a
label-free run has, the forward model's error on unlabeled training windows:

1. reference: the trained model is fine-tuned for ``train.merge_steps`` updates at its final
   objective (a tenth of the learning rate, a fresh optimizer), and its mean reconstruction
   error ``R`` on a fixed probe set of windows is measured (the fine-tuning alone moves ``R``
   by up to ~20%; the reference absorbs that);
2. candidates: for every ordered pair of codes in use, sending code j's windows to code i
   raises the error of the unchanged model by ``sum_{x: code j} err(x, i) - err(x, j)``
   (over the probe size); the cheapest pairs are tried first;
3. a try merges j into i (:meth:`CategoricalBottleneck.merge`), fine-tunes as in 1 and keeps
   the merge when the error is at most ``(1 + train.merge_tolerance) * R``, and when it gives
   back at most :data:`EXPLAINED_SHARE` of what the codes explain (``S - R``, with ``S`` the
   error of predicting every target by their mean); otherwise the model is restored. Two codes
   of one action merge at ~1x (the forward model of code i learns the region code j covered);
   two actions with distinct effects cannot share a prediction and stay above ~1.5x (measured:
   docs/identification.md). The second condition holds where noise or a distractor makes ``R``
   large: a merge of two actions is then a small fraction of ``R`` but not of what the codes
   explain.

The test stops when none of the :data:`CANDIDATES` cheapest pairs is kept. Every try is written
to ``RUN/merges.json``; the resulting code map and code counts also go into ``RUN/config.json``
(``derived.merge_test``). It reads observations only; with a supervision head the fine-tuning
batches carry the same label batches as training.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from identlam.io import atomic_write_json
from identlam.train.autoscale import record_derived
from identlam.train.batches import to_batch
from identlam.train.device import derive_seed, seeded_torch
from identlam.train.loop import Schedule, fit
from identlam.train.progress import say

PROBE_WINDOWS = 2048  # unlabeled training windows on which every merge is judged
CANDIDATES = 3  # cheapest pairs tried before the test stops
MIN_SHARE = 0.005  # a code carries at least this share of the probe windows to count as used
LR_FACTOR = 0.1  # fine-tuning learning rate, as a fraction of train.optim.lr
EXPLAINED_SHARE = 0.05  # a kept merge gives back at most this share of the error the codes explain
RECORD = "merges.json"


def merge_codes(run, lam, windows, schedule: Schedule, make_step: Callable, device: torch.device) -> dict:
    """Run the merge test on the trained categorical ``lam`` in place; returns (and writes) its record.

    ``make_step(lam, rng)`` is the training stage's step function factory; fine-tuning calls
    it at the last step of ``schedule``, so the objective is the one training ended with.
    """
    cfg = run.cfg
    tolerance, steps = cfg.train.merge_tolerance, cfg.train.merge_steps
    probe = to_batch(windows.sample(PROBE_WINDOWS, np.random.default_rng(derive_seed(cfg.seed, "merge-probe"))), device)
    tune = Schedule(steps=steps, lr=schedule.lr * LR_FACTOR, weight_decay=schedule.weight_decay,
                    warmup_steps=min(50, steps // 4), schedule="constant", grad_clip=schedule.grad_clip,
                    checkpoint_every=steps, log_every=schedule.log_every)

    spread = target_spread(lam, probe)

    def fine_tune(attempt: int) -> float:
        rng = np.random.default_rng(derive_seed(cfg.seed, "merge", attempt))
        step_fn = make_step(lam, rng)
        path = run.checkpoint("merge")
        path.unlink(missing_ok=True)
        with seeded_torch(derive_seed(cfg.seed, "merge-torch", attempt), device):
            fit({"lam": lam}, lambda _: step_fn(schedule.steps - 1), schedule=tune, rng=rng, device=device,
                stage=f"train/merge{attempt}", checkpoint_path=path, log=run.log)
        path.unlink(missing_ok=True)
        return reconstruction_error(lam, probe)

    reference = fine_tune(0)
    tries, attempt = [], 0
    start_codes = codes_in_use(lam, probe)
    while True:
        kept = False
        for source, into, cost in cheapest_merges(lam, probe)[:CANDIDATES]:
            attempt += 1
            saved = {k: v.detach().clone() for k, v in lam.state_dict().items()}
            lam.bottleneck.merge(source, into)
            error = fine_tune(attempt)
            ratio = error / reference
            given_back = (error - reference) / max(spread - reference, 1e-12)
            kept = ratio <= 1 + tolerance and given_back <= EXPLAINED_SHARE
            tries.append({"source": source, "into": into, "cost": cost / reference, "error_before": reference,
                          "error_after": error, "ratio": ratio, "explained_given_back": given_back, "kept": kept})
            say(f"train: merge test: code {source} -> {into}: error x{ratio:.2f}, {'kept' if kept else 'undone'}")
            if kept:
                reference = error
                break
            lam.load_state_dict(saved)
        if not kept:
            break
    record = {"tolerance": tolerance, "explained_share": EXPLAINED_SHARE, "target_spread": spread,
              "steps": steps, "probe_windows": int(probe["obs_t"].shape[0]),
              "codes_before": start_codes, "codes_after": codes_in_use(lam, probe),
              "code_map": [int(c) for c in lam.bottleneck.code_map.tolist()], "tries": tries}
    atomic_write_json(run.path / RECORD, record)
    record_derived(run, {k: v for k, v in record.items() if k != "tries"}, key="merge_test", stage="train/merge")
    return record


def cheapest_merges(lam, probe: dict) -> list[tuple[int, int, float]]:
    """``(source, into, cost)`` for every ordered pair of codes in use, cheapest first; ``cost`` is
    the rise of the mean probe error when ``source``'s windows take ``into``'s prediction."""
    codes, errors = (t.cpu().numpy() for t in lam.code_errors(probe)[:2])
    used = _used(codes, errors.shape[1])
    n, out = len(codes), []
    for source in used:
        mine = codes == source
        for into in used:
            if into != source:
                out.append((source, into, float((errors[mine, into] - errors[mine, source]).sum() / n)))
    return sorted(out, key=lambda t: (t[2], t[0], t[1]))


def reconstruction_error(lam, probe: dict) -> float:
    """Mean probe error under the IDM's hard codes."""
    codes, errors, _ = lam.code_errors(probe)
    return float(errors.gather(1, codes[:, None]).mean())


def target_spread(lam, probe: dict) -> float:
    """The probe error of predicting every target by their mean: what no code explains."""
    return lam.code_errors(probe)[2]


def codes_in_use(lam, probe: dict) -> int:
    codes, errors, _ = lam.code_errors(probe)
    return len(_used(codes.cpu().numpy(), errors.shape[1]))


def _used(codes: np.ndarray, n_codes: int) -> list[int]:
    share = np.bincount(codes, minlength=n_codes) / max(1, len(codes))
    return [int(c) for c in np.flatnonzero(share >= MIN_SHARE)]
