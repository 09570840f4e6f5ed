"""Metrics between task-feature vectors."""

from __future__ import annotations

from typing import ClassVar

from scipy.spatial.distance import cdist

from .base import METRIC, FeatureMetric

__all__ = ["EuclideanMetric"]


class EuclideanMetric(FeatureMetric):
    """Euclidean distance between task-feature vectors.

    Examples
    --------
    >>> EuclideanMetric().pairwise([[0.0, 0.0], [3.0, 4.0]]).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """

    name: ClassVar[str] = "euclidean"
    summary: ClassVar[str] = "Euclidean distance between task-feature vectors."
    axioms: ClassVar[frozenset] = METRIC

    def _pairwise(self, A, B):
        return cdist(A, B, "euclidean")
