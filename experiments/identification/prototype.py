"""Stand-alone prototype of entropy-regularized LAPO, for fast ablations of the training procedure.

Plain torch, no identlam model: a softmax IDM MLP on (o, o') and an MLP FDM on (o, e_code)
predicting the per-dimension standardized change o' - o; the reconstruction is the exact
expectation sum_c q(c|o,o') ||target - f(o, e_c)||^2 (mean over dimensions), plus entropy terms.
It reads an identlam-1 HDF5 file (``identlam generate ...``); the true actions are used only to
score the final labelling (AMI, used codes), never in training or in any choice it makes.

Switches (each one trick of docs/identification.md):
  --lam0 / --lam / --anneal_end   conditional-entropy weight, linear from lam0 (negative = bonus)
                                  to lam at the fraction anneal_end of training (deterministic
                                  annealing); lam0 = lam is a constant weight
  --sched geo --T0 --T1           geometric bonus T0 -> T1 until anneal_end, then +lam
  --lam_m / --marg_start          marginal-entropy penalty H(Â) from the fraction marg_start on
  --merge_at F [F ...]            label-free code merging at these fractions of training
  --balance R                     sample transitions with weight ~ 1/density(o) (kNN), capped at R
  --oracle 1                      the reconstruction uses the true actions (a reference only)

Prints one JSON line: ami, fami (AMI of the FDM's argmin labelling), used (codes with > 0.5% of
transitions), hard_rec / soft_rec (normalized reconstruction error of the final labelling).
"""
import argparse
import json
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_mutual_info_score
from torch import nn


def load(path: str):
    """(o, o', a) of every transition, trajectory by trajectory."""
    with h5py.File(path) as f:
        keys = sorted(f.keys(), key=int)
        o = np.concatenate([f[k]["obs"][:-1] for k in keys]).astype(np.float32)
        o2 = np.concatenate([f[k]["obs"][1:] for k in keys]).astype(np.float32)
        a = np.concatenate([f[k]["actions"][:-1] for k in keys])
    return o, o2, a


def mlp(i, h, o, n=2):
    layers, d = [], i
    for _ in range(n):
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, o))
    return nn.Sequential(*layers)


class GatedIDM(nn.Module):
    """IDM on (o, o', (U o) * (V o')): factored multiplicative features relate the two frames."""

    def __init__(self, dim, hidden, n_codes, factors):
        super().__init__()
        self.dim = dim
        self.u, self.v = nn.Linear(dim, factors, bias=False), nn.Linear(dim, factors, bias=False)
        self.head = mlp(2 * dim + factors, hidden, n_codes)

    def forward(self, x):
        o, o2 = x[:, :self.dim], x[:, self.dim:]
        return self.head(torch.cat([o, o2, self.u(o) * self.v(o2)], -1))


class GatedFDM(nn.Module):
    """FDM on (o, e, (U o) * (V e)): the code modulates a state-dependent map."""

    def __init__(self, dim, code_dim, hidden, factors):
        super().__init__()
        self.dim = dim
        self.u, self.v = nn.Linear(dim, factors, bias=False), nn.Linear(code_dim, factors, bias=False)
        self.head = mlp(dim + code_dim + factors, hidden, dim)

    def forward(self, x):
        o, e = x[..., :self.dim], x[..., self.dim:]
        return self.head(torch.cat([o, e, self.u(o) * self.v(e)], -1))


class LAM(nn.Module):
    def __init__(self, dim: int, n_codes: int, hidden: int, code_dim: int, factors: int = 0, fdm_factors: int = 0):
        super().__init__()
        self.n_codes = n_codes
        self.idm = GatedIDM(dim, hidden, n_codes, factors) if factors else mlp(2 * dim, hidden, n_codes)
        self.emb = nn.Embedding(n_codes, code_dim)
        self.fdm = GatedFDM(dim, code_dim, hidden, fdm_factors) if fdm_factors else mlp(dim + code_dim, hidden, dim)

    def predict_all(self, o):
        """FDM prediction for every code, (B, M, D)."""
        z = self.emb.weight[None].expand(o.shape[0], -1, -1)
        return self.fdm(torch.cat([o[:, None].expand(-1, self.n_codes, -1), z], -1))


