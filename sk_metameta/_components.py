"""Turn a component parameter (name, instance, class or callable) into a component."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import clone

from .plugins import get_registry

__all__ = [
    "resolve_component",
    "resolve_metric",
    "resolve_task_features",
    "resolve_transfer_rule",
]


def resolve_component(
    spec: Any,
    kind: str,
    base: type,
    *,
    param: str,
    wrap_callable: Callable[[Callable], Any] | None = None,
    params: dict | None = None,
) -> Any:
    """Resolve ``spec`` to a fresh component instance of ``base``.

    Parameters
    ----------
    spec : str, instance of ``base``, subclass of ``base`` or callable
        A registered name, a component (cloned, never mutated), a component class
        (built with no argument) or a plain function (wrapped by ``wrap_callable``).
    kind : {"metric", "task_features", "transfer_rule"}
        Registry kind to look names up in.
    base : type
        Base class every component of this kind derives from.
    param : str
        Name of the estimator parameter, used in error messages.
    wrap_callable : callable, default=None
        Wraps a plain function into a component; ``None`` refuses functions.
    params : dict, default=None
        Keyword arguments for a component built from a name.

    Returns
    -------
    component : instance of ``base``
    """
    if isinstance(spec, str):
        try:
            return get_registry().create(kind, spec, **(params or {}))
        except ValueError as exc:
            raise ValueError(f"{param}={spec!r}: {exc}") from None
    if isinstance(spec, base):
        return clone(spec)
    if isinstance(spec, type) and issubclass(spec, base):
        return spec()
    if callable(spec) and wrap_callable is not None:
        return wrap_callable(spec)
    what = "a registered name, a component instance or a callable"
    raise TypeError(
        f"{param} must be {what}; got {spec!r} of type {type(spec).__name__}."
    )


def resolve_metric(spec: Any, *, param: str = "metric"):
    """Resolve a ``metric`` parameter (name, instance, class or ``func(u, v)``).

    Parameters
    ----------
    spec : str, BaseTaskMetric, type or callable
        The metric.
    param : str, default="metric"
        Parameter name for error messages.

    Returns
    -------
    metric : BaseTaskMetric
    """
    from .metrics.base import BaseTaskMetric, CallableMetric

    return resolve_component(
        spec, "metric", BaseTaskMetric, param=param, wrap_callable=CallableMetric
    )


def resolve_task_features(spec: Any, *, param: str = "task_features"):
    """Resolve a ``task_features`` parameter (name, instance, class or function).

    Parameters
    ----------
    spec : str, BaseTaskFeatures, type or callable
        The extractor; a function maps one task's ``X`` to a 1-D vector.
    param : str, default="task_features"
        Parameter name for error messages.

    Returns
    -------
    extractor : BaseTaskFeatures
    """
    from .task_features.base import BaseTaskFeatures, CallableTaskFeatures

    return resolve_component(
        spec,
        "task_features",
        BaseTaskFeatures,
        param=param,
        wrap_callable=CallableTaskFeatures,
    )


def resolve_transfer_rule(spec: Any, *, param: str = "transfer"):
    """Resolve a ``transfer`` parameter (registered name, instance or class).

    Parameters
    ----------
    spec : str, BaseTransferRule or type
        The transfer rule.
    param : str, default="transfer"
        Parameter name for error messages.

    Returns
    -------
    rule : BaseTransferRule
    """
    from .transfer.base import BaseTransferRule

    return resolve_component(spec, "transfer_rule", BaseTransferRule, param=param)
