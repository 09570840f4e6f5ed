"""The plugin module named by the ``sk_metameta`` entry point of this package.

sk-metameta calls each function below (a hook: the name must be exactly the
hook's, and the function must carry ``@hookimpl``) once, when it builds its
registry, and registers the records it returns. A hook this plugin does not need
is simply left out.
"""

from __future__ import annotations

from sk_metameta.hookspecs import (
    MetricRecord,
    TaskFeatureRecord,
    TransferRuleRecord,
    hookimpl,
)

from ._canberra import CanberraMetric
from ._quantiles import QuantileFeatures
from ._uniform import UniformNeighbors

__all__ = [
    "sk_metameta_register_metrics",
    "sk_metameta_register_task_features",
    "sk_metameta_register_transfer_rules",
]


@hookimpl
def sk_metameta_register_metrics():
    """Register the ``canberra`` task metric.

    Returns
    -------
    records : list of MetricRecord
    """
    return [MetricRecord(CanberraMetric.name, CanberraMetric)]


@hookimpl
def sk_metameta_register_task_features():
    """Register the ``quantiles`` task feature extractor.

    Returns
    -------
    records : list of TaskFeatureRecord
    """
    return [TaskFeatureRecord(QuantileFeatures.name, QuantileFeatures)]


@hookimpl
def sk_metameta_register_transfer_rules():
    """Register the ``uniform`` transfer rule.

    Returns
    -------
    records : list of TransferRuleRecord
    """
    return [TransferRuleRecord(UniformNeighbors.name, UniformNeighbors)]
