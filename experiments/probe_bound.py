"""How far below the truth is the probe's lower bound on I(Z; Y | A)? A calibration on latents
whose information is known.

The leakage metrics of a wide continuous latent are ``identlam.metrics.probe_mutual_info``: a
held-out classifier's lower bound. It cannot overstate, but with ~1,000 held-out transitions and
a 128-wide latent it may understate by much. Here the latent is a Gaussian mixture in 128
dimensions (an action A and a distractor variable Y, 4 values each, each shifting the mean along
its own random direction), optionally passed through an invertible nonlinear map (rotation,
x + x^3/3 per coordinate, rotation), which leaves I(Z; Y | A) unchanged. The true value is a
Monte Carlo integral of the known densities (standard error printed). Each estimator setting is
then run on n samples, as the runs' reports do on their held-out transitions.

    python experiments/probe_bound.py                 # n = 1190 and 5940: 992 s beside two other jobs on 2 cores
    python experiments/probe_bound.py --n 1190 --seeds 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.special import logsumexp

from identlam.metrics import probe_mutual_info

DIM, K = 128, 4


def mixture(separation: float, seed: int):
    """Means of Z given (a, y): each value a direction of length 1 for A, ``separation`` for Y."""
    rng = np.random.default_rng(seed)
    dirs = np.linalg.qr(rng.normal(size=(DIM, 2 * K)))[0].T  # orthonormal rows
    means = dirs[:K, None, :] * 1.5 + separation * dirs[None, K:, :]  # (a, y, DIM)
    rotations = [np.linalg.qr(rng.normal(size=(DIM, DIM)))[0] for _ in range(2)]
    return means, rotations


def sample(means, rotations, n: int, nonlinear: bool, rng):
    a, y = rng.integers(0, K, n), rng.integers(0, K, n)
    x = means[a, y] + rng.normal(size=(n, DIM))
    if nonlinear:
        u = x @ rotations[0]
        x = (u + u ** 3 / 3) @ rotations[1]  # invertible: the information is that of x
    return a, y, x


def true_information(means, n: int, seed: int) -> tuple[float, float]:
    """I(X; Y | A) in nats by Monte Carlo over the known densities (mean, standard error)."""
    rng = np.random.default_rng(seed)
    a, y = rng.integers(0, K, n), rng.integers(0, K, n)
    x = means[a, y] + rng.normal(size=(n, DIM))
    # log N(x; mu_{a,y'}, I) up to a constant shared by every y'
    log_lik = -0.5 * ((x[:, None, :] - means[a]) ** 2).sum(axis=2)  # (n, K over y')
    terms = log_lik[np.arange(n), y] - (logsumexp(log_lik, axis=1) - np.log(K))
    return float(terms.mean()), float(terms.std() / np.sqrt(n))


SETTINGS = {  # name -> keyword arguments of probe_mutual_info
    "folds=2 (default)": {"folds": 2},
    "folds=5": {"folds": 5},
    "folds=10": {"folds": 10},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1190, 5940], help="samples per estimate")
    parser.add_argument("--separations", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--seeds", type=int, default=2, help="data draws per cell")
    args = parser.parse_args()
    print(f"Z: {DIM}-wide Gaussian mixture, A and Y 4 values each; bound in nats, mean over {args.seeds} draws "
          f"(fraction of the truth); H(Y | A) = ln 4 = {np.log(K):.3f}")
    header = f"{'map':10s} {'sep':>4s} {'truth':>14s} {'n':>5s} " + " ".join(f"{s:>21s}" for s in SETTINGS)
    print(header)
    for sep in args.separations:
        means, rotations = mixture(sep, seed=0)
        truth, se = true_information(means, 200_000, seed=1)
        for nonlinear in (False, True):
            for n in args.n:
                cells = []
                for kwargs in SETTINGS.values():
                    values = []
                    for s in range(args.seeds):
                        a, y, z = sample(means, rotations, n, nonlinear, np.random.default_rng(100 + s))
                        values.append(probe_mutual_info(y, z, a, seed=s, **kwargs).score)
                    m = float(np.mean(values))
                    cells.append(f"{m:6.3f} ({m / truth:4.0%})".rjust(21))
                print(f"{'nonlinear' if nonlinear else 'linear':10s} {sep:4.1f} {truth:7.3f}±{se:.3f} {n:5d} "
                      + " ".join(cells), flush=True)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
