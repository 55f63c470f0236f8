"""``identlam metrics`` end to end through identlam.cli.main, on a small written dataset."""

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import identlam.cli
from identlam.data import write_dataset

N_TRAJ, T = 12, 25
N_TRANSITIONS = N_TRAJ * (T - 1)
MOVES = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])


@pytest.fixture(autouse=True)
def only_metrics_command(monkeypatch):
    """Dispatch through the real main(), registering only this area's command."""
    monkeypatch.setattr(identlam.cli, "COMMAND_MODULES", ("identlam.metrics.cli",))
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    rng = np.random.default_rng(0)
    trajs = []
    for _ in range(N_TRAJ):
        actions = rng.integers(0, 4, T).astype(np.int64)
        states = np.zeros((T, 2), dtype=np.float32)  # a walk on the 5x5 torus: s' = T(s, a)
        states[0] = rng.integers(0, 5, 2)
        for t in range(T - 1):
            states[t + 1] = (states[t] + MOVES[actions[t]]) % 5
        trajs.append({"obs": rng.normal(size=(T, 3)).astype(np.float32), "actions": actions, "states": states,
                      "exo": rng.normal(size=(T, 1)).astype(np.float32)})
    attrs = {"env_id": "test/numpy", "action_space": "discrete", "n_actions": 4, "obs_kind": "vector", "seed": 0,
             "generator": {"source": "numpy"}}
    path = tmp_path_factory.mktemp("data") / "d.h5"
    write_dataset(path, trajs, attrs)
    actions = np.concatenate([t["actions"][:-1] for t in trajs])  # dataset order, t = 0..T-2
    return path, actions


