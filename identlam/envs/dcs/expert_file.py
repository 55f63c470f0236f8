"""Shipped experts: a small zip holding a deterministic MLP actor and its observation scaling.

Training produces a full stable-baselines3 checkpoint (with critic and optimizer state, several
MB); what data collection needs is only the actor's mean action, a few hundred KB. The file is a
zip with ``meta.json`` (task, algorithm, activation, squashing, training command and measured
return) and ``actor.npz`` (layer weights and the observation mean/variance when the policy was
trained on normalized observations). Acting is plain numpy, so collection workers do not need
torch or stable-baselines3.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from identlam.errors import ConfigError
from identlam.io import atomic_path

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
}


@dataclass
class Expert:
    """y = squash(W_n f(... f(W_1 norm(s) + b_1) ...) + b_n)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: str
    squash: str  # "tanh" (SAC's squashed Gaussian) or "clip" (PPO's unsquashed mean)
    low: np.ndarray
    high: np.ndarray
    obs_mean: np.ndarray | None = None
    obs_var: np.ndarray | None = None
    obs_clip: float = 10.0
    meta: dict = field(default_factory=dict)

    @property
    def state_dim(self) -> int:
        return int(self.weights[0].shape[1])

    def act(self, state: np.ndarray) -> np.ndarray:
        x = np.asarray(state, np.float64)
        if x.shape[-1] != self.state_dim:
            raise ConfigError(
                f"expert: state has {x.shape[-1]} values, the expert for {self.meta.get('task')} takes {self.state_dim}"
            )
        if self.obs_mean is not None:
            x = np.clip((x - self.obs_mean) / np.sqrt(self.obs_var + 1e-8), -self.obs_clip, self.obs_clip)
        act = ACTIVATIONS[self.activation]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w.T.astype(np.float64) + b
            if i < len(self.weights) - 1:
                x = act(x)
        if self.squash == "tanh":  # SAC acts in [-1, 1] and rescales to the bounds
            x = self.low + (np.tanh(x) + 1.0) * 0.5 * (self.high - self.low)
        return np.clip(x, self.low, self.high).astype(np.float32)


def save_expert(expert: Expert, path: str | Path) -> None:
    arrays = {"low": expert.low, "high": expert.high}
    for i, (w, b) in enumerate(zip(expert.weights, expert.biases)):
        # float16 halves the file; the actor's output moves by < 1e-3, far below its own noise
        arrays[f"w{i}"] = w.astype(np.float16)
        arrays[f"b{i}"] = b.astype(np.float32)
    if expert.obs_mean is not None:
        arrays["obs_mean"] = expert.obs_mean.astype(np.float64)
        arrays["obs_var"] = expert.obs_var.astype(np.float64)
    meta = dict(expert.meta, activation=expert.activation, squash=expert.squash,
                obs_clip=expert.obs_clip, layers=len(expert.weights))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta, indent=2, sort_keys=True))
            zf.writestr("actor.npz", buf.getvalue())


def load_expert(path: str | Path) -> Expert:
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
            arrays = np.load(io.BytesIO(zf.read("actor.npz")))
            arrays = {k: arrays[k] for k in arrays.files}
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise ConfigError(f"expert: cannot read {path}: {err}") from None
    n = int(meta["layers"])
    return Expert(
        weights=[arrays[f"w{i}"].astype(np.float32) for i in range(n)],
        biases=[arrays[f"b{i}"] for i in range(n)],
        activation=meta["activation"],
        squash=meta["squash"],
        low=arrays["low"],
        high=arrays["high"],
        obs_mean=arrays.get("obs_mean"),
        obs_var=arrays.get("obs_var"),
        obs_clip=float(meta.get("obs_clip", 10.0)),
        meta=meta,
    )


def shipped_experts() -> dict[str, Path]:
    """Task name (``cheetah-run``) -> the expert zip shipped in the package."""
    folder = resources.files("identlam.envs.dcs") / "experts"
    found = {}
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.endswith(".zip"):
                found[entry.name[: -len(".zip")]] = Path(str(entry))
    return dict(sorted(found.items()))


def shipped_expert(task: str) -> Expert:
    experts = shipped_experts()
    if task not in experts:
        have = ", ".join(experts) or "none"
        raise ConfigError(
            f"policy: no shipped expert for {task} (shipped: {have}); train one with "
            f"`identlam expert train {task}` and pass its expert.zip as policy_kwargs={{'expert': PATH}}"
        )
    return load_expert(experts[task])
