"""Task metrics: distances between tasks, on task features or on samples."""

from ._feature_metrics import EuclideanMetric
from .base import (
    AXIOMS,
    DIVERGENCE,
    METRIC,
    PSEUDOMETRIC,
    SEMIMETRIC,
    BaseTaskMetric,
    CallableMetric,
    FeatureMetric,
    SampleMetric,
    axiom_class,
)

#: Metric classes registered by the built-in plugin.
BUILTIN_METRICS = [EuclideanMetric]

__all__ = [
    "AXIOMS",
    "BUILTIN_METRICS",
    "DIVERGENCE",
    "METRIC",
    "PSEUDOMETRIC",
    "SEMIMETRIC",
    "BaseTaskMetric",
    "CallableMetric",
    "EuclideanMetric",
    "FeatureMetric",
    "SampleMetric",
    "axiom_class",
]
