"""Observation encoders and the LAOM-style conditioned MLP heads.

Conventions: vector observations are float32 ``(B, D*F)``; image observations reach the
encoders already normalized to [-1, 1] as NCHW float ``(B, C*F, H, W)`` (the model converts
the uint8 ``(B, H, W, C*F)`` batches). Every encoder has an ``out_dim`` attribute: the size of
the embedding ``e(o)`` it returns, shape ``(B, out_dim)``.

Design choices (following the LAPO and LAOM encoders):
- IMPALA blocks downsample with a **stride-2 3x3 conv** (LAOM) rather than conv + max-pool
  (LAPO): LAOM reports the same quality and it is cheaper on CPU.
- Linear/conv layers get orthogonal weights and zero biases (LAOM's init); activations are
  ReLU6 (LAOM).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from identlam.config import LAMConfig
from identlam.errors import ConfigError


def orthogonal_init(module: nn.Module, gain: float = math.sqrt(2.0)) -> None:
    """Orthogonal weights, zero biases for every Linear/Conv/ConvTranspose inside ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class MLPEncoder(nn.Module):
    """``mlp_layers`` hidden layers of width ``hidden_dim`` (ReLU6), then Linear -> ``out_dim``."""

    def __init__(self, in_dim: int, hidden_dim: int, n_layers: int, out_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU6()]
            width = hidden_dim
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv0 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv1(self.act(self.conv0(self.act(x))))


