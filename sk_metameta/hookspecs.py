"""The plugin contract: markers, hook specifications, records and component kinds.

A plugin is any module (or object) whose functions are decorated with
:data:`hookimpl` and named after the hooks below. It is found through the
``sk_metameta`` entry-point group of its installed distribution::

    [project.entry-points.sk_metameta]
    my_plugin = "my_package.plugin"

Each hook takes no argument and returns an iterable of records
(:class:`MetricRecord`, :class:`TaskFeatureRecord`, :class:`TransferRuleRecord`),
one per component. Everything a plugin imports from sk-metameta to register
itself lives in this module::

    from sk_metameta.hookspecs import MetricRecord, hookimpl

:data:`COMPONENT_KINDS` is the one table of the component kinds: for each, its
hook, its record type and the base class every component of the kind derives
from. The registry (:mod:`sk_metameta.plugins`), the resolution of estimator
parameters, the conformance kit and the docs read it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import pluggy

__all__ = [
    "COMPONENT_KINDS",
    "PROJECT_NAME",
    "ComponentKind",
    "ComponentRecord",
    "MetricRecord",
    "TaskFeatureRecord",
    "TransferRuleRecord",
    "hookimpl",
    "hookspec",
    "kind_of",
    "normalize_name",
    "sk_metameta_register_metrics",
    "sk_metameta_register_task_features",
    "sk_metameta_register_transfer_rules",
]

#: Name of the pluggy project and of the entry-point group.
PROJECT_NAME = "sk_metameta"

#: Marks the hook specifications below.
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a plugin's hook implementations: ``@hookimpl`` on each hook function.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


def normalize_name(name: str) -> str:
    """Normalise a component name: lower case, ``-`` and spaces become ``_``.

    Parameters
    ----------
    name : str
        A component name as written by a plugin or a user.

    Returns
    -------
    name : str

    Examples
    --------
    >>> normalize_name(" My-Metric name")
    'my_metric_name'
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a component name must be a non-empty str, got {name!r}.")
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _summary_of(factory: Callable[..., Any]) -> str:
    summary = getattr(factory, "summary", "")
    if isinstance(summary, str) and summary:
        return summary
    doc = inspect.getdoc(factory) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


@dataclass(frozen=True)
class ComponentRecord:
    """Base of the records a hook returns: a component's name and factory.

    Plugins use the subclass of their hook (:class:`MetricRecord`,
    :class:`TaskFeatureRecord`, :class:`TransferRuleRecord`).

    Parameters
    ----------
    name : str
        Name users select the component by; normalised to lower case with ``_``.
    factory : callable
        Usually the component class; ``factory(**params)`` returns the component,
        and ``factory()`` with no argument must work.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or the first
        line of its docstring.
    """

    name: str
    factory: Callable[..., Any]
    summary: str = ""
    #: The component kind of the record type (a key of :data:`COMPONENT_KINDS`).
    kind: ClassVar[str] = ""

    def __post_init__(self):
        object.__setattr__(self, "name", normalize_name(self.name))
        if not callable(self.factory):
            raise TypeError(
                f"{type(self).__name__} {self.name!r}: factory must be callable "
                f"(a component class), got {self.factory!r}."
            )
        if not self.summary:
            object.__setattr__(self, "summary", _summary_of(self.factory))


@dataclass(frozen=True)
class MetricRecord(ComponentRecord):
    """A task metric offered by a plugin.

    Parameters
    ----------
    name : str
        Name users select the metric by; normalised to lower case with ``_``.
    factory : callable
        Usually the metric class; ``factory(**params)`` returns the metric.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or docstring.

    Examples
    --------
    >>> from sk_metameta.hookspecs import MetricRecord
    >>> from sk_metameta.metrics import EuclideanMetric
    >>> MetricRecord("My-Euclidean", EuclideanMetric).name
    'my_euclidean'
    """

    kind: ClassVar[str] = "metric"


@dataclass(frozen=True)
class TaskFeatureRecord(ComponentRecord):
    """A task feature extractor offered by a plugin.

    Parameters
    ----------
    name : str
        Name users select the extractor by.
    factory : callable
        Usually the extractor class; ``factory(**params)`` returns the extractor.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or docstring.
    """

    kind: ClassVar[str] = "task_features"


