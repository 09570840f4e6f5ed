"""Conformance check of a whole plugin: its hooks, its records, its components."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Any

import hypothesis
import pluggy

from .. import hookspecs
from ..exceptions import PluginError, PluginLoadWarning
from ..hookspecs import COMPONENT_KINDS, PROJECT_NAME, kind_of
from ..plugins import Registry
from ._common import fail
from ._metric_checks import check_metric
from ._task_feature_checks import check_task_features
from ._transfer_checks import check_transfer_rule

__all__ = ["check_component", "check_plugin"]

_HOOK_PREFIX = f"{PROJECT_NAME}_"
#: The check of each component kind.
_CHECKS = {
    "metric": check_metric,
    "task_features": check_task_features,
    "transfer_rule": check_transfer_rule,
}


def check_component(
    component: Any,
    *,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
) -> None:
    """Run the check that fits a component: metric, task features or rule.

    Parameters
    ----------
    component : BaseTaskMetric, BaseTaskFeatures or BaseTransferRule
        An instance of a component.
    max_examples : int, default=None
        Number of Hypothesis examples of the check; ``None`` uses the active
        settings profile.
    settings : hypothesis.settings, default=None
        Settings to start from instead of the active profile (for example
        ``settings(phases=[Phase.generate])`` to skip shrinking).

    Raises
    ------
    AssertionError
        If the component breaks its contract.
    TypeError
        If ``component`` is not a component.

    See Also
    --------
    check_metric, check_task_features, check_transfer_rule : The checks.

    Examples
    --------
    >>> from sk_metameta.task_features import MomentFeatures
    >>> from sk_metameta.testing import check_component
    >>> check_component(MomentFeatures(), max_examples=5)
    """
    kind = kind_of(component)
    if kind is None:
        raise TypeError(
            f"{component!r} is not a task metric, task feature extractor or "
            "transfer rule."
        )
    _CHECKS[kind.name](component, max_examples=max_examples, settings=settings)


def check_plugin(
    plugin: ModuleType | object | str,
    *,
    components: bool = True,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
) -> list[tuple[str, str]]:
    """Check a plugin: hooks, records, and every component it registers.

    The check fails when the plugin

    - defines a hook implementation whose name is not a hook of
      :mod:`sk_metameta.hookspecs` (a misspelling, caught by pluggy's
      ``check_pending``), or a function named like a hook but not marked with
      :data:`~sk_metameta.hookspecs.hookimpl` (pluggy would silently ignore it);
    - returns from a hook something other than an iterable of the hook's record
      type, or registers one name twice, or a name a built-in already has;
    - registers a factory that does not build a component of the hook's kind;
    - registers a component that fails :func:`check_metric`,
      :func:`check_task_features` or :func:`check_transfer_rule`;
    - registers nothing at all.

    Parameters
    ----------
    plugin : module, object or str
        The plugin (what its entry point names), or the dotted name of its module.
    components : bool, default=True
        Also run the check of every component; ``False`` checks the hooks, the
        records and that every factory builds a component of the right kind.
    max_examples : int, default=None
        Number of Hypothesis examples of each component check; ``None`` uses the
        active settings profile.
    settings : hypothesis.settings, default=None
        Settings to start from instead of the active profile (for example
        ``settings(phases=[Phase.generate])`` to skip shrinking).

    Returns
    -------
    checked : list of (str, str)
        ``(kind, name)`` of every component the plugin registers.

    Raises
    ------
    AssertionError
        Naming the plugin, and the hook, record or component at fault.

    See Also
    --------
    check_component : The check of one component.

    Examples
    --------
    >>> from sk_metameta.metrics import EuclideanMetric
    >>> from sk_metameta.hookspecs import MetricRecord, hookimpl
    >>> from sk_metameta.testing import check_plugin
    >>> class MyPlugin:
    ...     @hookimpl
    ...     def sk_metameta_register_metrics(self):
    ...         return [MetricRecord("my_euclidean", EuclideanMetric)]
    >>> check_plugin(MyPlugin(), max_examples=5)
    [('metric', 'my_euclidean')]

    A misspelled hook is an error:

    >>> class Misspelled:
    ...     @hookimpl
    ...     def sk_metameta_register_metric(self):
    ...         return [MetricRecord("my_euclidean", EuclideanMetric)]
    >>> try:
    ...     check_plugin(Misspelled())
    ... except AssertionError as exc:
    ...     print(exc)
    plugin 'Misspelled': unknown hook 'sk_metameta_register_metric': the hooks are ...
    """
    if isinstance(plugin, str):
        plugin = importlib.import_module(plugin)
    name = getattr(plugin, "__name__", type(plugin).__name__)
    who = f"plugin {name!r}"
    _check_hook_names(plugin, who)
    records = _collect_records(plugin, who)
    if not any(records.values()):
        fail(who, "registers nothing", "no hook returned a component record")
    created = [
        (kind, record.name, _create(record, kind, who))
        for kind, kind_records in records.items()
        for record in kind_records
    ]
    _check_no_clash(plugin, who)
    for kind, name, component in created if components else ():
        try:
            check_component(component, max_examples=max_examples, settings=settings)
        except AssertionError as exc:
            raise AssertionError(f"{who}, {kind} {name!r}: {exc}") from exc
    return [(kind, name) for kind, name, _ in created]


def _hook_attributes(plugin: Any) -> dict[str, Any]:
    """Attributes of ``plugin`` named like hooks (with the project prefix)."""
    return {
        attr: getattr(plugin, attr, None)
        for attr in dir(plugin)
        if attr.startswith(_HOOK_PREFIX)
    }


def _check_hook_names(plugin: Any, who: str) -> None:
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    known = [kind.hook for kind in COMPONENT_KINDS.values()]
    try:
        pm.register(plugin, name="plugin-under-check")
    except Exception as exc:  # PluginValidationError: wrong arguments, ...
        fail(who, "hooks do not fit the hook specifications", str(exc))
    for attr, value in _hook_attributes(plugin).items():
        if attr not in known:
            fail(
                who,
                f"unknown hook {attr!r}",
                f"the hooks are {known}; a misspelled hook is never called",
            )
        if pm.parse_hookimpl_opts(plugin, attr) is None:
            fail(
                who,
                f"hook {attr!r} is not marked",
                f"decorate {getattr(value, '__name__', attr)} with "
                "sk_metameta.hookspecs.hookimpl, or pluggy never calls it",
            )
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # a misspelling without the prefix
        fail(who, "unknown hook", f"{exc}; the hooks are {known}")


def _collect_records(plugin: Any, who: str) -> dict[str, list]:
    records: dict[str, list] = {}
    hooks = _hook_attributes(plugin)
    for kind, spec in COMPONENT_KINDS.items():
        hook_name, record_type = spec.hook, spec.record
        records[kind] = []
        if hook_name not in hooks:
            continue
        try:
            result = hooks[hook_name]()
            items = list(result or ())
        except Exception as exc:
            raise AssertionError(
                f"{who}: {hook_name} raised {type(exc).__name__}: {exc}"
            ) from exc
        names = set()
        for record in items:
            if not isinstance(record, record_type):
                fail(
                    who,
                    hook_name,
                    f"returned {record!r}; expected {record_type.__name__} records",
                )
            if record.name in names:
                fail(who, hook_name, f"registers the name {record.name!r} twice")
            names.add(record.name)
            records[kind].append(record)
    return records


def _check_no_clash(plugin: Any, who: str) -> None:
    from .. import _builtin

    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)
        try:
            Registry.from_plugins(plugin, builtins=plugin is not _builtin)
        except (PluginError, PluginLoadWarning) as exc:
            raise AssertionError(f"{who}: {exc}") from exc


def _create(record: Any, kind: str, who: str) -> Any:
    try:
        component = record.factory()
    except Exception as exc:
        raise AssertionError(
            f"{who}: {kind} {record.name!r}: factory() with no argument raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    base = COMPONENT_KINDS[kind].base
    if not isinstance(component, base):
        fail(
            who,
            f"{kind} {record.name!r}",
            f"factory() built {component!r}, not a {base.__name__}",
        )
    return component
