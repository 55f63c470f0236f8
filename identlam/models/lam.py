"""The one LatentActionModel: IDM -> bottleneck -> FDM, every axis a switch.

One training step (``loss``) reads top to bottom:

1. validate the batch, normalize (images to [-1, 1] NCHW), augment each view independently
   (training, images, ``augment``);
2. encode every view with the shared encoder; the state is ``e_t`` (``[e_{t-1}, e_t]`` with
   ``past_frame``); the IDM sees ``(state, e_{t+k})``, k ~ U{1..K} drawn by the data layer,
   concatenated or, with ``idm_fusion="gated"``, also their factored products; with
   ``idm_cells = N`` its output layer is one of N heads, chosen by the cell of the unaugmented
   o_t in a fixed partition (:mod:`identlam.models.cells`: a discontinuous, "tabular" IDM);
3. the bottleneck (:mod:`identlam.models.bottlenecks`, built by the factory of
   :mod:`identlam.models.factory`) turns the IDM output into the FDM's latent (none / VQ / FSQ)
   or into code probabilities ``q`` (categorical);
4. the FDM predicts the target of ``o_{t+1}``: the observation itself (pixels through
   :class:`PixelFDM`, vectors through an MLP that sees the raw observation; ``predict_delta``
   predicts ``o_{t+1} - o_t``), or its embedding by an EMA copy of the encoder (``latent``; the
   FDM sees a detached state when ``detach_fdm_input``);
5. the bottleneck computes the reconstruction error from the FDM (one latent per sample, or
   the exact expectation ``sum_a q(a|.) mse(f(., e_a))`` over every code, batched; on images
   the frames are encoded once per sample and only the decoder runs per code) and adds its own
   terms (VQ's commitment; the categorical entropy terms and latent-policy fit);
6. supervision (``label_coef > 0``): ``Linear(z -> action)`` fed only by ``batch["labels"]``.

``loss`` also advances the EMA target encoder (training mode only, before computing the
target): ``target <- (1 - tau) target + tau * online``. Collapse diagnostics go to ``logs``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from identlam.config import LAMConfig, validate
from identlam.errors import ConfigError, IdentlamError
from identlam.models import inputs
from identlam.models.augment import Augmenter
from identlam.models.bottlenecks import BottleneckLoss, FDMProbe
from identlam.models.cells import POOL, CellHeads, CellPartition
from identlam.models.factory import BuildContext, make_bottleneck
from identlam.models.code_surgery import symmetric_start
from identlam.models.encoders import ConditionedMLP, make_encoder, make_fusion, orthogonal_init
from identlam.models.standardize import FixedStandardizer, RunningStandardizer
from identlam.models.pixel_fdm import PixelFDM, per_sample_mse



@dataclass
class LossOutput:
    """``loss``: scalar tensor to minimize; ``logs``: floats (losses and diagnostics)."""

    loss: torch.Tensor
    logs: dict[str, float]


@dataclass
class LossTerms:
    """The terms of one batch's loss: ``reconstruction`` (scalar, trains encoder, IDM, FDM and
    the bottleneck parameters its contract names), the bottleneck's own terms, and the
    unweighted supervision loss ``label`` (None without a label batch). ``loss`` adds the
    reconstruction and the bottleneck's ``terms`` (the label-free objective), then its
    ``helpers``, then ``model.label_coef * label``."""

    reconstruction: torch.Tensor
    bottleneck: BottleneckLoss
    label: torch.Tensor | None
    logs: dict[str, float]


class LatentActionModel(nn.Module):
    """A latent action model for one observation space and action space.

    Args:
        cfg: the axes (:class:`identlam.config.LAMConfig`).
        obs_shape: single-frame observation shape, ``(D,)`` or ``(H, W, C)``; batches carry
            ``frame_stack`` frames stacked on the last axis.
        action_space: ``"discrete"`` (give ``n_actions``) or ``"continuous"`` (``action_dim``);
            used only by the supervision head.
        seed: parameters are initialized from this seed inside a forked RNG (the global torch
            RNG is left untouched); augmentations draw from ``(seed, step)``.

    Attributes: ``latent_dim_out`` (width of ``z``), ``n_codes_out`` (size of the code set, None
    for continuous latents; for VQ the number of joint token tuples).
    """

    def __init__(self, cfg: LAMConfig, obs_shape, action_space: str, n_actions: int | None = None,
                 action_dim: int | None = None, *, seed: int = 0):
        super().__init__()
        _check_config(cfg, action_space, n_actions, action_dim)
        self.cfg = cfg
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.is_image = len(self.obs_shape) == 3
        if len(self.obs_shape) not in (1, 3):
            raise ConfigError(f"obs_shape: expected (D,) or (H, W, C), got {self.obs_shape}")
        self.action_space, self.n_actions, self.action_dim = action_space, n_actions, action_dim
        f = cfg.frame_stack
        self.batch_shape = (self.obs_shape[0] * f,) if not self.is_image else (*self.obs_shape[:2], self.obs_shape[2] * f)
        self.seed = int(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self._build()

    def _build(self) -> None:
        cfg = self.cfg
        self.encoder = make_encoder(cfg, self.obs_shape)
        embed = self.encoder.out_dim
        n_state = 2 if cfg.past_frame else 1
        state_dim = n_state * embed
        self.bottleneck = make_bottleneck(cfg, BuildContext(state_dim=state_dim))
        # removes the embeddings' common mode, which otherwise dominates the first logits (all
        # samples then drift to one code); running statistics serve label() in eval mode
        self.idm_fusion = make_fusion(cfg, state_dim, embed)
        fused = self.idm_fusion.out_dim
        self.idm_norm = nn.BatchNorm1d(fused, affine=False) if cfg.idm_input_norm else nn.Identity()
        # fixed per-dimension statistics set from unlabeled windows before training (set_obs_statistics);
        # buffers, so relabelling and evaluation read the same inputs as training
        # images are already scaled to [-1, 1]: the switch leaves them as they are
        self.obs_standardizer = FixedStandardizer(self.batch_shape[0]) if cfg.standardize_obs and not self.is_image \
            else None
        self.idm = ConditionedMLP(0, fused, cfg.hidden_dim, self.bottleneck.in_dim, cfg.head_layers, cfg.head_block)
        latent = self.bottleneck.fdm_latent_dim
        reads = 1 if cfg.fdm_reads_state else 0  # 0: the FDM gets a zero-width state
        if cfg.fdm_target == "latent":
            self.fdm = ConditionedMLP(reads * state_dim, latent, cfg.hidden_dim, embed, cfg.head_layers, cfg.head_block)
        elif self.is_image:
            h, w, c = self.batch_shape
            widths = tuple(ch * cfg.impala_scale for ch in cfg.impala_channels)
            # evaluated for every code: the latent enters at the bottleneck only, so the down path
            # runs once per sample instead of once per code (PixelFDM.predict_per_code)
            self.fdm = PixelFDM(n_state * c, c, h, w, latent, widths,
                                bounded=not (cfg.predict_delta or cfg.normalize_target),
                                tile_latent=not self.bottleneck.evaluates_every_code)
        else:
            d = self.batch_shape[0]
            self.fdm = ConditionedMLP(reads * n_state * d, latent, cfg.hidden_dim, d, cfg.head_layers, cfg.head_block)
        # entropy weights then read in units of the target's variance, whatever the data scale
        self.target_norm = RunningStandardizer(self.batch_shape[-1] if self.is_image else self.batch_shape[0]) \
            if cfg.normalize_target else None
        if cfg.label_coef > 0:
            out = self.n_actions if self.action_space == "discrete" else self.action_dim
            self.action_head = nn.Linear(self.bottleneck.latent_dim, out)
        orthogonal_init(self)
        if cfg.fdm_zero_init:  # identification recipe (docs/identification.md): every code starts with the same prediction
            symmetric_start(self.fdm)
        if cfg.fdm_target == "latent":
            self.target_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.augmenter = Augmenter(cfg.augment_ops) if (cfg.augment and self.is_image) else None
        # drawn last, so every other parameter is the one-head model's draw
        self.idm_partition = None
        if cfg.idm_cells:
            self.idm.out = CellHeads(self.idm.out, cfg.idm_cells)
            features = self.batch_shape[-1] * POOL * POOL if self.is_image else self.batch_shape[0]
            self.idm_partition = CellPartition(cfg.idm_cells, features)

    @property
    def latent_dim_out(self) -> int:
        return self.bottleneck.latent_dim

    @property
    def n_codes_out(self) -> int | None:
        return self.bottleneck.n_codes

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ------------------------------------------------------------------------------------
    def _views(self, raw: dict[str, torch.Tensor], step: int | None, salt: int) -> dict[str, torch.Tensor]:
        views = {k: inputs.to_model_input(v, self.is_image, self.device) for k, v in raw.items() if k != "k"}
        cells = None if self.idm_partition is None else self.idm_partition(views["obs_t"])  # of the unaugmented o_t
        if self.augmenter is not None and self.training and step is not None:
            gen = torch.Generator(device=self.device)
            gen.manual_seed((self.seed * 1_000_003 + step * 7 + salt) % (2**63))
            views = {k: self.augmenter(v, gen) for k, v in sorted(views.items())}
        if cells is not None:
            views["cells"] = cells
        return views

    def _idm(self, views: dict[str, torch.Tensor], future_key: str):
        """Encode the views in one pass; returns ``(state, e_t, bottled)``.

        The state is ``[e_{t-1}, e_t]`` with ``past_frame``, else ``e_t``; the IDM sees
        ``[state, e_future]`` (``future_key``: o_{t+k} in training, o_{t+1} when labelling);
        with ``idm_cells`` its output layer is the head of o_t's cell (``views["cells"]``).
        """
        keys = (("obs_past",) if self.cfg.past_frame else ()) + ("obs_t", future_key)
        embeddings = self.encoder(self._standardized(torch.cat([views[k] for k in keys]))).split(views["obs_t"].shape[0])
        state = torch.cat(embeddings[:-1], dim=-1)
        e_t = embeddings[-2]
        fused = self.idm_norm(self.idm_fusion(state, embeddings[-1]))
        if self.idm_partition is None:
            raw = self.idm(None, fused)
        else:
            raw = self.idm.out(self.idm.features(None, fused), views["cells"])
        bottled = self.bottleneck(raw)
        return state, e_t, bottled

    def _standardized(self, obs: torch.Tensor) -> torch.Tensor:
        """The network input of vector observations (the FDM target stays in data units)."""
        return obs if self.obs_standardizer is None else self.obs_standardizer(obs)

    def set_obs_statistics(self, mean, std) -> None:
        """Fix the input statistics of ``model.standardize_obs`` (per dimension of a stacked vector window)."""
        if self.obs_standardizer is None:
            raise ConfigError("model.standardize_obs: the model was built without it")
        self.obs_standardizer.set(mean, std)

    def _obs_keys(self) -> tuple[str, ...]:
        return ("obs_t", "obs_next", "obs_future") + (("obs_past",) if self.cfg.past_frame else ())

    # ------------------------------------------------------------------------------------
    def loss(self, batch: dict, step: int, total_steps: int = 1) -> LossOutput:
        """The training loss of one batch: reconstruction, the bottleneck's terms, supervision."""
        parts = self.loss_terms(batch, step, total_steps)
        total = parts.reconstruction
        for term in parts.bottleneck.terms.values():
            total = total + term
        objective = total.detach()
        for term in parts.bottleneck.helpers.values():
            total = total + term
        if parts.label is not None:
            total = total + self.cfg.label_coef * parts.label
            objective = objective + self.cfg.label_coef * parts.label.detach()
        logs = parts.logs
        logs["objective"] = float(objective)
        logs["loss"] = _f(total)
        return LossOutput(loss=total, logs=logs)

    def loss_terms(self, batch: dict, step: int, total_steps: int = 1) -> "LossTerms":
        """Every term of the loss of one batch, by name (see :class:`LossTerms`)."""
        cfg = self.cfg
        raw = inputs.check_batch(batch, self._obs_keys(), self.batch_shape, self.is_image, cfg.future_k)
        if cfg.idm_input_norm and self.training and raw["obs_t"].shape[0] < 2:
            raise IdentlamError("batch key 'obs_t': model.idm_input_norm needs at least 2 samples per training batch")
        if cfg.fdm_target == "latent" and self.training:
            self.update_target()
        views = self._views(raw, step, salt=0)
        state, e_t, bottled = self._idm(views, "obs_future")
        logs: dict[str, float] = dict(bottled.logs)
        if self.idm_partition is not None:
            logs["idm_cells_used"] = float(views["cells"].unique().numel())

        fdm_state, target = self._fdm_inputs(views, state, logs)
        probe = FDMProbe(per_sample=lambda latent: per_sample_mse(self.fdm(fdm_state, latent), target),
                         per_code=lambda codes: self._per_code_errors(fdm_state, target, codes))
        rec = self.bottleneck.reconstruction(bottled, probe).mean()
        own = self.bottleneck.losses(bottled, state, step, total_steps)
        logs.update(own.logs)
        logs["rec_loss"] = _f(rec)

        # supervision, from the label split only
        label_loss = None
        if cfg.label_coef > 0 and batch.get("labels") is not None:
            label_loss = self.label_loss(batch["labels"], step)
            logs["label_loss"] = _f(label_loss)

        logs["online_norm"] = float(e_t.detach().float().norm(dim=-1).mean())
        logs["latent_norm"] = float(bottled.z.detach().float().norm(dim=-1).mean())
        return LossTerms(reconstruction=rec, bottleneck=own, label=label_loss, logs=logs)

    def _fdm_inputs(self, views: dict[str, torch.Tensor], state: torch.Tensor, logs: dict[str, float]):
        """The FDM's conditioning and its prediction target for these views: ``(fdm_state, target)``."""
        cfg = self.cfg
        if cfg.fdm_target == "latent":
            with torch.no_grad():
                encoder = self.target_encoder if cfg.target_ema_tau > 0 else self.encoder
                target = encoder(views["obs_next"]).float()
            fdm_state = state.detach() if cfg.detach_fdm_input else state
            logs["target_norm"] = float(target.norm(dim=-1).mean())
        else:
            target = views["obs_next"] - views["obs_t"] if cfg.predict_delta else views["obs_next"]
            if self.target_norm is not None:
                target = self.target_norm(target.float())
            frames = [views["obs_past"], views["obs_t"]] if cfg.past_frame else [views["obs_t"]]
            fdm_state = torch.cat([self._standardized(f) for f in frames], dim=1 if self.is_image else -1)
        if not cfg.fdm_reads_state and not isinstance(self.fdm, PixelFDM):
            fdm_state = fdm_state[:, :0]
        return fdm_state, target

    @torch.no_grad()
    def code_errors(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, float]:
        """``(codes, errors, spread)`` of a categorical LAM on training windows, in eval mode: the
        IDM's code ``(B,)``, the FDM's error under every code ``(B, M)`` as the loss computes them,
        and the error of predicting every target by their mean (what no code explains); the
        label-free merge test of :mod:`identlam.train.merge` reads them."""
        if not self.bottleneck.evaluates_every_code:
            raise ConfigError("model.bottleneck: per-code errors need the categorical bottleneck")
        raw = inputs.check_batch(batch, self._obs_keys(), self.batch_shape, self.is_image, self.cfg.future_k)
        was_training = self.training
        self.eval()
        try:
            views = self._views(raw, None, 0)
            state, _, bottled = self._idm(views, "obs_future")
            fdm_state, target = self._fdm_inputs(views, state, {})
            errors = self._per_code_errors(fdm_state, target, self.bottleneck.embedding)
            spread = float(per_sample_mse(target, target.float().mean(0, keepdim=True).expand_as(target)).mean())
        finally:
            self.train(was_training)
        return bottled.codes, errors.float(), spread

    def _per_code_errors(self, fdm_state: torch.Tensor, target: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """``(B, M)`` errors of the FDM for every code embedding ``codes`` ``(M, d)``, in one batched pass.

        Pixels: the frames are encoded once per sample and only the decoder runs per code
        (:meth:`PixelFDM.per_code_errors`, chunked on CPU).
        """
        b, m = fdm_state.shape[0], codes.shape[0]
        codes = codes.to(fdm_state.dtype)
        if isinstance(self.fdm, PixelFDM):
            return self.fdm.per_code_errors(fdm_state, codes, target)
        state_rep = fdm_state.repeat_interleave(m, dim=0)  # row i*M + a: sample i, code a
        code_rep = codes.repeat(b, 1)
        pred = self.fdm(state_rep, code_rep)
        target_rep = target.repeat_interleave(m, dim=0)
        return per_sample_mse(pred, target_rep).reshape(b, m)

    def label_loss(self, labels: dict, step: int | None = None) -> torch.Tensor:
        """Supervision loss of the action head on a label-split batch (MSE or cross-entropy)."""
        if self.cfg.label_coef <= 0:
            raise ConfigError("model.label_coef: the supervision head exists only when label_coef > 0")
        keys = ("obs_t", "obs_future") + (("obs_past",) if self.cfg.past_frame else ())
        raw = inputs.check_batch(labels, keys, self.batch_shape, self.is_image, self.cfg.future_k, prefix="labels.")
        actions = inputs.check_actions(labels.get("actions"), raw["obs_t"].shape[0], self.n_actions, self.action_dim)
        views = self._views(raw, step, salt=1)
        _, _, bottled = self._idm(views, "obs_future")
        pred = self.action_head(bottled.z.to(self.action_head.weight.dtype))
        actions = actions.to(pred.device)
        if self.action_space == "discrete":
            return F.cross_entropy(pred.float(), actions)
        return F.mse_loss(pred.float(), actions.float())

    @torch.no_grad()
    def update_target(self) -> None:
        """EMA step of the target encoder: ``target <- (1 - tau) * target + tau * online``."""
        tau = self.cfg.target_ema_tau
        if self.cfg.fdm_target != "latent" or tau <= 0:
            return
        for t, o in zip(self.target_encoder.parameters(), self.encoder.parameters()):
            t.lerp_(o, tau)
        for t, o in zip(self.target_encoder.buffers(), self.encoder.buffers()):
            t.copy_(o)

    @torch.no_grad()
    def label(self, obs_t: torch.Tensor, obs_next: torch.Tensor, obs_past: torch.Tensor | None = None):
        """Latent actions for transitions ``(o_t, o_{t+1})`` (k = 1), without augmentation.

        Returns ``(z, codes, probs)``: ``z`` float32 ``(B, latent_dim_out)`` (VQ/FSQ: the
        pre-quantization latent; categorical: the expected code embedding ``q @ E``);
        ``codes`` int64 ``(B,)`` or None; ``probs`` ``(B, n_codes)`` for the
        categorical bottleneck, else None. ``obs_past`` is required when ``past_frame``.
        """
        keys = ("obs_t", "obs_next") + (("obs_past",) if self.cfg.past_frame else ())
        given = {"obs_t": obs_t, "obs_next": obs_next, "obs_past": obs_past}
        raw = {k: given[k] for k in keys}
        raw["k"] = torch.ones(obs_t.shape[0] if isinstance(obs_t, torch.Tensor) else 0, dtype=torch.int64)
        raw = inputs.check_batch(raw, keys, self.batch_shape, self.is_image, self.cfg.future_k)
        was_training = self.training
        self.eval()
        try:
            _, _, bottled = self._idm(self._views(raw, None, 0), "obs_next")
        finally:
            self.train(was_training)
        probs = None if bottled.probs is None else bottled.probs.float()
        return bottled.z.float(), bottled.codes, probs


def _f(t: torch.Tensor) -> float:
    return float(t.detach())


def _check_config(cfg: LAMConfig, action_space: str, n_actions, action_dim) -> None:
    if action_space == "discrete":
        if not isinstance(n_actions, int) or n_actions < 1:
            raise ConfigError(f"n_actions: a discrete action space needs n_actions >= 1, got {n_actions!r}")
    elif action_space == "continuous":
        if not isinstance(action_dim, int) or action_dim < 1:
            raise ConfigError(f"action_dim: a continuous action space needs action_dim >= 1, got {action_dim!r}")
    else:
        raise ConfigError(f"action_space: expected discrete or continuous, got {action_space!r}")
    validate(cfg, "model")
