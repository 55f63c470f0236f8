"""The registry of public metrics: what each takes and which invariances it promises.

Every entry is checked by :func:`identlam.metrics.check_metric` (the invariance suite), and the
test suite runs that check over every registered name, so a metric added with
:func:`register_metric` is checked without writing a new test.

A metric is called as ``function(true, pred, **extras, **kwargs)`` through ``call`` (override
``call`` for other signatures). ``true`` is the ground truth, ``pred`` the representation; their
kinds say what the suite generates:

- ``"labels"``: (N,) integer labels (actions, codes);
- ``"factors"``: (N, 2) integer labels, two discrete ground-truth factors;
- ``"continuous"``: (N, 2) floats.

``extras`` are further sample-aligned arrays the suite supplies when named in ``extras``:
``states`` (N, 2) whole-number states, ``regions`` (N,) labels, ``exo`` (N, 1) floats,
``condition`` (N,) labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

KINDS = ("labels", "factors", "continuous")
EXTRAS = ("states", "regions", "exo", "condition")


@dataclass(frozen=True)
class MetricSpec:
    """How to call one public metric and which properties the invariance suite checks.

    ``label_invariant``: relabelling the discrete values of ``true`` and of ``pred`` by a
    bijection leaves the score unchanged. ``order_invariant``: permuting the samples jointly
    leaves it unchanged (false for metrics with a positional or seeded train/test split).
    ``tolerance``: the absolute difference allowed in those checks (the default 1e-12 allows
    summation-order rounding only).
    ``paired``: ``pred`` is a second array aligned with ``true`` (false for one-variable
    quantities such as an entropy, which then get ``true`` only).
    """

    name: str
    function: Callable[..., Any]
    true: str
    pred: str
    true_name: str
    pred_name: str
    label_invariant: bool = True
    order_invariant: bool = True
    tolerance: float = 1e-12
    paired: bool = True
    extras: tuple[str, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    call: Callable[..., Any] | None = None

    def __call__(self, true, pred, extras: Mapping[str, Any]):
        chosen = {k: extras[k] for k in self.extras}
        if self.call is not None:
            return self.call(true, pred, **chosen, **self.kwargs)
        if not self.paired:
            return self.function(true, **chosen, **self.kwargs)
        return self.function(true, pred, **chosen, **self.kwargs)


METRICS: dict[str, MetricSpec] = {}


def register_metric(name: str, function: Callable[..., Any], *, true: str, pred: str, true_name: str | None = None,
                    pred_name: str | None = None, **options: Any) -> MetricSpec:
    """Add ``function`` to :data:`METRICS` under ``name``; returns its :class:`MetricSpec`.

    ``true_name``/``pred_name`` are the argument names error messages must mention (default:
    the function's first two parameters). ``options`` are the other :class:`MetricSpec` fields.
    """
    import inspect

    if true not in KINDS or pred not in KINDS:
        raise ValueError(f"true/pred: expected kinds among {KINDS}, got {true!r}/{pred!r}")
    unknown = set(options.get("extras", ())) - set(EXTRAS)
    if unknown:
        raise ValueError(f"extras: unknown {sorted(unknown)}; expected among {EXTRAS}")
    params = list(inspect.signature(function).parameters)
    spec = MetricSpec(name, function, true, pred, true_name or params[0],
                      pred_name or (params[1] if len(params) > 1 else params[0]), **options)
    METRICS[name] = spec
    return spec


def _register_builtins() -> None:
    from identlam.metrics import (_clustering, _dci, _desiderata, _information, _leakage, _mcc, _mig, _modularity,
                                  _probe_info, _probes)
    from identlam.metrics import _report, _sap

    for fn in (_clustering.ami, _clustering.nmi, _clustering.homogeneity_completeness_v,
               _clustering.hungarian_accuracy):
        register_metric(fn.__name__, fn, true="labels", pred="labels")
    register_metric("entropy", _information.entropy, true="labels", pred="labels", paired=False)
    register_metric("mutual_info", _information.mutual_info, true="labels", pred="labels")
    register_metric("conditional_mutual_info", _information.conditional_mutual_info, true="labels", pred="labels",
                    extras=("condition",),
                    call=lambda t, p, condition: _information.conditional_mutual_info(t, p, condition))
    for fn in (_mig.mig, _modularity.modularity):
        register_metric(fn.__name__, fn, true="factors", pred="continuous")
    register_metric("explicitness", _modularity.explicitness, true="factors", pred="continuous",
                    order_invariant=False)
    register_metric("dci", _dci.dci, true="factors", pred="continuous", order_invariant=False, tolerance=1e-9,
                    kwargs={"importance": "exact"})
    register_metric("dci_hist", _dci.dci, true="factors", pred="continuous", order_invariant=False,
                    tolerance=1e-9, kwargs={"importance": "hist"})
    register_metric("sap", _sap.sap, true="factors", pred="continuous", order_invariant=False)
    register_metric("mcc", _mcc.mcc, true="continuous", pred="continuous")
    register_metric("mcc_spearman", _mcc.mcc, true="continuous", pred="continuous", kwargs={"method": "spearman"})
    register_metric("linear_probe", _probes.linear_probe, true="labels", pred="continuous", order_invariant=False,
                    tolerance=1e-6)
    register_metric("mlp_probe", _probes.mlp_probe, true="labels", pred="continuous", order_invariant=False,
                    label_invariant=False)
    register_metric("probe_mutual_info", _probe_info.probe_mutual_info, true="labels", pred="continuous",
                    order_invariant=False, label_invariant=False)
    for fn, extras in ((_desiderata.determinism, ("states",)), (_desiderata.state_invariance, ("states",)),
                       (_desiderata.injectivity, ()), (_report.label_agreement, ("regions",))):
        register_metric(fn.__name__, fn, true="labels", pred="labels", pred_name="codes", extras=extras,
                        call=_with_codes(fn))
    register_metric("used_codes", _desiderata.used_codes, true="labels", pred="labels")
    register_metric("distractor_leakage", _leakage.distractor_leakage, true="labels", pred="labels",
                    pred_name="codes", extras=("exo",), order_invariant=False, tolerance=1e-9,
                    call=lambda t, p, exo: _leakage.distractor_leakage(t, exo, codes=p))
    register_metric("action_probe", _report.action_probe, true="labels", pred="continuous", order_invariant=False,
                    tolerance=1e-6)
    register_metric("desiderata", _report.desiderata, true="labels", pred="labels", pred_name="codes",
                    extras=("states",), order_invariant=False, tolerance=1e-9,
                    call=lambda t, p, states: _report.desiderata(t, states, codes=p))


def _with_codes(fn):
    def call(true, pred, **extras):
        if "states" in extras:
            return fn(true, extras.pop("states"), codes=pred, **extras)
        if fn.__name__ == "label_agreement":
            return fn(true, pred, **extras)
        return fn(true, codes=pred, **extras)
    return call


_register_builtins()
