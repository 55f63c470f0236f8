"""Collapse diagnostic of a run's latents (claim A): how far the latent moves between transitions.

Prints, per run, ``spread`` = total variance of ``z`` over all transitions divided by the mean
squared norm of ``z`` (1 for centred latents, ≈ 0 when every transition gets nearly the same
vector) and the number of distinct codes in ``RUN/latents.npz`` (when the run has codes).

Usage: python latent_spread.py RUN [RUN ...]
"""

from __future__ import annotations

import os
import sys

import numpy as np

if __name__ == "__main__":
    for run in sys.argv[1:]:
        if not os.path.exists(f"{run}/latents.npz"):
            print(f"{run}\tno latents.npz (run not finished)")
            continue
        lat = np.load(f"{run}/latents.npz")
        z = lat["z"].astype(np.float64)
        spread = z.var(axis=0).sum() / (z**2).sum(axis=1).mean()
        codes = np.unique(lat["codes"]).size if "codes" in lat.files else "-"
        print(f"{run}\tspread={spread:.2e}\tdistinct_codes={codes}")
