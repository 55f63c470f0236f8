"""Where background videos come from: the procedural generator, or a user's DAVIS-style folder.

A source maps a split (``train`` / ``eval``) to an ordered list of video names and loads a video
as ``(frames, size, size, 3)`` uint8. Difficulties use the first ``n`` names of the split, as
the Distracting Control Suite does; loaded videos are cached per process.

Folder layout: ``root/<video>/*.jpg`` (or ``*.png``), frames in sorted file-name order. The split
lists come from ``root/train.txt`` and ``root/eval.txt`` (one video name per line) when present;
otherwise every third video (sorted by name, starting with the third) is held out for ``eval``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from identlam.envs.dcs import procedural
from identlam.errors import ConfigError

PROCEDURAL = "procedural"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def video_names(source: str, split: str) -> list[str]:
    if split not in ("train", "eval"):
        raise ConfigError(f"background_split: {split!r} is not train or eval")
    if source == PROCEDURAL:
        return procedural.split_names(split)
    root = _root(source)
    listed = root / f"{split}.txt"
    if listed.exists():
        names = [line.strip() for line in listed.read_text().splitlines() if line.strip()]
        missing = [n for n in names if not (root / n).is_dir()]
        if missing:
            raise ConfigError(f"background: {listed} names {missing[0]!r}, which is not a folder of {root}")
        return names
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and _frames_of(p))
    if not folders:
        raise ConfigError(f"background: {root} has no video folders with .jpg/.png frames")
    held_out = folders[2::3]
    names = [n for n in folders if n not in held_out] if split == "train" else held_out
    if not names:
        raise ConfigError(f"background: {root} has too few videos for a {split} split (add {split}.txt)")
    return names


def load_video(source: str, name: str, size: int, frames: int = procedural.DEFAULT_FRAMES) -> np.ndarray:
    return _load(source, name, int(size), int(frames))


@lru_cache(maxsize=16)
def load_sky_video(source: str, name: str, size: int, frames: int = procedural.DEFAULT_FRAMES) -> np.ndarray:
    """The video at twice its size (bilinear), for the composite background's nearest-texel lookup."""
    from identlam.envs.dcs.background import upsample2

    video = upsample2(load_video(source, name, size, frames))
    video.setflags(write=False)
    return video


@lru_cache(maxsize=16)
def _load(source: str, name: str, size: int, frames: int) -> np.ndarray:
    if source == PROCEDURAL:
        video = procedural.procedural_video(name, frames=frames, size=size)
    else:
        video = _read_folder(_root(source) / name, size)
    video.setflags(write=False)
    return video


def _root(source: str) -> Path:
    root = Path(source).expanduser()
    if not root.is_dir():
        raise ConfigError(f"background: {source!r} is neither 'procedural' nor a folder of videos")
    return root


def _frames_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _read_folder(folder: Path, size: int) -> np.ndarray:
    from PIL import Image

    files = _frames_of(folder)
    if not files:
        raise ConfigError(f"background: {folder} has no .jpg/.png frames")
    frames = []
    for path in files:
        try:
            with Image.open(path) as img:
                frames.append(np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR)))
        except OSError as err:
            raise ConfigError(f"background: cannot read {path}: {err}") from None
    return np.stack(frames).astype(np.uint8)
