"""The label-free merge test: merged codes, the choice of pairs, the record, and resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_fixtures import TINY

from identlam.models.bottlenecks.categorical import CategoricalBottleneck
from identlam.train import merge
from identlam.train.artifacts import load_artifact
from identlam.train.pipeline import make_config
from identlam.train.rundir import RunDir
from identlam.train.stage_relabel import run_relabel
from identlam.train.stage_train import run_train

MERGING = [*TINY, "train.steps=20", "train.merge_tolerance=0.5", "train.merge_steps=4"]


def _run(tmp_path, data, name, *extra):
    return RunDir.create(tmp_path / name, make_config(data, "lapo-entropy", overrides=[*MERGING, *extra]), data)


def test_a_merged_code_hands_its_probability_to_the_code_it_joined():
    torch.manual_seed(0)
    bottleneck = CategoricalBottleneck(4, 3, state_dim=2, policy_hidden=8)
    logits = torch.randn(64, 4) * 3
    before = bottleneck(logits)
    bottleneck.merge(1, 0)
    after = bottleneck(logits)
    assert torch.allclose(after.probs[:, 0], before.probs[:, 0] + before.probs[:, 1])
    assert torch.equal(after.probs[:, 1], torch.zeros(64)) and torch.equal(after.probs[:, 2:], before.probs[:, 2:])
    assert not (after.codes == 1).any() and (after.codes == 0).sum() >= (before.codes <= 1).sum()
    bottleneck.merge(0, 3)  # a chain: what code 1 carried follows code 0 into 3
    assert bottleneck.code_map.tolist() == [3, 3, 2, 3]

    restored = CategoricalBottleneck(4, 3, state_dim=2, policy_hidden=8)
    restored.load_state_dict(bottleneck.state_dict())
    assert restored.merged and torch.equal(restored(logits).probs, bottleneck(logits).probs)
    old = {k: v for k, v in bottleneck.state_dict().items() if k != "code_map"}  # saved before merging existed
    restored.load_state_dict(old)
    assert not restored.merged and torch.equal(restored(logits).probs, before.probs)
    with pytest.raises(ValueError, match="code"):
        restored.merge(4, 0)


class _FixedErrors:
    """A stand-in LAM whose codes and per-code errors are given."""

    def __init__(self, codes, errors):
        self.out = torch.tensor(codes), torch.tensor(errors, dtype=torch.float32), 100.0

    def code_errors(self, _batch):
        return self.out


def test_pairs_are_ranked_by_the_error_added_when_a_codes_windows_take_another_prediction():
    # windows 0-1 on code 0, 2-3 on code 1, 4 on code 2; code 3 is never chosen (not in use)
    errors = [[1, 2, 9, 0], [1, 2, 9, 0], [3, 1, 5, 0], [3, 1, 5, 0], [8, 8, 1, 0]]
    ranked = merge.cheapest_merges(_FixedErrors([0, 0, 1, 1, 2], errors), {})
    cost = {(s, i): c for s, i, c in ranked}
    assert set(cost) == {(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)}
    assert cost[(0, 1)] == pytest.approx((2 - 1) * 2 / 5) and cost[(1, 0)] == pytest.approx((3 - 1) * 2 / 5)
    assert cost[(2, 0)] == pytest.approx(7 / 5) and cost[(0, 2)] == pytest.approx(16 / 5)
    assert [c for _, _, c in ranked] == sorted(c for _, _, c in ranked)
    assert ranked[0][:2] == (0, 1)
    assert merge.reconstruction_error(_FixedErrors([0, 0, 1, 1, 2], errors), {}) == pytest.approx((1 + 1 + 1 + 1 + 1) / 5)


def test_a_merge_that_gives_back_much_of_what_the_codes_explain_is_undone(tmp_path, vector_data, monkeypatch):
    # noise makes the error large: +10% of it is small, but it is 40% of what the codes explain
    errors = iter([1.0, 1.1, 1.1, 1.1])
    monkeypatch.setattr(merge, "reconstruction_error", lambda *a: next(errors))
    monkeypatch.setattr(merge, "target_spread", lambda *a: 1.25)
    run = _run(tmp_path, vector_data, "noisy", "model.n_codes=6")
    run_train(run)
    record = _record(run)
    assert [t["kept"] for t in record["tries"]] == [False] * merge.CANDIDATES
    assert all(t["ratio"] == pytest.approx(1.1) and t["explained_given_back"] == pytest.approx(0.4)
               for t in record["tries"])
    assert record["code_map"] == list(range(6))


def _record(run):
    return json.loads((run.path / merge.RECORD).read_text())


def test_a_merge_is_kept_only_when_the_error_stays_within_the_tolerance(tmp_path, vector_data, monkeypatch):
    errors = iter([1.0, 1.4, 2.2, 2.5, 9.0])  # reference, kept (1.4x), then three tries above 1.5 x 1.4
    monkeypatch.setattr(merge, "reconstruction_error", lambda *a: next(errors))
    monkeypatch.setattr(merge, "target_spread", lambda *a: 100.0)  # the codes explain 99: 0.4 of it is < 5%
    run = _run(tmp_path, vector_data, "one", "model.n_codes=6")
    run_train(run)
    record = _record(run)
    kept = [t for t in record["tries"] if t["kept"]]
    assert len(kept) == 1 and len(record["tries"]) == 1 + merge.CANDIDATES
    assert [t["ratio"] for t in record["tries"]] == pytest.approx([1.4, 2.2 / 1.4, 2.5 / 1.4, 9.0 / 1.4])
    code_map = record["code_map"]
    assert code_map[kept[0]["source"]] == kept[0]["into"]
    assert sum(c != i for i, c in enumerate(code_map)) == 1
    saved = load_artifact(run.output("train"))
    assert saved["meta"]["merges"] == code_map
    assert saved["modules"]["lam"]["bottleneck.code_map"].tolist() == code_map
    assert {r["stage"] for r in run.log.records()} >= {"train", "train/merge0", "train/merge4"}
    assert not run.checkpoint("merge").exists()
    derived = json.loads((run.path / "config.json").read_text())["derived"]
    assert derived["merge_test"]["code_map"] == code_map and "entropy" in derived  # beside the autoscaled weights


def test_with_an_unbounded_tolerance_every_code_ends_in_one_and_relabelling_sees_only_it(tmp_path, vector_data,
                                                                                         monkeypatch):
    monkeypatch.setattr(merge, "EXPLAINED_SHARE", float("inf"))
    run = _run(tmp_path, vector_data, "all", "model.n_codes=4", "train.merge_tolerance=1e9")
    run_train(run)
    record = _record(run)
    assert record["codes_after"] == 1 and all(t["kept"] for t in record["tries"])
    run_relabel(run)
    codes = np.load(run.path / "latents.npz")["codes"]
    assert len(np.unique(codes)) == 1


def test_a_run_stopped_during_the_merge_test_resumes_to_the_same_model(tmp_path, vector_data, monkeypatch):
    whole = _run(tmp_path, vector_data, "whole")
    run_train(whole)

    stopped = _run(tmp_path, vector_data, "stopped")
    real, calls = merge.reconstruction_error, []

    def crash_on_second(*a):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(merge, "reconstruction_error", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        run_train(stopped)
    monkeypatch.setattr(merge, "reconstruction_error", real)
    run_train(stopped)
    a, b = (load_artifact(r.output("train"))["modules"]["lam"] for r in (whole, stopped))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _record(whole) == _record(stopped)


def test_other_bottlenecks_ignore_the_merge_test(tmp_path, vector_data):
    run = _run(tmp_path, vector_data, "vq", "model.bottleneck=vq")
    run_train(run)
    assert run.finished("train") and not (run.path / merge.RECORD).exists()
    assert "merges" not in load_artifact(run.output("train"))["meta"]