@dataclass(frozen=True)
class TransferRuleRecord(ComponentRecord):
    """A transfer rule offered by a plugin.

    Parameters
    ----------
    name : str
        Name users select the rule by.
    factory : callable
        Usually the rule class; ``factory(**params)`` returns the rule.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or docstring.
    """

    kind: ClassVar[str] = "transfer_rule"


@dataclass(frozen=True)
class ComponentKind:
    """One kind of component: its hook, its record type and its base class.

    Parameters
    ----------
    name : str
        The kind, as users and the registry write it (``"metric"``).
    hook : str
        Name of the hook that registers components of this kind.
    record : type
        The record type that hook returns.
    base_path : str
        ``"module:Class"`` of the base class of every component of the kind,
        imported when first needed (the components import numpy and
        scikit-learn; the contract itself does not).

    Examples
    --------
    >>> kind = COMPONENT_KINDS["metric"]
    >>> kind.hook, kind.record.__name__, kind.base.__name__
    ('sk_metameta_register_metrics', 'MetricRecord', 'BaseTaskMetric')
    """

    name: str
    hook: str
    record: type
    base_path: str

    @property
    def base(self) -> type:
        """The base class every component of this kind derives from."""
        module, _, attribute = self.base_path.partition(":")
        return getattr(importlib.import_module(module), attribute)

    @property
    def label(self) -> str:
        """The kind as messages write it: ``"transfer rule"``."""
        return self.name.replace("_", " ")


#: Every component kind, by name: ``"metric"``, ``"task_features"``,
#: ``"transfer_rule"``.
COMPONENT_KINDS: dict[str, ComponentKind] = {
    kind.name: kind
    for kind in (
        ComponentKind(
            "metric",
            "sk_metameta_register_metrics",
            MetricRecord,
            "sk_metameta.metrics.base:BaseTaskMetric",
        ),
        ComponentKind(
            "task_features",
            "sk_metameta_register_task_features",
            TaskFeatureRecord,
            "sk_metameta.task_features.base:BaseTaskFeatures",
        ),
        ComponentKind(
            "transfer_rule",
            "sk_metameta_register_transfer_rules",
            TransferRuleRecord,
            "sk_metameta.transfer.base:BaseTransferRule",
        ),
    )
}


def kind_of(component: Any) -> ComponentKind | None:
    """The kind of a component instance, or ``None`` for anything else.

    Parameters
    ----------
    component : object
        Any object.

    Returns
    -------
    kind : ComponentKind or None

    Examples
    --------
    >>> from sk_metameta.metrics import EuclideanMetric
    >>> kind_of(EuclideanMetric()).name
    'metric'
    >>> kind_of({}) is None
    True
    """
    for kind in COMPONENT_KINDS.values():
        if isinstance(component, kind.base):
            return kind
    return None


@hookspec
def sk_metameta_register_metrics() -> Iterable[MetricRecord]:
    """Register task metrics.

    Returns
    -------
    records : iterable of MetricRecord
        One record per metric. ``record.factory(**params)`` must return an
        instance of :class:`~sk_metameta.metrics.FeatureMetric` (distances between
        task-feature vectors) or :class:`~sk_metameta.metrics.SampleMetric`
        (distances between the tasks' samples) that declares its axioms.
        The record's name is how users select the metric
        (``TransferRegressor(metric="name")``). A metric that learns from the
        fitted tasks derives from
        :class:`~sk_metameta.metrics.FittedFeatureMetric`: every estimator calls
        its ``fit(task_features, task_models)`` before the neighbour search
        (``task_models``: each fitted task's model as a vector, whose Euclidean
        distances say how differently the tasks' models predict).
    """


@hookspec
def sk_metameta_register_task_features() -> Iterable[TaskFeatureRecord]:
    """Register task feature extractors.

    Returns
    -------
    records : iterable of TaskFeatureRecord
        One record per extractor. ``record.factory(**params)`` must return an
        instance of :class:`~sk_metameta.task_features.BaseTaskFeatures`, which maps
        all tasks at once to an array of shape ``(n_tasks, n_task_features)`` and
        declares whether it needs ``y``.
    """


@hookspec
def sk_metameta_register_transfer_rules() -> Iterable[TransferRuleRecord]:
    """Register transfer rules.

    Returns
    -------
    records : iterable of TransferRuleRecord
        One record per rule. ``record.factory(**params)`` must return an instance
        of :class:`~sk_metameta.transfer.BaseTransferRule`, which combines the
        knowledge of source tasks into a model for each target task and declares
        what it transfers (parameters, instances or predictions).
    """