def entropy(p):
    return -(p * torch.log(p.clamp_min(1e-12))).sum(-1)


@torch.no_grad()
def merge(model, X, O, T, P, a):
    """Merge code j into code i when i's FDM explains > merge_rho of j's transitions.

    'Explains' means an error below merge_tau x the median error of the transitions' own codes:
    two codes that split one action by state region predict alike where their regions meet,
    while two different actions differ everywhere (A2). Returns the new code map (M, M).
    """
    q = F.softmax(model.idm(X), -1) @ P
    err = ((T[:, None] - model.predict_all(O)) ** 2).mean(-1)
    codes = q.argmax(-1)
    tau = a.merge_tau * err.gather(1, codes[:, None])[:, 0].median()
    used = [c for c in range(a.M) if (codes == c).sum() > 20]
    parent = list(range(a.M))

    def root(c):
        while parent[c] != c:
            c = parent[c]
        return c

    for j in used:
        for i in used:
            frac = (err[codes == j, i] < tau).float().mean().item() if i != j else 0.0
            if frac > a.merge_rho and root(i) != root(j):
                parent[root(j)] = root(i)
                print(f"merge {j}->{i} frac {frac:.3f}", file=sys.stderr)
    new = torch.zeros(a.M, a.M)
    for c in range(a.M):
        new[c, root(c)] = 1.0
    return P @ new


def conditional_weight(frac: float, a) -> float:
    if frac >= a.anneal_end:
        return a.lam
    if a.sched == "geo":
        return -a.T0 * (a.T1 / a.T0) ** (frac / a.anneal_end)
    return a.lam0 + (a.lam - a.lam0) * frac / a.anneal_end


