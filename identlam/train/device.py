"""Device choice and numeric precision, passed explicitly (there is no global device).

``device="auto"`` picks the first CUDA device when one is present and trains under bf16
autocast there; on CPU everything runs in fp32 (bf16 on CPUs without AVX512-BF16 is slow, and
fp32 keeps CPU runs bit-reproducible).
"""

from __future__ import annotations

import contextlib
import zlib
from typing import Iterator

import numpy as np
import torch

from identlam.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` -> a torch.device; unknown names raise ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"config key 'device': unknown device {name!r} (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"config key 'device': {name!r} requested but CUDA is not available")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"config key 'device': {name!r} is not supported (auto, cpu, cuda, cuda:N)")
    return device


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA, a no-op on CPU."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def seeded_torch(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block with torch's RNGs seeded, restoring the caller's RNG state afterwards.

    Module initializers and on-device augmentations draw from torch's default generators; this
    scope keeps those draws reproducible without leaking state to (or from) the caller.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def derive_seed(seed: int, *tags: int | str) -> int:
    """A 63-bit seed derived from ``seed`` and tags (stage names, restart indices)."""
    words = [int(seed)] + [t if isinstance(t, int) else zlib.crc32(t.encode()) for t in tags]
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def configure_determinism(device: torch.device) -> None:
    """Deterministic kernels where they are cheap (CPU); CUDA keeps its fast kernels."""
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """numpy -> torch on ``device`` without changing dtype (uint8 images stay uint8)."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(device, non_blocking=True)
