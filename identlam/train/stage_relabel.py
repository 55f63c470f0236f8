"""Stage 2, ``relabel``: a latent action for every transition of the file, k = 1 (LAOM).

``RUN/latents.npz`` (written atomically) holds one row per transition in dataset order
(trajectory by trajectory, t = 0 .. T-2), so outside tools can score latents without identlam:

- ``z``: float32 ``(N, d)``, the continuous latent (VQ/FSQ: pre-quantization; categorical: the
  expected code embedding);
- ``codes``: int64 ``(N,)`` for discrete bottlenecks (absent for continuous latents);
- ``probs``: float32 ``(N, M)`` for the categorical bottleneck;
- ``traj``, ``t``: int64 ``(N,)``, the transition each row belongs to;
- ``n_codes``: int64 scalar, the size of the code set (0 when there are no codes);
- ``data_fingerprint``: str scalar, :func:`identlam.fingerprint.dataset_fingerprint` of the
  dataset (``identlam metrics`` refuses latents scored against another dataset);
- ``code_values``: int64 ``(U,)``, only when the code set is too large to index a table (VQ's
  joint tokens: 64^8 ids): ``codes`` then holds indices ``0..U-1`` into the sorted distinct joint
  ids that occur, so ``np.bincount(codes)`` stays small; ``code_values[codes]`` gives the ids back.

For the ``idm`` baseline the "latent" is the IDM's prediction: discrete action spaces give
``z = probs`` = softmax over actions and ``codes`` = the predicted action; continuous ones give
``z`` = the predicted action.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import torch

from identlam.errors import IdentlamError
from identlam.fingerprint import KEY as FINGERPRINT_KEY
from identlam.io import atomic_path
from identlam.train.artifacts import load_stage1
from identlam.train.batches import to_batch
from identlam.train.device import autocast
from identlam.train.progress import Progress
from identlam.train.rundir import RunDir
from identlam.train.stage import StageContext, run_stage

CHUNK = 1024
MAX_TABLE_CODES = 1 << 20  # larger code sets are stored compacted (see code_values above)


def run_relabel(run: RunDir | str | Path, *, threads: int | None = None) -> None:
    """Stage 2 of ``run``: write ``RUN/latents.npz``; no-op when it exists."""
    run_stage(run, "relabel", _relabel, threads=threads)


def _relabel(st: StageContext) -> None:
    run, cfg, device = st.run, st.cfg, st.device
    if cfg.kind == "bc":
        raise IdentlamError(f"run '{run.path}': the 'bc' baseline has no latent actions; run `identlam evaluate {run.path}`")
    ds = st.ds
    kind, net = load_stage1(run, ds, device)
    st.use_threads([net], CHUNK)
    m = cfg.model
    windows = ds.observations(frame_stack=m.frame_stack, future_k=1, past_frame=m.past_frame)
    parts: dict[str, list[np.ndarray]] = {"z": [], "codes": [], "probs": [], "traj": [], "t": []}
    progress = Progress("relabel", math.ceil(ds.n_transitions / CHUNK), unit="chunk")
    with torch.no_grad():
        for done, w in enumerate(windows.transitions(batch_size=CHUNK), 1):
            b = to_batch(w, device)
            with autocast(device):
                if kind == "lam":
                    z, codes, probs = net.label(b["obs_t"], b["obs_next"], b.get("obs_past"))
                else:
                    z, codes, probs = _idm_label(net, b, ds.action_space == "discrete")
            parts["z"].append(z.float().cpu().numpy())
            if codes is not None:
                parts["codes"].append(codes.cpu().numpy().astype(np.int64))
            if probs is not None:
                parts["probs"].append(probs.float().cpu().numpy())
            parts["traj"].append(w.traj)
            parts["t"].append(w.t)
            progress.update(done)
    progress.close()
    n_codes = (net.n_codes_out or 0) if kind == "lam" else (ds.n_actions or 0)
    arrays = {k: np.concatenate(v) for k, v in parts.items() if v}
    arrays["z"] = arrays["z"].astype(np.float32)
    arrays["n_codes"] = np.int64(n_codes if "codes" in arrays else 0)
    if "codes" in arrays and n_codes > MAX_TABLE_CODES:
        arrays["code_values"], arrays["codes"] = np.unique(arrays["codes"], return_inverse=True)
        arrays["codes"] = arrays["codes"].astype(np.int64).reshape(-1)
    arrays[FINGERPRINT_KEY] = np.str_(st.data_fingerprint)
    with atomic_path(run.output("relabel")) as tmp:
        with open(tmp, "wb") as fh:  # a file object: np.savez would append ".npz" to a path
            np.savez(fh, **arrays)


def _idm_label(lam, b: dict, discrete: bool):
    z, _, _ = lam.label(b["obs_t"], b["obs_next"], b.get("obs_past"))
    out = lam.action_head(z.to(lam.action_head.weight.dtype)).float()
    if discrete:
        probs = torch.softmax(out, dim=-1)
        return probs, probs.argmax(-1), probs
    return out, None, None


def load_latents(run) -> dict[str, np.ndarray]:
    """The arrays of ``RUN/latents.npz`` (loaded eagerly); an unreadable file raises one line."""
    path = run.require("relabel", "this stage")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise IdentlamError(f"stage output '{path}' cannot be read ({type(err).__name__}); "
                            f"delete it and rerun `identlam relabel {run.path}`") from None
    missing = {"z", "traj", "t", "n_codes"} - set(arrays)
    if missing:
        raise IdentlamError(f"stage output '{path}' lacks {', '.join(sorted(missing))}; "
                            f"delete it and rerun `identlam relabel {run.path}`")
    return arrays
