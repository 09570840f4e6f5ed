"""Helpers shared by the conformance checks: settings, messages, comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from sklearn.base import clone

__all__ = [
    "assert_close",
    "resolve",
    "call",
    "check_clone",
    "describe",
    "fail",
    "fmt",
    "fresh",
    "hypothesis_settings",
]

_SUPPRESSED = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]


def hypothesis_settings(
    max_examples: int | None, parent: settings | None = None
) -> settings:
    """Settings of a check: the active profile, with the check's own needs.

    ``parent``, by default the active profile (for example the project's
    ``"ci"`` profile, loaded by ``conftest.py``), gives the number of examples,
    the derandomisation, the phases and the verbosity; ``max_examples``
    overrides the number. Checks never time out (a deadline tests speed, not
    conformance), keep no example database (one database entry would otherwise
    be replayed for every component checked) and report only the first failure
    they find.
    """
    if max_examples is not None and (
        not isinstance(max_examples, (int, np.integer)) or max_examples < 1
    ):
        raise ValueError(f"max_examples must be a positive int, got {max_examples!r}.")
    if parent is not None and not isinstance(parent, settings):
        raise TypeError(f"settings must be a hypothesis.settings, got {parent!r}.")
    base = settings.default if parent is None else parent
    return settings(
        base,
        max_examples=int(max_examples or base.max_examples),
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=[*base.suppress_health_check, *_SUPPRESSED],
    )


def describe(component: Any, kind: str) -> str:
    """``"metric 'euclidean' (EuclideanMetric)"``: how messages name a component."""
    name = getattr(component, "name", "")
    return f"{kind} {name!r} ({type(component).__name__})"


def fail(who: str, what: str, detail: str) -> None:
    """Raise the ``AssertionError`` of a failed check."""
    raise AssertionError(f"{who}: {what}: {detail}")


def fmt(a: Any) -> str:
    """An array or value written so that it can be pasted back into Python."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return np.array2string(
            a, separator=", ", floatmode="unique", threshold=200, max_line_width=120
        )
    if isinstance(a, np.ndarray):
        return repr(a.tolist())
    if isinstance(a, np.generic):
        return repr(a.item())
    return repr(a)


def call(who: str, what: str, func, *args, **kwargs):
    """Call ``func``; an exception on valid input fails the check, naming ``what``."""
    try:
        return func(*args, **kwargs)
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(
            f"{who}: {what} raised {type(exc).__name__} on valid input: {exc}"
        ) from exc


def fresh(component: Any) -> Any:
    """A clone of ``component`` with a fixed ``random_state`` if it has one unset.

    As scikit-learn's estimator checks do, a component whose ``random_state`` is
    ``None`` gets ``random_state=0`` so that repeated calls can be compared.
    """
    component = clone(component)
    params = component.get_params(deep=False)
    if "random_state" in params and params["random_state"] is None:
        component.set_params(random_state=0)
    return component


def resolve(spec: Any, resolver, base: type, kind: str) -> Any:
    """A fresh component from ``spec``, checking first that an instance clones."""
    if isinstance(spec, base):
        check_clone(spec, describe(spec, kind))
    return resolver(spec)


def check_clone(component: Any, who: str) -> None:
    """The scikit-learn contract: ``__init__`` stores its arguments, clone works."""
    try:
        params = component.get_params(deep=False)
        copy = clone(component)
    except Exception as exc:
        fail(
            who,
            "scikit-learn clone",
            f"{type(exc).__name__}: {exc} (``__init__`` must only store its keyword "
            "arguments under their own names)",
        )
    copied = copy.get_params(deep=False)
    if set(copied) != set(params):
        fail(who, "scikit-learn clone", f"parameters {params} became {copied}")


def assert_close(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    atol: float,
    rtol: float,
    who: str,
    what: str,
    context: str = "",
) -> None:
    """``|actual - expected| <= atol + rtol * |expected|`` elementwise, or fail."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        fail(who, what, f"shape {actual.shape} differs from {expected.shape}{context}")
    excess = np.abs(actual - expected) - (atol + rtol * np.abs(expected))
    if excess.size and not (excess <= 0).all():
        # NaN compares False: it is reported as a mismatch too
        where = np.unravel_index(
            int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess))), excess.shape
        )
        fail(
            who,
            what,
            f"{fmt(actual[where])} differs from {fmt(expected[where])} at index "
            f"{tuple(int(i) for i in where)} (atol={atol}, rtol={rtol}); got "
            f"{fmt(actual)}, expected {fmt(expected)}{context}",
        )
