"""The identifiability report of latents stored in a file, against the dataset they label.

Latents are one row per transition in dataset order (trajectory by trajectory, t = 0..T-2):
a ``.npy`` array ``(N, d)`` of continuous latents, or a ``.npz`` (e.g. ``RUN/latents.npz``, or
the run directory itself) with ``z`` and optionally ``codes`` (N,) and ``probs`` (N, M).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from identlam.errors import IdentlamError
from identlam.io import cannot_create_in
from identlam.metrics._regions import DEFAULT_REGIONS, RegionSpec, check_region_count, parse_regions


def load_latents(path: str | Path) -> dict:
    """Read ``z`` / ``codes`` / ``probs`` from a .npy, .npz or run directory."""
    import numpy as np

    path = Path(path)
    if path.is_dir():
        path = path / "latents.npz"
    if not path.is_file():
        raise IdentlamError(f"--latents: {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise IdentlamError(f"--latents: {path} is not a .npy/.npz file ({str(exc).splitlines()[0]})") from None
    if isinstance(loaded, np.ndarray):
        out = {"z": loaded, "codes": None, "probs": None, "data_fingerprint": None}
    else:
        try:
            with loaded:
                out = {key: (loaded[key] if key in loaded.files else None)
                       for key in ("z", "codes", "probs", "data_fingerprint")}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # a truncated or corrupt member
            raise IdentlamError(f"--latents: {path} is unreadable ({str(exc).splitlines()[0]})") from None
        if out["z"] is None and out["codes"] is None:
            found = ", ".join(loaded.files) or "nothing"
            raise IdentlamError(f"--latents: {path} holds neither 'z' nor 'codes' (found {found})")
    for key in ("z", "codes", "probs"):
        if out[key] is not None and out[key].ndim == 0:
            raise IdentlamError(f"--latents: '{key}' in {path} is a single value; expected one row per transition")
    fingerprint = out["data_fingerprint"]
    if fingerprint is not None:
        if fingerprint.ndim != 0 or fingerprint.dtype.kind not in "US":
            raise IdentlamError(f"--latents: 'data_fingerprint' in {path}: expected a string (the dataset's "
                                f"fingerprint), got an array of shape {fingerprint.shape} and dtype {fingerprint.dtype}")
        out["data_fingerprint"] = str(fingerprint.item().decode() if fingerprint.dtype.kind == "S" else fingerprint.item())
    return out


def check_output_path(path: str | Path, option: str = "--out") -> Path:
    """Refuse an output file path that cannot be written, before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise IdentlamError(f"{option}: {path} is a directory; give a file path")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise IdentlamError(f"{option}: directory {parent} does not exist")
    if not parent.is_dir():
        raise IdentlamError(f"{option}: {parent} is not a directory")
    why = cannot_create_in(parent)
    if why or (path.exists() and not os.access(path, os.W_OK)):
        raise IdentlamError(f"{option}: {path} is not writable" + (f" ({why})" if why else ""))
    return path


def distractor_arguments(env_id: str, table) -> dict:
    """The distractor arguments of :func:`desiderata` for a transition table of data from
    ``env_id``: ``exo``, ``next_exo`` and the period its family declares for them."""
    from identlam.envs import exo_period

    return {"exo": table.exo, "next_exo": table.next_exo, "exo_period": exo_period(env_id)}


def compute_report(latents_path, data_path, *, seed: int = 0, regions: str | RegionSpec = DEFAULT_REGIONS,
                   states: str = "auto"):
    """The desiderata :class:`MetricResult` of the latents in ``latents_path`` on ``data_path``.

    ``regions`` is a region spec (see :mod:`identlam.metrics._regions`), recorded in
    ``params["regions"]``; ``states`` is ``auto``, ``discrete`` or ``continuous``.
    """
    from identlam.data import open_dataset
    from identlam.data.privileged import privileged
    from identlam.fingerprint import check_same_data
    from identlam.metrics._report import desiderata

    spec = regions if isinstance(regions, RegionSpec) else parse_regions(regions)
    lat = load_latents(latents_path)
    with open_dataset(data_path) as ds:
        table = privileged(ds).transition_table()
        env_id = ds.env_id
    check_same_data(lat["data_fingerprint"], data_path, f"--latents {latents_path}")  # same length, other data
    n = len(table)
    for key in ("z", "codes", "probs"):
        if lat[key] is not None and len(lat[key]) != n:
            raise IdentlamError(f"--latents: '{key}' has {len(lat[key])} rows but {data_path} has {n} transitions "
                                "(one row per transition, dataset order)")
    check_region_count(spec, n)
    result = desiderata(table.actions, table.states, lat["z"], codes=lat["codes"], next_states=table.next_states,
                        probs=lat["probs"], seed=seed, **distractor_arguments(env_id, table),
                        discrete_states={"auto": None, "discrete": True, "continuous": False}[states],
                        **spec.desiderata_arguments(table.states))
    result.params["regions"] = str(spec)
    return result
