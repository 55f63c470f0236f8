"""Declared fields: every config leaf carries its rule (type and admissible values) and a doc line.

A field is declared with :func:`knob` (a leaf) or :func:`section` (a nested config). The rule
both validates a value (:meth:`Rule.problem` returns what is wrong, or None) and describes the
admissible values in one phrase, so errors, ``identlam presets NAME --fields`` and the property
tests all read the same declaration.
"""

from __future__ import annotations

import abc
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable


class Rule(abc.ABC):
    """What values a field admits."""

    @abc.abstractmethod
    def problem(self, value: Any) -> str | None:
        """None when ``value`` is admissible, else a phrase saying what is wrong."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The admissible values in words (printed by ``identlam presets NAME --fields``)."""


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Num(Rule):
    """A finite number (``integer``: an int) in ``[lo, hi]``; ``*_open`` makes that bound strict."""

    integer: bool = False
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def bounds(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"in {'(' if self.lo_open else '['}{_fmt(self.lo)}, {_fmt(self.hi)}{')' if self.hi_open else ']'}"
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {_fmt(self.lo)}"
        if self.hi is not None:
            return f"{'<' if self.hi_open else '<='} {_fmt(self.hi)}"
        return ""

    def describe(self) -> str:
        return " ".join(filter(None, ("an integer" if self.integer else "a finite number", self.bounds())))

    def problem(self, value: Any) -> str | None:
        if self.integer and not (isinstance(value, int) and not isinstance(value, bool)):
            return f"expected {self.describe()}, got {value!r}"
        if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
            return f"expected {self.describe()}, got {value!r}"
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        too_high = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
        if too_low or too_high:
            return f"must be {self.bounds()}, got {value!r}"
        return None


@dataclass(frozen=True)
class OneOf(Rule):
    """One of a fixed set of strings; ``choices`` may be a callable (a registry read when checking)."""

    choices: tuple[str, ...] | Callable[[], tuple[str, ...]]

    def options(self) -> tuple[str, ...]:
        return tuple(self.choices()) if callable(self.choices) else tuple(self.choices)

    def describe(self) -> str:
        return "one of " + " | ".join(self.options())

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or value not in self.options():
            return f"expected {self.describe()}, got {value!r}"
        return None


@dataclass(frozen=True)
class Flag(Rule):
    def describe(self) -> str:
        return "true or false"

    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"


@dataclass(frozen=True)
class Text(Rule):
    """A string matching ``pattern`` (full match), described by ``what``."""

    pattern: str
    what: str

    def describe(self) -> str:
        return self.what

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or re.fullmatch(self.pattern, value) is None:
            return f"expected {self.what}, got {value!r}"
        return None


@dataclass(frozen=True)
class Seq(Rule):
    """A non-empty list whose items follow ``item`` (``unique``: no repeats)."""

    item: Rule
    unique: bool = False

    def describe(self) -> str:
        return f"a non-empty list{' without repeats' if self.unique else ''}, each {self.item.describe()}"

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or not value:
            return f"expected {self.describe()}, got {value!r}"
        for i, item in enumerate(value):
            bad = self.item.problem(item)
            if bad is not None:
                return f"item {i}: {bad}"
        if self.unique and len(set(value)) != len(value):
            return f"expected {self.describe()}, got {list(value)!r}"
        return None


def knob(default: Any, rule: Rule, doc: str) -> Any:
    """A leaf field: its default, its rule and a one-line description."""
    return field(default=default, metadata={"rule": rule, "doc": doc})


def section(factory: Callable[[], Any], doc: str) -> Any:
    """A nested config field, built by ``factory``."""
    return field(default_factory=factory, metadata={"doc": doc})


POSITIVE_INT = Num(integer=True, lo=1)
COUNT = Num(integer=True, lo=0)
NON_NEGATIVE = Num(lo=0)
POSITIVE = Num(lo=0, lo_open=True)
FRACTION = Num(lo=0, hi=1)