def test_report_of_npz_latents_in_dataset_order(dataset, tmp_path, capsys):
    path, actions = dataset
    run = tmp_path / "run"
    run.mkdir()
    np.savez(run / "latents.npz", z=np.eye(4)[actions] + 0.01, codes=actions * 2 + 1, probs=np.eye(4)[actions])
    out = tmp_path / "report.json"
    assert identlam.cli.main(["metrics", "--latents", str(run), "--data", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"identifiability report ({N_TRANSITIONS} transitions" in printed
    assert "hungarian_global" in printed and "decoder accuracy" in printed
    report = json.loads(out.read_text())
    score = report["score"]
    # codes are an injective relabelling of the aligned actions: every desideratum holds (H(Â|S,S') = 0
    # only if latents and transitions are aligned, since s' = T(s, a) determines a)
    assert score["d3_action_entropy_given_code"] == 0.0 and score["ami"] == pytest.approx(1.0)
    assert score["d1_code_entropy_given_transition"] == pytest.approx(0.0, abs=1e-12)
    assert score["d1_idm_conditional_entropy"] == 0.0 and score["used_codes"] == 4
    assert report["params"]["discrete_states"] is True
    assert "leakage_latent_exo_given_action" in score
    assert not list(tmp_path.glob(".report.json.*"))  # atomic write left no temporary file


def test_plain_npy_latents(dataset, tmp_path, capsys):
    path, actions = dataset
    np.save(tmp_path / "z.npy", np.eye(4)[actions])
    assert identlam.cli.main(["metrics", "--latents", str(tmp_path / "z.npy"), "--data", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "action_probe_accuracy" in printed and "n/a ami: no discrete codes" in printed


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: np.save(d / "z.npy", np.zeros((N_TRANSITIONS + 1, 2))),
         f"'z' has {N_TRANSITIONS + 1} rows but"),
        (lambda d: np.savez(d / "z.npz", other=np.zeros(3)), "holds neither 'z' nor 'codes'"),
        (lambda d: (d / "z.npy").write_text("not numpy"), "is not a .npy/.npz file"),
        (lambda d: None, "does not exist"),
        (lambda d: np.save(d / "z.npy", np.full((N_TRANSITIONS, 2), np.nan)), "latents: contains"),
        # a single value and a fingerprint that is not a string were tracebacks
        (lambda d: np.save(d / "z.npy", np.float32(1)), "is a single value; expected one row per transition"),
        (lambda d: np.savez(d / "z.npz", codes=np.int64(3)), "--latents: 'codes' in"),
        (lambda d: np.savez(d / "z.npz", z=np.zeros((N_TRANSITIONS, 2)), data_fingerprint=np.arange(3)),
         "expected a string (the dataset's fingerprint), got an array of shape (3,)"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(dataset, tmp_path, capsys, make, expected):
    path, _ = dataset
    make(tmp_path)
    name = "z.npz" if (tmp_path / "z.npz").exists() else "z.npy"
    assert identlam.cli.main(["metrics", "--latents", str(tmp_path / name), "--data", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("identlam metrics: error: ") and expected in err and "\n" not in err


def test_missing_dataset_is_a_user_error(tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.zeros((4, 2)))
    assert identlam.cli.main(["metrics", "--latents", str(tmp_path / "z.npy"), "--data", str(tmp_path / "none.h5")]) == 2
    assert "dataset file does not exist" in capsys.readouterr().err


def test_shifted_latents_break_determinism_and_states_flag(dataset, tmp_path):
    path, actions = dataset
    np.savez(tmp_path / "l.npz", z=np.eye(4)[actions], codes=np.roll(actions, 1))
    out = tmp_path / "r.json"
    args = ["metrics", "--latents", str(tmp_path / "l.npz"), "--data", str(path), "--out", str(out)]
    assert identlam.cli.main(args) == 0
    assert json.loads(out.read_text())["score"]["d1_code_entropy_given_transition"] > 0.5
    assert identlam.cli.main(args + ["--states", "continuous", "--regions", "kmeans:4"]) == 0
    report = json.loads(out.read_text())
    assert report["params"]["discrete_states"] is False and report["params"]["n_regions"] == 4
    assert "d1_code_entropy_given_transition" in report["details"]["not_applicable"]


@pytest.mark.parametrize(
    "make_out, expected",
    [
        (lambda d: d, "is a directory"),
        (lambda d: d / "missing" / "r.json", "does not exist"),
        (lambda d: ((d / "file").write_text("x"), d / "file" / "r.json")[1], "is not a directory"),
    ],
)
def test_bad_out_path_fails_before_the_report_is_computed(dataset, tmp_path, capsys, monkeypatch, make_out,
                                                          expected):
    import identlam.metrics._files as files

    path, actions = dataset
    np.save(tmp_path / "z.npy", np.eye(4)[actions])
    monkeypatch.setattr(files, "compute_report", lambda *a, **k: pytest.fail("report computed before --out check"))
    out = make_out(tmp_path)
    assert identlam.cli.main(["metrics", "--latents", str(tmp_path / "z.npy"), "--data", str(path),
                              "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("identlam metrics: error: --out") and expected in err and "\n" not in err


def test_regions_take_the_evaluate_spec(dataset, tmp_path, capsys):
    path, actions = dataset
    np.savez(tmp_path / "l.npz", codes=actions)
    out = tmp_path / "r.json"
    args = ["metrics", "--latents", str(tmp_path / "l.npz"), "--data", str(path), "--out", str(out)]
    assert identlam.cli.main(args + ["--regions", "threshold:0:2.5"]) == 0
    report = json.loads(out.read_text())
    assert report["params"]["regions"] == "threshold:0:2.5" and report["params"]["n_regions"] == 2
    assert report["greater_is_better"]["hungarian_global"] is True
    assert identlam.cli.main(args + ["--regions", "threshold:5:1"]) == 2
    assert "DIM 5 is outside" in capsys.readouterr().err
    assert identlam.cli.main(args + ["--regions", "16"]) == 2
    assert "expected kmeans:K, threshold:DIM:VALUE or grid:N" in capsys.readouterr().err


def test_step_leakage_of_synthetic_data_wraps_on_the_torus(tmp_path, capsys):
    """On synthetic data the distractor lives on the unit torus (declared by its family): codes
    that follow a random distractor's step leak ln 4 nats of it, and nothing of its position."""
    from identlam import envs
    from identlam.data import open_dataset
    from identlam.data.privileged import privileged

    path = tmp_path / "pm.h5"
    envs.collect("synthetic/pointmass", {"K": 4, "distractor": "correlated", "rho": 0.0, "distractor_dim": 1},
                 "behaviour", episodes=12, steps=60, seed=0, out=str(path))
    assert envs.exo_period("synthetic/pointmass") == 1.0 and envs.exo_period("test/numpy") is None
    with open_dataset(path) as ds:
        table = privileged(ds).transition_table()
    actions = table.actions
    diff = table.next_exo[:, 0].astype(np.float64) - table.exo[:, 0]
    steps = (diff + 0.5) % 1.0 - 0.5  # the short way round
    assert (np.abs(diff) > 0.5).any()  # some steps cross the border, where the plain difference is ~ 1
    step_symbol = np.unique(np.round(steps, 4), return_inverse=True)[1].reshape(-1)
    assert step_symbol.max() + 1 == 3  # a 1-D distractor moves left, right or stays
    np.savez(tmp_path / "latents.npz", z=np.zeros((len(actions), 1)), codes=actions * 3 + step_symbol)
    out = tmp_path / "report.json"
    assert identlam.cli.main(["metrics", "--latents", str(tmp_path / "latents.npz"), "--data", str(path),
                              "--out", str(out)]) == 0
    score = json.loads(out.read_text())["score"]
    assert "leakage_code_exo_step_given_action" in capsys.readouterr().out
    marginal = np.bincount(step_symbol) / len(step_symbol)
    assert score["leakage_code_exo_step_given_action"] == pytest.approx(-(marginal * np.log(marginal)).sum(), abs=0.05)
    assert score["leakage_code_exo_given_action"] < 0.05
