"""The hooks a plugin implements to register components with sk-metameta.

A plugin is any module (or object) whose functions are decorated with
:data:`hookimpl` and named after the hooks below. It is found through the
``sk_metameta`` entry-point group of its installed distribution::

    [project.entry-points.sk_metameta]
    my_plugin = "my_package.plugin"

Each hook takes no argument and returns an iterable of records
(:class:`~sk_metameta.plugins.MetricRecord`,
:class:`~sk_metameta.plugins.TaskFeatureRecord`,
:class:`~sk_metameta.plugins.TransferRuleRecord`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .plugins import MetricRecord, TaskFeatureRecord, TransferRuleRecord

PROJECT_NAME = "sk_metameta"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = [
    "PROJECT_NAME",
    "hookimpl",
    "hookspec",
    "sk_metameta_register_metrics",
    "sk_metameta_register_task_features",
    "sk_metameta_register_transfer_rules",
]


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
        (``TransferRegressor(metric="name")``).
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