class _DownBlock(nn.Module):
    """Stride-2 conv (halves H and W, rounding up), then residual blocks."""

    def __init__(self, in_channels: int, out_channels: int, n_res_blocks: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.res = nn.Sequential(*[_ResidualBlock(out_channels) for _ in range(n_res_blocks)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res(self.conv(x))


class ImpalaEncoder(nn.Module):
    """IMPALA ResNet: one down block per entry of ``channels`` (times ``scale``), flatten, ReLU6.

    With ``out_dim > 0`` a Linear layer projects the flat feature map to ``out_dim`` (LAPO's fc);
    with ``out_dim == 0`` the flat feature map itself is the embedding (LAOM).
    """

    def __init__(self, in_channels: int, height: int, width: int, channels: tuple[int, ...],
                 scale: int, n_res_blocks: int, out_dim: int):
        super().__init__()
        blocks = []
        c, h, w = in_channels, height, width
        for base in channels:
            blocks.append(_DownBlock(c, base * scale, n_res_blocks))
            c, h, w = base * scale, (h + 1) // 2, (w + 1) // 2
        self.conv = nn.Sequential(*blocks, nn.Flatten(), nn.ReLU6())
        self.flat_dim = c * h * w
        self.proj = nn.Linear(self.flat_dim, out_dim) if out_dim > 0 else nn.Identity()
        self.out_dim = out_dim if out_dim > 0 else self.flat_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.conv(x))


def make_encoder(cfg: LAMConfig, obs_shape: tuple[int, ...]) -> nn.Module:
    """The observation encoder for one frame-stacked view, chosen by ``cfg.encoder``.

    ``obs_shape`` is the single-frame shape: ``(D,)`` for vectors or ``(H, W, C)`` for images;
    the encoder input has ``cfg.frame_stack`` times as many features/channels.
    ``cfg.embed_dim == 0`` means the encoder's natural width: the flat conv feature map (IMPALA,
    LAOM's choice) or ``hidden_dim`` (MLP).
    """
    kind = cfg.encoder
    if kind == "auto":
        kind = "mlp" if len(obs_shape) == 1 else "impala"
    if kind == "mlp":
        if len(obs_shape) != 1:
            raise ConfigError(f"model.encoder: 'mlp' needs vector observations, got shape {tuple(obs_shape)}")
        return MLPEncoder(obs_shape[0] * cfg.frame_stack, cfg.hidden_dim, cfg.mlp_layers, cfg.embed_dim or cfg.hidden_dim)
    if kind == "impala":
        if len(obs_shape) != 3:
            raise ConfigError(f"model.encoder: 'impala' needs image observations (H, W, C), got shape {tuple(obs_shape)}")
        h, w, c = obs_shape
        return ImpalaEncoder(c * cfg.frame_stack, h, w, tuple(cfg.impala_channels), cfg.impala_scale,
                             cfg.impala_res_blocks, cfg.embed_dim)
    raise ConfigError(f"model.encoder: expected auto, mlp or impala, got {cfg.encoder!r}")


class _PostNormBlock(nn.Module):
    """``LN(x + W2 ReLU6(W1 x))`` with a 4x expansion (LAOM's MLPBlock)."""

    def __init__(self, dim: int):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(dim, 4 * dim), nn.ReLU6(), nn.Linear(4 * dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.ff(x))


class ConditionedMLP(nn.Module):
    """A head whose conditioning re-enters every layer (LAOM's LatentActHead/LatentObsHead).

    ``h = block(W_0 [x, c])``, then ``n_layers - 1`` times ``h = block(W_i [h, c])``, then
    ``W_out h``: ``x`` ``(B, in_dim)`` enters once, ``c`` ``(B, cond_dim)`` at every layer. LAOM's
    IDM re-feeds both embeddings (``x`` empty, ``c = [e_t, e_{t+k}]``); its FDM re-feeds only the
    latent action (``x = e_t``, ``c = z``). Output ``(B, out_dim)``.

    ``n_layers == 0`` is the linear head ``W_out [x, c] + b`` (the linear latent action model).
    """

    def __init__(self, in_dim: int, cond_dim: int, hidden_dim: int, out_dim: int, n_layers: int = 3,
                 block: str = "postnorm"):
        super().__init__()
        if n_layers < 0:
            raise ConfigError(f"model.head_layers: must be >= 0, got {n_layers}")
        if block not in ("postnorm", "relu"):
            raise ConfigError(f"model.head_block: expected postnorm or relu, got {block!r}")
        self.linear = n_layers == 0
        if self.linear:
            self.out = nn.Linear(in_dim + cond_dim, out_dim)
            return
        self.first = nn.Linear(in_dim + cond_dim, hidden_dim)
        self.rest = nn.ModuleList(nn.Linear(hidden_dim + cond_dim, hidden_dim) for _ in range(n_layers - 1))
        # relu: a plain ReLU MLP, about 8x cheaper per layer than the 4x-wide post-norm block
        self.blocks = nn.ModuleList((_PostNormBlock(hidden_dim) if block == "postnorm" else nn.ReLU())
                                    for _ in range(n_layers))
        self.out = nn.Linear(hidden_dim, out_dim)

    def forward(self, x: torch.Tensor | None, c: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x, c))

    def features(self, x: torch.Tensor | None, c: torch.Tensor) -> torch.Tensor:
        """What the output layer ``out`` reads: the last block's output (``[x, c]`` for a linear head)."""
        if self.linear:
            return c if x is None else torch.cat([x, c], dim=-1)
        h = self.blocks[0](self.first(c if x is None else torch.cat([x, c], dim=-1)))
        for proj, block in zip(self.rest, self.blocks[1:]):
            h = block(proj(torch.cat([h, c], dim=-1)))
        return h


class GatedFusion(nn.Module):
    """The IDM's input: ``[s, f, (U s) * (V f)]`` for state ``s`` ``(B, S)`` and future ``f`` ``(B, E)``.

    An action is a *relation* between two frames; where its effect on the observation depends on
    the state (a rotation of o' - o on a torus embedding), the action is a bilinear function of
    (o, o') (e.g. a cross product), which a concatenating MLP learns only slowly and first
    replaces by "the direction of o' - o". The factored products (Memisevic's gated models of
    image transformations) make bilinear relations linear in the features. Output
    ``(B, S + E + factors)``; ``factors == 0`` reduces to concatenation.
    """

    def __init__(self, state_dim: int, future_dim: int, factors: int):
        super().__init__()
        if factors < 0:
            raise ConfigError(f"model.idm_factors: must be >= 0, got {factors}")
        self.factors = factors
        self.u = nn.Linear(state_dim, factors, bias=False) if factors else None
        self.v = nn.Linear(future_dim, factors, bias=False) if factors else None
        self.out_dim = state_dim + future_dim + factors

    def forward(self, state: torch.Tensor, future: torch.Tensor) -> torch.Tensor:
        parts = [state, future]
        if self.factors:
            parts.append(self.u(state) * self.v(future))
        return torch.cat(parts, dim=-1)


def make_fusion(cfg: LAMConfig, state_dim: int, future_dim: int) -> GatedFusion:
    """The IDM's input fusion chosen by ``cfg.idm_fusion`` (concat | gated)."""
    if cfg.idm_fusion == "concat":
        return GatedFusion(state_dim, future_dim, 0)
    if cfg.idm_fusion == "gated":
        return GatedFusion(state_dim, future_dim, cfg.idm_factors)
    raise ConfigError(f"model.idm_fusion: expected concat or gated, got {cfg.idm_fusion!r}")
