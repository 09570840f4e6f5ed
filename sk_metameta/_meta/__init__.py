"""MetricMetaEstimator, split by job: per-task fits, responses, strengths, mixing."""

from ._estimator import MetricMetaEstimator

__all__ = ["MetricMetaEstimator"]
