"""Task metrics: distances between tasks, on task features or on samples."""

from ._feature_metrics import (
    AngularMetric,
    ChebyshevMetric,
    CosineMetric,
    EuclideanMetric,
    ManhattanMetric,
    MinkowskiMetric,
    StandardizedEuclideanMetric,
)
from ._learned import LearnedMetric
from ._sample_metrics import EnergyMetric, MMDMetric, SlicedWassersteinMetric
from .base import (
    AXIOMS,
    DIVERGENCE,
    METRIC,
    PSEUDOMETRIC,
    SEMIMETRIC,
    BaseTaskMetric,
    CallableMetric,
    FeatureMetric,
    FittedFeatureMetric,
    SampleMetric,
    axiom_class,
)

#: Metric classes registered by the built-in plugin.
BUILTIN_METRICS = [
    EuclideanMetric,
    ManhattanMetric,
    ChebyshevMetric,
    MinkowskiMetric,
    CosineMetric,
    AngularMetric,
    StandardizedEuclideanMetric,
    MMDMetric,
    EnergyMetric,
    SlicedWassersteinMetric,
    LearnedMetric,
]

__all__ = [
    "AXIOMS",
    "BUILTIN_METRICS",
    "DIVERGENCE",
    "METRIC",
    "PSEUDOMETRIC",
    "SEMIMETRIC",
    "AngularMetric",
    "BaseTaskMetric",
    "CallableMetric",
    "ChebyshevMetric",
    "CosineMetric",
    "EnergyMetric",
    "EuclideanMetric",
    "FeatureMetric",
    "FittedFeatureMetric",
    "LearnedMetric",
    "MMDMetric",
    "ManhattanMetric",
    "MinkowskiMetric",
    "SampleMetric",
    "SlicedWassersteinMetric",
    "StandardizedEuclideanMetric",
    "axiom_class",
]
