"""Difficulty levels: distraction scale and how many videos of the split play.

The scales and video counts are the Distracting Control Suite's (``None`` = every video of the
split); ``vanilla`` (no distraction) and ``scale_easy_video_hard`` (easy camera and colour
changes over all videos, the setting of LAOM's datasets) are LAOM's additions.
"""

from __future__ import annotations

from dataclasses import dataclass

from identlam.errors import ConfigError


@dataclass(frozen=True)
class Difficulty:
    name: str
    scale: float
    num_videos: int | None  # None: the whole split

    @property
    def distracted(self) -> bool:
        return self.scale > 0 or self.num_videos != 0


DIFFICULTIES = {
    d.name: d
    for d in (
        Difficulty("vanilla", 0.0, 0),
        Difficulty("easy", 0.1, 4),
        Difficulty("medium", 0.2, 8),
        Difficulty("hard", 0.3, None),
        Difficulty("scale_easy_video_hard", 0.1, None),
    )
}

# Floor opacity while a background plays: the video shows through the floor of most domains.
GROUND_ALPHA = {"reacher": 0.0, "cheetah": 1.0, "walker": 1.0, "hopper": 1.0}
DEFAULT_GROUND_ALPHA = 0.3


def difficulty(name: str) -> Difficulty:
    if name not in DIFFICULTIES:
        raise ConfigError(f"difficulty: {name!r} is not one of {', '.join(DIFFICULTIES)}")
    return DIFFICULTIES[name]


def ground_alpha(domain: str) -> float:
    return GROUND_ALPHA.get(domain, DEFAULT_GROUND_ALPHA)
