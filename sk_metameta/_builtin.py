"""The built-in components, registered through the same hooks as any plugin."""

from __future__ import annotations

from .hookspecs import MetricRecord, TaskFeatureRecord, TransferRuleRecord, hookimpl


@hookimpl
def sk_metameta_register_metrics():
    """Register the built-in task metrics."""
    from .metrics import BUILTIN_METRICS

    return [MetricRecord(cls.name, cls) for cls in BUILTIN_METRICS]


@hookimpl
def sk_metameta_register_task_features():
    """Register the built-in task feature extractors."""
    from .task_features import BUILTIN_TASK_FEATURES

    return [TaskFeatureRecord(cls.name, cls) for cls in BUILTIN_TASK_FEATURES]


@hookimpl
def sk_metameta_register_transfer_rules():
    """Register the built-in transfer rules."""
    from .transfer import BUILTIN_TRANSFER_RULES

    return [TransferRuleRecord(cls.name, cls) for cls in BUILTIN_TRANSFER_RULES]
