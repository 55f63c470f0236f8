"""Stage outputs on disk (``model.pt``, ``policy.pt``, ``decoder.pt``) and the networks they hold.

Each file is a ``torch.save`` dict ``{"kind": str, "modules": {name: state_dict}, "meta": dict}``
written atomically; the networks are rebuilt from the run's config and the dataset's spaces,
so a file holds weights only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from identlam.config import RunConfig
from identlam.errors import IdentlamError
from identlam.models.decoder import ActionDecoder
from identlam.models.policy import Policy
from identlam.train.batches import stacked_shape
from identlam.train.checkpoint import save_checkpoint
from identlam.train.device import derive_seed


def save_artifact(path: str | Path, kind: str, modules: dict[str, torch.nn.Module], meta: dict[str, Any]) -> None:
    states = {name: {k: v.detach().cpu() for k, v in m.state_dict().items()} for name, m in modules.items()}
    save_checkpoint(path, {"kind": kind, "modules": states, "meta": meta})


def load_artifact(path: str | Path) -> dict[str, Any]:
    try:
        return torch.load(Path(path), map_location="cpu", weights_only=False)
    except Exception as err:
        raise IdentlamError(f"stage output '{path}' cannot be read ({type(err).__name__}); delete it and rerun its stage") from None


def action_out_dim(ds) -> int:
    """Logits for discrete action spaces, one value per dimension for continuous ones."""
    return int(ds.n_actions) if ds.action_space == "discrete" else int(ds.action_dim)


def build_lam(cfg: RunConfig, ds, seed: int):
    from identlam.models import LatentActionModel

    return LatentActionModel(cfg.model, ds.obs_shape, ds.action_space, n_actions=ds.n_actions,
                             action_dim=ds.action_dim, seed=seed)


def build_policy(cfg: RunConfig, ds, out_dim: int, seed: int) -> Policy:
    """The BC actor ``o_t (F stacked frames) -> out_dim`` (BCConfig widths, the LAM's IMPALA stages)."""
    return Policy(stacked_shape(ds.obs_shape, cfg.model.frame_stack), out_dim, hidden_dim=cfg.bc.hidden_dim,
                  impala_scale=cfg.bc.impala_scale, channels=cfg.model.impala_channels,
                  res_blocks=cfg.model.impala_res_blocks, seed=seed)


def build_decoder(cfg: RunConfig, ds, latent_dim: int, seed: int) -> ActionDecoder:
    obs_shape = stacked_shape(ds.obs_shape, cfg.model.frame_stack) if cfg.decoder.use_observation else None
    return ActionDecoder(latent_dim, action_out_dim(ds), hidden_dim=cfg.decoder.hidden_dim, obs_shape=obs_shape, seed=seed)


def load_stage1(run, ds, device: torch.device):
    """The stage-1 network of a run, in eval mode: the LAM, the BC policy, or the IDM (a LAM
    whose supervision head was trained alone)."""
    saved = load_artifact(run.require("train", "this stage"))
    cfg = run.cfg
    kind = saved["kind"]
    if kind == "lam":
        net = build_lam(cfg, ds, derive_seed(cfg.seed, "init", 0))
    elif kind == "bc":
        net = build_policy(cfg, ds, action_out_dim(ds), derive_seed(cfg.seed, "init", 0))
    elif kind == "idm":
        net = build_lam(cfg, ds, derive_seed(cfg.seed, "init", 0))
    else:
        raise IdentlamError(f"stage output '{run.output('train')}': unknown kind {kind!r}")
    net.load_state_dict(saved["modules"][kind])
    return kind, net.to(device).eval()


def load_latent_policy(run, ds, device: torch.device) -> tuple[Policy, dict[str, Any]]:
    """The latent (or, for ``idm``, action) policy of stage 3 and its meta (``target``, ``out_dim``)."""
    saved = load_artifact(run.require("bc", "this stage"))
    meta = saved["meta"]
    policy = build_policy(run.cfg, ds, int(meta["out_dim"]), derive_seed(run.cfg.seed, "bc"))
    policy.load_state_dict(saved["modules"]["policy"])
    return policy.to(device).eval(), meta


def policy_latent(output: torch.Tensor, target: str) -> torch.Tensor:
    """What the decoder reads from the policy: code probabilities (``codes``) or the latent."""
    return torch.softmax(output.float(), dim=-1) if target == "codes" else output.float()