def run(a):
    torch.manual_seed(a.seed)
    o, o2, A = load(a.h5.replace("{s}", str(a.data_seed)))
    K, N = int(A.max() + 1), len(A)
    tgt = o2 - o
    tgt = (tgt - tgt.mean(0)) / (tgt.std(0) + 1e-8)
    X, O, T = torch.tensor(np.concatenate([o, o2], 1)), torch.tensor(o), torch.tensor(tgt)
    model = LAM(o.shape[1], a.M, a.h, a.zdim, a.factors, a.fdm_factors)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    g = torch.Generator().manual_seed(a.seed)
    W = None
    if a.balance > 0:  # inverse kNN density of o (label-free), capped at balance x the median
        from sklearn.neighbors import NearestNeighbors

        r = NearestNeighbors(n_neighbors=a.knn).fit(o).kneighbors(o)[0][:, -1]
        w = np.maximum(r, 1e-6) ** a.balance_dim
        w = np.minimum(w, np.quantile(w, 0.5) * a.balance)
        W = torch.tensor(w / w.sum(), dtype=torch.float64)
    if a.curriculum > 0:  # state-space curriculum: start near one (seeded, label-free) anchor observation
        anchor = o[np.random.default_rng(a.seed).integers(len(o))]
        dist = torch.tensor(np.linalg.norm(o - anchor, axis=1), dtype=torch.float64)
        scale = float(dist.max())
    P = torch.eye(a.M)  # code map: merged codes send their probability to one code
    merge_steps = {int(f * a.steps) for f in a.merge_at}
    t0 = time.time()
    for step in range(a.steps):
        if step in merge_steps:
            P = merge(model, X, O, T, P, a)
        frac = step / a.steps
        if a.curriculum > 0 and frac < a.curriculum:
            sigma = scale * a.sigma0 * (1.0 / a.sigma0) ** (frac / a.curriculum)  # sigma0 x diameter -> diameter
            idx = torch.multinomial(torch.exp(-0.5 * (dist / sigma) ** 2), a.batch, replacement=True, generator=g)
        else:
            idx = (torch.randint(0, N, (a.batch,), generator=g) if W is None
                   else torch.multinomial(W, a.batch, replacement=True, generator=g))
        q = F.softmax(model.idm(X[idx]), -1) @ P
        if a.oracle:
            q = F.one_hot(torch.as_tensor(A)[idx], a.M).float()
        err = ((T[idx][:, None] - model.predict_all(O[idx])) ** 2).mean(-1)  # (B, M)
        rec = (q * err).sum(-1).mean()
        h_cond, h_marg = entropy(q).mean(), entropy(q.mean(0))
        w_marg = a.lam_m if frac >= a.marg_start else 0.0
        loss = rec + conditional_weight(frac, a) * h_cond + w_marg * h_marg
        opt.zero_grad()
        loss.backward()
        opt.step()
        if a.verbose and step % 1000 == 0:
            print(step, f"rec {rec.item():.4f} Hc {h_cond.item():.3f} Hm {h_marg.item():.3f}", file=sys.stderr)
    with torch.no_grad():
        q = F.softmax(model.idm(X), -1) @ P
        codes = q.argmax(-1).numpy()
        err = ((T[:, None] - model.predict_all(O)) ** 2).mean(-1)
        soft = (q * err).sum(-1).mean().item()
    if a.oracle:
        codes = A.copy()
    hard = err.gather(1, torch.tensor(codes)[:, None]).mean().item()
    used = int((np.bincount(codes, minlength=a.M) > 0.005 * N).sum())
    res = dict(seed=a.seed, data_seed=a.data_seed, ami=round(adjusted_mutual_info_score(A, codes), 4),
               fami=round(adjusted_mutual_info_score(A, err.argmin(-1).numpy()), 4), used=used, K=K,
               hard_rec=round(hard, 5), soft_rec=round(soft, 5), secs=round(time.time() - t0, 1))
    if a.verbose:
        C = np.zeros((K, a.M), int)
        np.add.at(C, (A, codes), 1)
        print(C, file=sys.stderr)
    print(json.dumps(res))
    return res


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--h5", required=True, help="identlam-1 file; '{s}' is replaced by --data_seed")
    p.add_argument("--M", type=int, default=12, help="number of codes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data_seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--h", type=int, default=64, help="hidden width of the IDM and FDM")
    p.add_argument("--zdim", type=int, default=8, help="code embedding width")
    p.add_argument("--lam", type=float, default=0.1)
    p.add_argument("--lam0", type=float, default=0.1)
    p.add_argument("--anneal_end", type=float, default=0.5)
    p.add_argument("--sched", default="lin", choices=("lin", "geo"))
    p.add_argument("--T0", type=float, default=1.0)
    p.add_argument("--T1", type=float, default=0.01)
    p.add_argument("--lam_m", type=float, default=0.0)
    p.add_argument("--marg_start", type=float, default=1.0)
    p.add_argument("--merge_at", type=float, nargs="*", default=[])
    p.add_argument("--merge_tau", type=float, default=3.0)
    p.add_argument("--merge_rho", type=float, default=0.05)
    p.add_argument("--balance", type=float, default=0.0)
    p.add_argument("--balance_dim", type=float, default=2.0)
    p.add_argument("--knn", type=int, default=20)
    p.add_argument("--oracle", type=int, default=0)
    p.add_argument("--curriculum", type=float, default=0.0, help="fraction of training with the state-space curriculum")
    p.add_argument("--sigma0", type=float, default=0.1, help="curriculum: initial radius as a fraction of the data diameter")
    p.add_argument("--fdm_factors", type=int, default=0, help="gated FDM with this many factors")
    p.add_argument("--factors", type=int, default=0, help="gated IDM with this many factors (0: concat)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--verbose", type=int, default=0)
    return p


if __name__ == "__main__":
    args = parser().parse_args()
    torch.set_num_threads(args.threads)
    run(args)
