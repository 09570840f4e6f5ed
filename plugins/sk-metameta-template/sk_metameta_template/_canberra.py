"""Canberra distance between task-feature vectors."""

from __future__ import annotations

from typing import ClassVar

from scipy.spatial.distance import cdist

from sk_metameta.metrics import METRIC, FeatureMetric

__all__ = ["CanberraMetric"]


class CanberraMetric(FeatureMetric):
    """Canberra distance between task-feature vectors.

    ``d(a, b) = sum_i |a_i - b_i| / (|a_i| + |b_i|)``, a term being ``0`` when
    ``a_i = b_i = 0``. Each task feature contributes at most 1 whatever its
    scale, so no feature dominates because of its units; differences near zero
    weigh more than the same differences far from it.

    Each term is a metric on the real line, so the sum is a metric on vectors:
    it declares every axiom (``METRIC``), which
    :func:`sk_metameta.testing.check_metric` verifies.

    See Also
    --------
    sk_metameta.metrics.EuclideanMetric : The default task metric.

    Examples
    --------
    >>> from sk_metameta_template import CanberraMetric
    >>> CanberraMetric().pairwise([[1.0, 0.0], [3.0, 0.0], [-1.0, 2.0]]).round(3)
    array([[0. , 0.5, 2. ],
           [0.5, 0. , 2. ],
           [2. , 2. , 0. ]])
    """

    name: ClassVar[str] = "canberra"
    summary: ClassVar[str] = (
        "Canberra distance: feature differences relative to the features' sizes."
    )
    axioms: ClassVar[frozenset] = METRIC

    def _pairwise(self, A, B):
        # A and B are validated by FeatureMetric.pairwise: finite 2-D float arrays
        # with the same number of columns
        return cdist(A, B, "canberra")
