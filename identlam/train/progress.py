"""What a long command tells the person running it: which stage, its step, rate and ETA.

On a terminal (stderr is a TTY) a tqdm bar; otherwise (a file, a pipe, a cluster log) one plain
line every ``IDENTLAM_PROGRESS_SECONDS`` seconds (default 30) and at the end of the stage, on
stdout, so that stderr keeps only errors. Messages (a stage starts, resumes, is skipped) go
through :func:`say` on stdout.
"""

from __future__ import annotations

import os
import sys
import time

from tqdm.auto import tqdm

DEFAULT_SECONDS = 30.0


def interactive() -> bool:
    return sys.stderr.isatty()


def say(message: str) -> None:
    """One line for the person running the command (not the log)."""
    if interactive():
        tqdm.write(message, file=sys.stdout)
    else:
        print(message, flush=True)


def format_duration(seconds: float) -> str:
    seconds = int(round(max(seconds, 0.0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("IDENTLAM_PROGRESS_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


class Progress:
    """``update(done, **postfix)`` after each unit of work; ``close()`` at the end (also on error)."""

    def __init__(self, stage: str, total: int, initial: int = 0, unit: str = "step"):
        self.stage, self.total, self.initial, self.unit = stage, int(total), int(initial), unit
        self.started = time.perf_counter()
        self.last_line = self.started
        self.interval = _interval()
        self.done = self.initial
        self.bar = (tqdm(total=self.total, initial=self.initial, desc=stage, unit=unit, file=sys.stderr,
                         leave=False, dynamic_ncols=True) if interactive() else None)

    def rate(self) -> float:
        return (self.done - self.initial) / max(time.perf_counter() - self.started, 1e-9)

    def line(self, **postfix: float) -> str:
        rate = self.rate()
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        pct = 100.0 * self.done / max(self.total, 1)
        extra = "".join(f", {k} {v:.4g}" for k, v in postfix.items())
        eta_text = format_duration(eta) if eta != float("inf") else "?"
        return (f"{self.stage}: {self.unit} {self.done}/{self.total} ({pct:.0f}%), {rate:.3g} {self.unit}s/s, "
                f"ETA {eta_text}{extra}")

    def update(self, done: int, **postfix: float) -> None:
        step = done - self.done
        self.done = done
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)
            self.bar.update(step)
            return
        now = time.perf_counter()
        if done >= self.total or now - self.last_line >= self.interval:
            self.last_line = now
            print(self.line(**postfix), flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # erase the bar before any error message is printed
