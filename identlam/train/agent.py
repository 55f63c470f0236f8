"""The final policy of a run, acting on raw environment observations.

- ``lam`` runs: ``decoder ∘ policy`` (stage 4 on stage 3);
- ``idm`` runs: the stage-3 policy (it clones the IDM's predicted actions);
- ``bc`` runs: the stage-1 policy.

Discrete actions are chosen greedily (argmax of the logits); continuous actions are the
network's output. Frames are stacked as the data layer stacks them: the last ``F``
observations, oldest first, on the channel (images) or feature (vectors) axis, with the first
observation repeated after a reset.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from identlam.train.artifacts import build_decoder, load_artifact, load_latent_policy, load_stage1, policy_latent
from identlam.train.device import derive_seed


class Agent:
    """``agent.reset(obs)`` at an episode start, then ``agent.act(obs)`` -> action (int or (A,) float32)."""

    def __init__(self, policy, decoder=None, *, target: str = "actions", discrete: bool, frame_stack: int,
                 device: torch.device):
        self.policy, self.decoder, self.target = policy, decoder, target
        self.discrete, self.frame_stack, self.device = discrete, int(frame_stack), device
        self._frames: deque[np.ndarray] = deque(maxlen=self.frame_stack)

    @classmethod
    def from_run(cls, run, ds, device: torch.device) -> "Agent":
        cfg = run.cfg
        discrete = ds.action_space == "discrete"
        if cfg.kind == "bc":
            _, policy = load_stage1(run, ds, device)
            return cls(policy, discrete=discrete, frame_stack=cfg.model.frame_stack, device=device)
        policy, meta = load_latent_policy(run, ds, device)
        saved = load_artifact(run.require("decode", "the final policy"))
        if saved["kind"] == "identity":
            return cls(policy, discrete=discrete, frame_stack=cfg.model.frame_stack, device=device)
        decoder = build_decoder(cfg, ds, int(saved["meta"]["latent_dim"]), derive_seed(cfg.seed, "decoder"))
        decoder.load_state_dict(saved["modules"]["decoder"])
        return cls(policy, decoder.to(device).eval(), target=meta["target"], discrete=discrete,
                   frame_stack=cfg.model.frame_stack, device=device)

    def reset(self, obs: np.ndarray) -> None:
        self._frames.clear()
        self._frames.extend([np.asarray(obs)] * self.frame_stack)

    @torch.no_grad()
    def act(self, obs: np.ndarray):
        self._frames.append(np.asarray(obs))
        stacked = np.concatenate(list(self._frames), axis=-1)[None]
        x = torch.from_numpy(np.ascontiguousarray(stacked)).to(self.device)
        out = self.policy(x)
        if self.decoder is not None:
            latent = policy_latent(out, self.target)
            out = self.decoder(latent, x if self.decoder.uses_observation else None)
        out = out.float()[0].cpu()
        return int(out.argmax()) if self.discrete else out.numpy().astype(np.float32)
