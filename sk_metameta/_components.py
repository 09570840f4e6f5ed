"""Components in use: resolve a parameter to a component, and name its errors.

``resolve_*`` turn an estimator parameter (a registered name, an instance, a class
or a plain function) into a fresh component. :func:`component_errors` wraps a call
into a component so that an exception raised inside a plugin's (or a user's)
component reaches the user with the component's name and provider.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from sklearn.base import clone

from .exceptions import PluginError
from .hookspecs import COMPONENT_KINDS
from .plugins import describe_component, get_registry

__all__ = [
    "component_errors",
    "named_error",
    "resolve_component",
    "resolve_metric",
    "resolve_task_features",
    "resolve_transfer_rule",
]


def named_error(exc: Exception, who: str) -> Exception:
    """A copy of ``exc`` whose message starts with ``who``.

    The copy has the type of ``exc`` when that type can be built from one message
    (``ValueError``, ``KeyError``, ``RuntimeError``, ...), else it is a
    :class:`~sk_metameta.exceptions.PluginError`. Raise it ``from exc``.

    Examples
    --------
    >>> error = named_error(KeyError("x"), "metric 'mine' (plugin 'p', provider p 1.0)")
    >>> type(error).__name__, error.args[0]
    ('KeyError', "metric 'mine' (plugin 'p', provider p 1.0): KeyError: 'x'")
    """
    message = f"{who}: {type(exc).__name__}: {exc}"
    try:
        named = type(exc)(message)
    except Exception:
        return PluginError(message)
    if not isinstance(named, Exception) or str(named) in ("", "None"):
        return PluginError(message)
    return named


def _is_builtin(component: Any) -> bool:
    return type(component).__module__.startswith(f"{__package__}.")


@contextlib.contextmanager
def component_errors(component: Any) -> Iterator[None]:
    """Name the component (and its plugin) in any exception raised inside.

    The built-in components name themselves in their messages and are left
    alone; an exception raised by any other component is raised again as
    :func:`named_error` of it, chained to the original.

    Parameters
    ----------
    component : object
        The metric, extractor or rule being called.

    Yields
    ------
    None
    """
    try:
        yield
    except Exception as exc:
        if _is_builtin(component) or getattr(exc, "_sk_metameta_named", False):
            raise
        error = named_error(exc, describe_component(component))
        error._sk_metameta_named = True  # named once, however deep the calls
        raise error from exc


def resolve_component(
    spec: Any,
    kind: str,
    base: type | None = None,
    *,
    param: str,
    wrap_callable: Callable[[Callable], Any] | None = None,
    params: dict | None = None,
) -> Any:
    """Resolve ``spec`` to a fresh component of ``kind``.

    Parameters
    ----------
    spec : str, component, component class or callable
        A registered name, a component (cloned, never mutated), a component class
        (built with no argument) or a plain function (wrapped by ``wrap_callable``).
    kind : {"metric", "task_features", "transfer_rule"}
        The component kind (a key of
        :data:`~sk_metameta.hookspecs.COMPONENT_KINDS`).
    base : type, default=None
        Base class of the components; default the kind's.
    param : str
        Name of the estimator parameter, used in error messages.
    wrap_callable : callable, default=None
        Wraps a plain function into a component; ``None`` refuses functions.
    params : dict, default=None
        Keyword arguments for a component built from a name.

    Returns
    -------
    component : instance of the kind's base class
    """
    base = COMPONENT_KINDS[kind].base if base is None else base
    if isinstance(spec, str):
        registry = get_registry()
        try:
            registered = registry.get(kind, spec)
        except ValueError as exc:
            raise ValueError(f"{param}={spec!r}: {exc}") from None
        except PluginError as exc:
            raise PluginError(f"{param}={spec!r}: {exc}") from None
        return registered.create(**(params or {}))
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
    from .metrics.base import CallableMetric

    return resolve_component(spec, "metric", param=param, wrap_callable=CallableMetric)


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
    from .task_features.base import CallableTaskFeatures

    return resolve_component(
        spec, "task_features", param=param, wrap_callable=CallableTaskFeatures
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
    return resolve_component(spec, "transfer_rule", param=param)
