"""Families of environments and the policies that generate their data.

A *family* is a set of gymnasium environments registered under ``<family>/<name>`` ids with
one entry point. The entry point is a ``"module:attribute"`` string, so gymnasium imports
the family's module (and its optional dependencies) only when one of its environments is
built. A family whose ``requires`` modules are not importable is not registered; building
one of its ids then fails with a one-line error naming the extra to install.

Policies are registered by name, for one family or for every family (``family=None``); a
family's own registration wins over the generic one, so ``behaviour`` can mean each family's
behaviour policy while ``random`` works everywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from identlam.errors import IdentlamError


class EnvError(IdentlamError):
    """An unknown environment or policy, a bad environment parameter, or a missing extra."""


@dataclass(frozen=True)
class Family:
    """What ``register_family`` recorded: enough to register the family again in a worker process."""

    name: str
    ids: tuple[str, ...]
    entry_point: str | Callable[..., gymnasium.Env]
    kwargs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    docs: Mapping[str, str] = field(default_factory=dict)
    exo_period: float | None = None
    check: str | Callable[..., None] | None = None


_FAMILIES: dict[str, Family] = {}
_MISSING: dict[str, tuple[str | None, str]] = {}  # family -> (extra to install, first missing module)
_POLICIES: dict[tuple[str, str | None], str | Callable[..., Any]] = {}


def register_family(name: str, ids: Iterable[str], entry_point: str | Callable[..., gymnasium.Env], *,
                    kwargs: Mapping[str, Mapping[str, Any]] | None = None, requires: Iterable[str] = (),
                    extra: str | None = None, docs: Mapping[str, str] | None = None,
                    exo_period: float | None = None, check: str | Callable[..., None] | None = None) -> bool:
    """Register ``name/<id>`` for each of ``ids`` with gymnasium; ``kwargs[id]`` are passed to
    ``entry_point`` for that id (before the caller's parameters). Returns False, registering
    nothing, when a module of ``requires`` is not importable (``extra`` names the pip extra).
    ``exo_period``: the family's distractor variables live on a torus of this period (their
    steps are then measured the short way round), None when they do not wrap. ``check``: a callable
    (or ``"module:attribute"``) given an id's keyword arguments that raises an IdentlamError for a
    value the entry point would refuse, without building anything; :func:`check_params` calls it."""
    missing = [m for m in requires if importlib.util.find_spec(m) is None]
    if missing:
        _MISSING[name] = (extra, missing[0])
        return False
    family = Family(name, tuple(ids), entry_point, dict(kwargs or {}), dict(docs or {}), exo_period, check)
    _register(family)
    return True


def _register(family: Family) -> None:
    unregister_family(family.name)
    for short in family.ids:
        env_id = f"{family.name}/{short}"
        gymnasium.register(id=env_id, entry_point=family.entry_point, kwargs=dict(family.kwargs.get(short, {})))
    _FAMILIES[family.name] = family
    _MISSING.pop(family.name, None)


def unregister_family(name: str) -> None:
    """Remove a family's ids and its own policies (tests that register a toy family clean up with it)."""
    old = _FAMILIES.pop(name, None)
    if old is not None:
        for short in old.ids:
            gymnasium.registry.pop(f"{name}/{short}", None)
    for key in [k for k in _POLICIES if k[1] == name]:
        del _POLICIES[key]


def available() -> list[str]:
    """Every registered environment id, sorted."""
    return sorted(f"{f.name}/{short}" for f in _FAMILIES.values() for short in f.ids)


def is_registered(env_id: str) -> bool:
    return isinstance(env_id, str) and env_id in available()


def describe(env_id: str) -> str:
    """The one-line description a family gave ``env_id`` ("" when none)."""
    family, _, short = env_id.partition("/")
    return _FAMILIES[family].docs.get(short, "") if family in _FAMILIES else ""


def family_of(env_id: str) -> str:
    return env_id.partition("/")[0] if "/" in env_id else ""


def exo_period(env_id: str) -> float | None:
    """The period of ``env_id``'s distractor variables when they wrap (registered with its family)."""
    family = _FAMILIES.get(family_of(str(env_id)))
    return family.exo_period if family is not None else None


