"""Tiny batches in the format the data layer produces (shared by the model tests)."""

from __future__ import annotations

import dataclasses

import torch

from identlam.config import FSQConfig, LAMConfig, VQConfig

OBS_KEYS = ("obs_t", "obs_next", "obs_future", "obs_past")


def tiny_config(**overrides) -> LAMConfig:
    """A LAMConfig small enough for sub-second tests.

    A sub-config (``vq``, ``fsq``, ``entropy``) may be given as a dict of the fields to change.
    """
    cfg = LAMConfig(hidden_dim=32, embed_dim=16, latent_dim=8, n_codes=4, impala_channels=(4, 8), impala_res_blocks=1,
                    vq=VQConfig(codebook_size=8, num_codebooks=2, num_latents=2, code_dim=4), fsq=FSQConfig(levels=(3, 3)))
    for key, value in overrides.items():
        if isinstance(value, dict):
            overrides[key] = dataclasses.replace(getattr(cfg, key), **value)
    return dataclasses.replace(cfg, **overrides)


def make_batch(obs_shape, frame_stack=1, future_k=1, batch_size=6, seed=0, labels=False, n_actions=4,
               action_dim=None) -> dict:
    """Random observations: uint8 (B,H,W,C*F) images or float32 (B,D*F) vectors, k in 1..K."""
    g = torch.Generator().manual_seed(seed)

    def obs():
        if len(obs_shape) == 3:
            h, w, c = obs_shape
            return torch.randint(0, 256, (batch_size, h, w, c * frame_stack), generator=g, dtype=torch.uint8)
        return torch.randn(batch_size, obs_shape[0] * frame_stack, generator=g)

    batch = {key: obs() for key in OBS_KEYS}
    batch["k"] = torch.randint(1, future_k + 1, (batch_size,), generator=g)
    if labels:
        lab = {key: obs() for key in OBS_KEYS}
        lab["k"] = torch.randint(1, future_k + 1, (batch_size,), generator=g)
        if action_dim is None:
            lab["actions"] = torch.randint(0, n_actions, (batch_size,), generator=g)
        else:
            lab["actions"] = torch.randn(batch_size, action_dim, generator=g)
        batch["labels"] = lab
    return batch
