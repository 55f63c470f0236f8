"""Vector observation maps: identity, random linear mixing, random invertible MLP.

The map acts on the base vector ``x = [embed(state), embed(exo)]``, where ``embed`` replaces
each periodic coordinate c by ``(cos 2πc, sin 2πc)`` (``embed_periodic=True``, the default) so
that the observation is a continuous injective function of a torus state (an injective
renderer with a continuous inverse carries continuity, injectivity and connectivity over from
states to observations); otherwise coordinates are used as they are. All maps are bijections of R^D:

- ``identity``: ``o = x``;
- ``linear``: ``o = M x`` with ``M = U diag(σ) Vᵀ``, U, V random orthogonal, σ ∈ [0.5, 2]
  (condition number ≤ 4);
- ``mlp``: ``o = W_L+1 · φ(W_L ⋯ φ(W_1 x + b_1) ⋯ + b_L)`` with φ the leaky ReLU (slope 0.2)
  and every ``W`` square and well-conditioned as above, hence invertible.

All matrices come from the ``map_seed`` generator. Output: (n, D) float32.
"""

from __future__ import annotations

import numpy as np

LEAK = 0.2


def well_conditioned(rng: np.random.Generator, d: int) -> np.ndarray:
    """A random (d, d) matrix with singular values in [0.5, 2]."""
    u, _ = np.linalg.qr(rng.standard_normal((d, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (u * rng.uniform(0.5, 2.0, d)) @ v.T


def embed(x: np.ndarray, periodic: bool) -> np.ndarray:
    """(n, k) → (n, 2k) cos/sin features if periodic, else the coordinates as float64."""
    x = np.asarray(x, np.float64)
    if not periodic:
        return x
    ang = 2 * np.pi * x
    return np.concatenate([np.cos(ang), np.sin(ang)], axis=1)


class _EmbeddedMap:
    """What every vector map shares: the base vector of state and distractor coordinates, each
    torus coordinate as (cos, sin) when periodic embedding is on."""

    def _init_embedding(self, state_periodic: bool, state_dim: int, exo_dim: int, embed_periodic: bool) -> int:
        self.state_periodic = state_periodic and embed_periodic
        self.exo_periodic = embed_periodic
        return state_dim * (2 if self.state_periodic else 1) + exo_dim * (2 if self.exo_periodic else 1)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.dim,)

    def base(self, state: np.ndarray, exo: np.ndarray) -> np.ndarray:
        parts = [embed(state, self.state_periodic)]
        if exo.shape[1]:
            parts.append(embed(exo, self.exo_periodic))
        return np.concatenate(parts, axis=1)


class VectorMap(_EmbeddedMap):
    """Observation map for vector observations (see module docstring)."""

    def __init__(self, kind: str, state_periodic: bool, state_dim: int, exo_dim: int,
                 embed_periodic: bool, layers: int, rng: np.random.Generator):
        self.kind = kind
        self.dim = self._init_embedding(state_periodic, state_dim, exo_dim, embed_periodic)
        d = self.dim
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        if kind == "linear":
            self.weights = [well_conditioned(rng, d)]
        elif kind == "mlp":
            for _ in range(layers):
                self.weights.append(well_conditioned(rng, d))
                self.biases.append(rng.normal(0.0, 0.1, d))
            self.weights.append(well_conditioned(rng, d))

    def __call__(self, state: np.ndarray, exo: np.ndarray) -> np.ndarray:
        x = self.base(state, exo)
        if self.kind == "linear":
            x = x @ self.weights[0].T
        elif self.kind == "mlp":
            for w, b in zip(self.weights[:-1], self.biases):
                h = x @ w.T + b
                x = np.where(h > 0, h, LEAK * h)
            x = x @ self.weights[-1].T
        return x.astype(np.float32)

    def invert(self, obs: np.ndarray) -> np.ndarray:
        """The base vector from an observation (n, D) float64: proof that the map is a bijection."""
        x = np.asarray(obs, np.float64)
        if self.kind == "linear":
            return np.linalg.solve(self.weights[0], x.T).T
        if self.kind == "mlp":
            x = np.linalg.solve(self.weights[-1], x.T).T
            for w, b in zip(self.weights[-2::-1], self.biases[::-1]):
                h = np.where(x > 0, x, x / LEAK)
                x = np.linalg.solve(w, (h - b).T).T
        return x


class SmoothMap(_EmbeddedMap):
    """``obs='smooth'``: a random C∞ embedding of the base vector into ``dim`` ≥ its size dimensions.

    ``o = R_L ∘ ⋯ ∘ R_1 (A x)`` with ``A`` a (dim, base) matrix of singular values in [0.5, 2]
    (injective) and residual blocks ``R(h) = h + B tanh(C h + b)`` whose residual is a contraction
    (‖B‖‖C‖ = 1/2, spectral norms). Each block is therefore a smooth bijection of R^dim with a
    smooth inverse (its fixed point) and Jacobian singular values ≥ 1/2, so the whole map is
    injective with a full-rank Jacobian: distinct states give distinct observations, and nearby
    observations come from nearby states.
    """

    def __init__(self, state_periodic: bool, state_dim: int, exo_dim: int, embed_periodic: bool,
                 blocks: int, dim: int | None, default_dim: int, rng: np.random.Generator):
        from synthetic.errors import SyntheticError

        base = self._init_embedding(state_periodic, state_dim, exo_dim, embed_periodic)
        if dim is None:  # the family's choice, widened when distractors add coordinates
            dim = max(default_dim, base)
        if dim < base:
            raise SyntheticError(f"parameter 'obs_dim': obs='smooth' needs at least {base} dimensions, got {dim}")
        self.dim, self.base_dim = dim, base
        q, _ = np.linalg.qr(rng.standard_normal((dim, base)))
        self.lift = (q * rng.uniform(0.5, 2.0, base)) @ well_conditioned(rng, base) / 2.0
        self.blocks = []
        for _ in range(blocks):
            c = well_conditioned(rng, dim)
            c *= 2.0 / np.linalg.norm(c, 2)  # tanh arguments of order one: a real nonlinearity
            b = well_conditioned(rng, dim)
            b *= 0.25 / np.linalg.norm(b, 2)
            self.blocks.append((b, c, rng.normal(0.0, 0.5, dim)))

    def __call__(self, state: np.ndarray, exo: np.ndarray) -> np.ndarray:
        return self.forward(self.base(state, exo)).astype(np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The map on base vectors (n, base) → (n, dim), float64."""
        h = np.asarray(x, np.float64) @ self.lift.T
        for b, c, bias in self.blocks:
            h = h + np.tanh(h @ c.T + bias) @ b.T
        return h

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d forward / d x at base vectors x: (n, dim, base)."""
        h = np.asarray(x, np.float64) @ self.lift.T
        jac = np.broadcast_to(self.lift, (len(h),) + self.lift.shape).copy()
        for b, c, bias in self.blocks:
            z = h @ c.T + bias
            local = np.eye(self.dim) + np.einsum("ij,nj,jk->nik", b, 1.0 - np.tanh(z) ** 2, c)
            jac = local @ jac
            h = h + np.tanh(z) @ b.T
        return jac

    def invert(self, obs: np.ndarray, iterations: int = 60) -> np.ndarray:
        """The base vector of observations (n, dim): each block by its contraction fixed point."""
        h = np.asarray(obs, np.float64)
        for b, c, bias in reversed(self.blocks):
            y, h = h, h.copy()
            for _ in range(iterations):  # residual Lipschitz 1/2: the error halves every step
                h = y - np.tanh(h @ c.T + bias) @ b.T
        return np.linalg.lstsq(self.lift, h.T, rcond=None)[0].T
