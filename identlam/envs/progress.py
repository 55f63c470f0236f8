"""Progress of a long collection on stderr: a tqdm bar on a terminal, plain lines elsewhere.

A bar redrawn with carriage returns turns a log file (a batch job, a runner's captured stderr)
into one very long line, so when stderr is not a terminal the progress is printed as a
plain line every ``every_s`` seconds and once at the end.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``update(n)`` after each unit of work, ``close()`` at the end; does nothing when disabled."""

    def __init__(self, total: int, desc: str, unit: str, *, enabled: bool = True, stream: TextIO | None = None,
                 every_s: float = 30.0):
        self.total, self.desc, self.unit, self.every_s = int(total), desc, unit, float(every_s)
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.done = 0
        self._bar = None
        self._start = self._last = time.monotonic()
        if enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, unit=unit, desc=desc, file=self.stream, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        if not self.enabled:
            return
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self._line(now)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self.done:
            self._line(time.monotonic())
        self.enabled = False

    def _line(self, now: float) -> None:
        elapsed = now - self._start
        rate = self.done / max(elapsed, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        print(f"{self.desc}: {self.done}/{self.total} {self.unit} ({100 * self.done / max(self.total, 1):.0f}%), "
              f"{elapsed:.0f} s elapsed, {eta:.0f} s left", file=self.stream, flush=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