def check_env_id(env_id: str) -> None:
    """Raise EnvError unless ``env_id`` can be built here."""
    family = family_of(str(env_id))
    if family in _MISSING:
        extra, module = _MISSING[family]
        hint = f"pip install 'identlam[{extra}]'" if extra else f"install {module}"
        raise EnvError(f"environment '{env_id}': needs the '{extra or module}' extra ({module} is not "
                       f"importable): {hint}")
    if not is_registered(env_id):
        raise EnvError(f"parameter 'env': unknown environment {env_id!r} (known: {', '.join(available())})")


def check_params(env_id: str, params: Mapping[str, Any]) -> None:
    """Raise the error that :func:`make` would raise for a parameter's name (fixed by the id, or not
    a parameter of the family's entry point) or, where the family registered a ``check``, for its
    value, without building the environment: a config is checked before anything runs."""
    family, fixed = _family_and_fixed(env_id, params)
    entry = _resolve(_FAMILIES[family].entry_point)
    try:
        accepted = inspect.signature(entry).parameters if entry is not None else None
    except (TypeError, ValueError):  # building it will say what is wrong
        accepted = None
    if accepted is None:
        return
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        for key in params:
            if key not in accepted:
                raise EnvError(f"parameter '{key}': unknown for environment '{env_id}'")
    check = _resolve(_FAMILIES[family].check)
    if check is not None:
        check(**fixed, **params)


def _family_and_fixed(env_id: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The id's family and the parameters its id fixes; a given parameter among those is an error."""
    check_env_id(env_id)
    family, _, short = env_id.partition("/")
    fixed = _FAMILIES[family].kwargs.get(short, {})
    for key in set(params) & set(fixed):
        raise EnvError(f"parameter '{key}': fixed by the environment id '{env_id}'")
    return family, fixed


def _resolve(target: str | Callable | None) -> Callable | None:
    """A ``"module:attribute"`` string's object (None when it cannot be imported: building says why)."""
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def make(env_id: str, **params) -> gymnasium.Env:
    """Build the environment ``env_id`` with ``params`` (``gymnasium.make`` underneath)."""
    _family_and_fixed(env_id, params)
    try:
        return gymnasium.make(env_id, **params)
    except TypeError as err:  # the entry point's signature refused a parameter
        if "unexpected keyword argument" not in str(err):
            raise
        name = str(err).rsplit("argument", 1)[-1].strip(" '\"")
        raise EnvError(f"parameter '{name}': unknown for environment '{env_id}'") from None


def register_policy(name: str, factory: str | Callable[..., Any], family: str | None = None) -> None:
    """Make ``make_policy(name, env)`` call ``factory(env, **kw)`` (a callable or a
    ``"module:attribute"`` string, imported on first use) for ``family``'s environments, or for
    every environment when ``family`` is None."""
    _POLICIES[(name, family)] = factory


def policies(env_id: str) -> list[str]:
    """Policy names that ``make_policy`` accepts for ``env_id``."""
    family = family_of(env_id)
    return sorted({n for n, f in _POLICIES if f is None or f == family})


def make_policy(name: str, env: gymnasium.Env, **kw) -> Callable[[Any, dict, Any], Any]:
    """The data-generating policy ``name`` for ``env``: a callable ``policy(obs, info, rng) -> action``."""
    spec = getattr(env, "spec", None)
    if spec is None:
        raise EnvError("parameter 'env': build environments with identlam.envs.make (this one has no spec)")
    family = family_of(spec.id)
    factory = _POLICIES.get((name, family), _POLICIES.get((name, None)))
    if factory is None:
        raise EnvError(f"parameter 'policy': unknown policy {name!r} for '{spec.id}' "
                       f"(known: {', '.join(policies(spec.id))})")
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
    return factory(env, **kw)


def snapshot(env_id: str) -> tuple[Family | None, dict]:
    """What a fresh process needs to build ``env_id`` and its policies (see :func:`restore`)."""
    family = family_of(env_id)
    return _FAMILIES.get(family), {k: v for k, v in _POLICIES.items() if k[1] in (None, family)}


def restore(state: tuple[Family | None, dict]) -> None:
    """Register, in this process, a family and policies captured by :func:`snapshot` where missing."""
    family, table = state
    if family is not None and _FAMILIES.get(family.name) != family:
        _register(family)
    for key, factory in table.items():
        _POLICIES.setdefault(key, factory)
