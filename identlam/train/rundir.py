"""The run directory: one folder per run holding its config, checkpoints, log and outputs.

Layout (every file written atomically)::

    RUN/.lock              held by the command writing the run (``identlam.io.directory_lock``)
    RUN/config.json        {"data": {"path", "sha256", "size"}, "config": RunConfig as a dict}
    RUN/log.jsonl          one line per logged step of every stage, and stage events (threads)
    RUN/checkpoints/*.pt   in-progress checkpoints of the stage(s) running now
    RUN/model.pt           stage 1 (train): the LAM, or the BC policy / IDM of the baselines
    RUN/restarts.json      stage 1 with train.restarts > 1: each candidate's label-free objective
    RUN/latents.npz        stage 2 (relabel): z, codes, probs for every transition (k = 1)
    RUN/policy.pt          stage 3 (bc): the latent policy
    RUN/decoder.pt         stage 4 (decode): the action decoder
    RUN/metrics.json       stage 5 (evaluate)
    RUN/report.md          stage 5 (evaluate): metrics.json's headline numbers as tables

A stage is finished when its output file exists; rerunning it is then a no-op. The dataset is
found again through ``config.json`` and refused, in one line, if its contents changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from identlam import config as config_mod
from identlam.config import RunConfig
from identlam.errors import ConfigError, DatasetError, IdentlamError
from identlam.io import atomic_write_json, directory_lock, read_json, sweep_temp_files
from identlam.train.loop import RunLog

OUTPUTS = {
    "train": "model.pt",
    "relabel": "latents.npz",
    "bc": "policy.pt",
    "decode": "decoder.pt",
    "evaluate": "metrics.json",
}


def fingerprint(path: str | Path) -> dict[str, Any]:
    """sha256 and size of a file's bytes (content, not mtime: a copied file keeps its runs)."""
    p = Path(path)
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "size": p.stat().st_size}


def load_config_file(path: str | Path) -> RunConfig:
    """A RunConfig from a preset JSON (``identlam presets NAME --json``) or a run's config.json."""
    data = read_json(path, what="config file", error=ConfigError)
    if isinstance(data, dict) and "config" in data and "data" in data:
        data = data["config"]
    return config_mod.from_dict(RunConfig, data)


class RunDir:
    """A run folder: ``RunDir.create(path, cfg, data)`` for a new run, ``RunDir(path)`` to reopen."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        cfg_path = self.path / "config.json"
        if self.path.exists() and not self.path.is_dir():
            raise IdentlamError(f"run '{self.path}' is a file, not a run directory")
        if not cfg_path.is_file():
            raise IdentlamError(f"run '{self.path}' has no config.json; create it with `identlam train --out {self.path}`")
        saved = read_json(cfg_path, what=f"run '{self.path}': config file")  # names bad JSON / UTF-8
        try:
            self.data_path = Path(saved["data"]["path"])
            self.data_fingerprint = {k: saved["data"][k] for k in ("sha256", "size")}
        except (ValueError, KeyError, TypeError):
            raise IdentlamError(f"run '{self.path}': config.json is not a run config (no 'data' entry)") from None
        self.cfg: RunConfig = config_mod.from_dict(RunConfig, saved["config"])
        self.log = RunLog(self.path / "log.jsonl")

    @classmethod
    def create(cls, path: str | Path, cfg: RunConfig, data: str | Path) -> "RunDir":
        """Write ``RUN/config.json`` for a new run; an existing run must have the same config and data."""
        run = Path(path)
        data_path = Path(data).resolve()
        if not data_path.is_file():
            raise DatasetError(f"dataset '{data}' does not exist")
        record = {"data": {"path": str(data_path), **fingerprint(data_path)}, "config": config_mod.to_dict(cfg)}
        with directory_lock(run, "run"):
            existing = run / "config.json"
            if existing.is_file():
                old = cls(run)
                if config_mod.to_dict(old.cfg) != record["config"]:
                    changed = _first_difference(config_mod.to_dict(old.cfg), record["config"])
                    raise ConfigError(
                        f"run '{run}' exists with a different config ({changed}); use a new --out or the same settings"
                    )
                if old.data_fingerprint["sha256"] != record["data"]["sha256"]:
                    raise DatasetError(f"run '{run}' was made with different data than '{data}'; use a new --out")
                return old
            sweep_temp_files(run)
            atomic_write_json(existing, record)
            return cls(run)

    def lock(self):
        """Context manager: this process is the run's only writer (re-entrant within the process)."""
        return directory_lock(self.path, "run")

    # --- paths ---------------------------------------------------------------------------
    def output(self, stage: str) -> Path:
        return self.path / OUTPUTS[stage]

    def finished(self, stage: str) -> bool:
        return self.output(stage).is_file()

    def checkpoint(self, name: str) -> Path:
        return self.path / "checkpoints" / f"{name}.pt"

    def require(self, stage: str, by: str) -> Path:
        out = self.output(stage)
        if not out.is_file():
            raise IdentlamError(f"run '{self.path}': {by} needs the output of '{stage}' ({out.name}); run `identlam {stage} {self.path}` first")
        return out

    # --- data ----------------------------------------------------------------------------
    def check_data(self) -> Path:
        """The dataset path, after checking that the file still has the bytes the run was made with."""
        if not self.data_path.is_file():
            raise DatasetError(f"run '{self.path}': dataset '{self.data_path}' no longer exists")
        now = fingerprint(self.data_path)
        if now != self.data_fingerprint:
            raise DatasetError(
                f"run '{self.path}': dataset '{self.data_path}' changed since the run started "
                f"(sha256 {now['sha256'][:12]} != {self.data_fingerprint['sha256'][:12]}); start a new run"
            )
        return self.data_path

    def open_dataset(self):
        from identlam.data import open_dataset

        return open_dataset(self.check_data())


def _first_difference(old: dict, new: dict, prefix: str = "") -> str:
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif a != b:
            return f"{prefix}{key}: {a!r} -> {b!r}"
    return ""
