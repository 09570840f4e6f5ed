r"""Metrics between task-feature vectors.

Every metric here compares the rows of two task-feature matrices ``A`` and ``B``
(one row per task) and returns the ``(len(A), len(B))`` matrix of distances. Each
distance is computed so that the axioms a metric declares hold exactly where the
mathematics allows it: identical rows are at distance exactly ``0`` and
``d(a, b) == d(b, a)`` bit for bit (every formula below is symmetric in its two
rows when evaluated in floating point).

The :math:`L_p` distances are homogeneous, :math:`d(ca, cb) = c\, d(a, b)`: they are
computed on the rows divided by a power of two that brings them below 1 (an exact
operation, after which no power overflows or underflows; rows between about
``1e-60`` and ``1e60`` are left as they are) and multiplied back, so they are finite
and exact at any scale of the task features; distances beyond the float range raise
a ``ValueError``.
"""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
from scipy.spatial.distance import cdist

from .._scale import exponent
from .base import METRIC, PSEUDOMETRIC, FeatureMetric

__all__ = [
    "AngularMetric",
    "ChebyshevMetric",
    "CosineMetric",
    "EuclideanMetric",
    "ManhattanMetric",
    "MinkowskiMetric",
    "StandardizedEuclideanMetric",
]


def _homogeneous(A, B, name: str, metric: str, **kwargs) -> np.ndarray:
    """``cdist`` of a distance of degree 1, on rows rescaled by a power of two."""
    same = B is A
    e = exponent(max(np.abs(A).max(), 0.0 if same else np.abs(B).max()))
    if e == 0:
        return cdist(A, B, metric, **kwargs)
    As = np.ldexp(A, -e)
    D = cdist(As, As if same else np.ldexp(B, -e), metric, **kwargs)
    with np.errstate(over="ignore"):
        D = np.ldexp(D, e)
    if not np.isfinite(D).all():
        raise ValueError(
            f"metric {name!r}: the distances overflow the float range (the task "
            f"features reach about 2**{e}); scale the task features first."
        )
    return D


class EuclideanMetric(FeatureMetric):
    r"""Euclidean distance between task-feature vectors.

    .. math:: d(a, b) = \Big(\sum_k (a_k - b_k)^2\Big)^{1/2}

    A metric: all five axioms hold.

    See Also
    --------
    StandardizedEuclideanMetric : Euclidean distance after scaling each feature.
    MinkowskiMetric : The :math:`L_p` family it belongs to (``p=2``).

    Examples
    --------
    >>> from sk_metameta.metrics import EuclideanMetric
    >>> EuclideanMetric().pairwise([[0.0, 0.0], [3.0, 4.0]]).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """

    name: ClassVar[str] = "euclidean"
    summary: ClassVar[str] = "Euclidean distance between task-feature vectors."
    axioms: ClassVar[frozenset] = METRIC

    def _pairwise(self, A, B):
        return _homogeneous(A, B, self.name, "euclidean")


class ManhattanMetric(FeatureMetric):
    r"""Manhattan (city block, :math:`L_1`) distance between task-feature vectors.

    .. math:: d(a, b) = \sum_k |a_k - b_k|

    A metric: all five axioms hold.

    See Also
    --------
    MinkowskiMetric : The :math:`L_p` family it belongs to (``p=1``).

    Examples
    --------
    >>> from sk_metameta.metrics import ManhattanMetric
    >>> ManhattanMetric().pairwise([[0.0, 0.0], [3.0, 4.0]]).tolist()
    [[0.0, 7.0], [7.0, 0.0]]
    """

    name: ClassVar[str] = "manhattan"
    summary: ClassVar[str] = "Manhattan (L1) distance between task-feature vectors."
    axioms: ClassVar[frozenset] = METRIC

    def _pairwise(self, A, B):
        return _homogeneous(A, B, self.name, "cityblock")


class ChebyshevMetric(FeatureMetric):
    r"""Chebyshev (:math:`L_\infty`) distance between task-feature vectors.

    .. math:: d(a, b) = \max_k |a_k - b_k|

    A metric: all five axioms hold.

    See Also
    --------
    MinkowskiMetric : The :math:`L_p` family, of which this is the limit
        :math:`p \to \infty`.

    Examples
    --------
    >>> from sk_metameta.metrics import ChebyshevMetric
    >>> ChebyshevMetric().pairwise([[0.0, 0.0], [3.0, 4.0]]).tolist()
    [[0.0, 4.0], [4.0, 0.0]]
    """

    name: ClassVar[str] = "chebyshev"
    summary: ClassVar[str] = (
        "Chebyshev (L-infinity) distance between task-feature vectors."
    )
    axioms: ClassVar[frozenset] = METRIC

    def _pairwise(self, A, B):
        return _homogeneous(A, B, self.name, "chebyshev")


class MinkowskiMetric(FeatureMetric):
    r"""Minkowski (:math:`L_p`) distance between task-feature vectors.

    .. math:: d(a, b) = \Big(\sum_k |a_k - b_k|^p\Big)^{1/p}, \qquad p \ge 1

    A metric for every ``p >= 1`` (``p = inf`` is the Chebyshev distance). For
    ``p < 1`` the formula breaks the triangle inequality (with ``p = 1/2``,
    ``d((0, 0), (1, 1)) = 4`` but ``d((0, 0), (1, 0)) + d((1, 0), (1, 1)) = 2``),
    so such ``p`` is refused.

    Parameters
    ----------
    p : float, default=2.0
        Order of the norm, ``1 <= p <= inf``.

    See Also
    --------
    ManhattanMetric : ``p=1``.
    EuclideanMetric : ``p=2``.
    ChebyshevMetric : ``p=inf``.

    Examples
    --------
    >>> from sk_metameta.metrics import MinkowskiMetric
    >>> MinkowskiMetric(p=3).pairwise([[0.0, 0.0], [1.0, 2.0]]).round(4).tolist()
    [[0.0, 2.0801], [2.0801, 0.0]]
    >>> MinkowskiMetric(p=0.5).pairwise([[0.0, 0.0]])
    Traceback (most recent call last):
    ...
    ValueError: metric 'minkowski': p must be a number >= 1 (or inf), got 0.5; ...
    """

    name: ClassVar[str] = "minkowski"
    summary: ClassVar[str] = "Minkowski (Lp, p >= 1) distance between task features."
    axioms: ClassVar[frozenset] = METRIC

    def __init__(self, p=2.0):
        self.p = p

    def _pairwise(self, A, B):
        p = self.p
        if (
            isinstance(p, bool)
            or not isinstance(p, numbers.Real)
            or np.isnan(p)
            or p < 1
        ):
            raise ValueError(
                f"metric {self.name!r}: p must be a number >= 1 (or inf), got {p!r}; "
                "for p < 1 the Minkowski formula breaks the triangle inequality, "
                "so it is not a metric."
            )
        if np.isinf(p):
            return _homogeneous(A, B, self.name, "chebyshev")
        return _homogeneous(A, B, self.name, "minkowski", p=float(p))


def _directions(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``A`` scaled to unit norm, and the mask of zero rows (kept at 0)."""
    # Divide by the largest entry first, so that tiny or huge rows do not
    # underflow or overflow when squared.
    largest = np.abs(A).max(axis=1)
    zero = largest == 0
    A = A / np.where(zero, 1.0, largest)[:, None]
    norms = np.sqrt(np.einsum("ij,ij->i", A, A))
    return A / np.where(zero, 1.0, norms)[:, None], zero


class CosineMetric(FeatureMetric):
    r"""Cosine distance, one minus the cosine of the angle between task features.

    .. math::

        d(a, b) = 1 - \frac{a \cdot b}{\|a\| \, \|b\|}
                = \tfrac12 \Big\| \frac{a}{\|a\|} - \frac{b}{\|b\|} \Big\|^2

    The right-hand form is the one computed: it is exactly ``0`` for identical
    rows and exactly symmetric, where the left-hand form leaves rounding noise.
    Distances lie in ``[0, 2]``.

    It compares directions only, so ``a`` and ``2 a`` are at distance ``0``, and
    it breaks the triangle inequality (``d(e1, e2) = 1`` but ``d(e1, u) + d(u, e2)
    = 2 - \sqrt 2`` for ``u = (e1 + e2) / \sqrt 2``). It declares non-negativity,
    zero self-distance and symmetry, nothing more; :class:`AngularMetric` is the
    matching pseudometric.

    The zero vector has no direction. Its cosine similarity with any non-zero
    vector is taken as ``0`` (distance ``1``, as in
    :func:`sklearn.metrics.pairwise.cosine_distances`) and with itself as ``1``
    (distance ``0``); the result is never NaN.

    See Also
    --------
    AngularMetric : The angle between task features, a pseudometric.

    Examples
    --------
    >>> from sk_metameta.metrics import CosineMetric
    >>> A = [[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, 0.0]]
    >>> CosineMetric().pairwise(A).tolist()
    [[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0],
     [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]]
    """

    name: ClassVar[str] = "cosine"
    summary: ClassVar[str] = "One minus the cosine similarity of task-feature vectors."
    axioms: ClassVar[frozenset] = frozenset(
        {"non_negativity", "zero_self_distance", "symmetry"}
    )

    def _pairwise(self, A, B):
        U, zero_a = _directions(A)
        V, zero_b = _directions(B)
        D = 0.5 * cdist(U, V, "sqeuclidean")
        # The zero vector: similarity 0 with any direction, 1 with itself.
        D[zero_a, :] = 1.0
        D[:, zero_b] = 1.0
        D[np.ix_(zero_a, zero_b)] = 0.0
        return D


class AngularMetric(FeatureMetric):
    r"""Angle between task-feature vectors, as a fraction of :math:`\pi`.

    .. math::

        d(a, b) = \frac{1}{\pi} \arccos \frac{a \cdot b}{\|a\| \, \|b\|}
                = \frac{2}{\pi} \arctan \frac{\|u - v\|}{\|u + v\|},
        \qquad u = \frac{a}{\|a\|}, \; v = \frac{b}{\|b\|}

    The arc-tangent form is the one computed: it is accurate for nearly parallel
    and nearly opposite vectors, where :math:`\arccos` loses half the digits.
    Distances lie in ``[0, 1]``.

    The great-circle distance between directions is a metric on the sphere, so
    this is a pseudometric on task-feature vectors: ``a`` and ``2 a`` are at
    distance ``0``, and every other axiom, the triangle inequality included,
    holds. The zero vector is placed at distance ``1/2`` from every non-zero
    vector (cosine similarity ``0``, as in :class:`CosineMetric`) and ``0`` from
    itself, which keeps all the declared axioms; the result is never NaN.

    See Also
    --------
    CosineMetric : One minus the cosine of the same angle (not a pseudometric).

    Examples
    --------
    >>> from sk_metameta.metrics import AngularMetric
    >>> A = [[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]]
    >>> AngularMetric().pairwise(A).tolist()
    [[0.0, 0.5, 1.0, 0.5], [0.5, 0.0, 0.5, 0.5],
     [1.0, 0.5, 0.0, 0.5], [0.5, 0.5, 0.5, 0.0]]
    """

    name: ClassVar[str] = "angular"
    summary: ClassVar[str] = (
        "Angle between task-feature vectors over pi (a pseudometric on directions)."
    )
    axioms: ClassVar[frozenset] = PSEUDOMETRIC

    def _pairwise(self, A, B):
        U, zero_a = _directions(A)
        V, zero_b = _directions(B)
        chord = cdist(U, V, "euclidean")  # |u - v|
        cochord = cdist(U, -V, "euclidean")  # |u + v|
        D = np.arctan2(chord, cochord) * (2.0 / np.pi)
        D[zero_a, :] = 0.5
        D[:, zero_b] = 0.5
        D[np.ix_(zero_a, zero_b)] = 0.0
        return D


class StandardizedEuclideanMetric(FeatureMetric):
    r"""Euclidean distance after dividing each task feature by its standard deviation.

    .. math:: d(a, b) = \Big(\sum_k \frac{(a_k - b_k)^2}{v_k}\Big)^{1/2}

    Task features on large scales no longer drown the others.

    Parameters
    ----------
    variances : array-like of shape (n_task_features,) or float, default=None
        The variances :math:`v_k`. ``None`` computes them on each call as the
        population variance (``ddof=0``) of each task feature over the tasks
        compared: the rows of ``A`` followed by the rows of ``B`` when ``B`` is
        given, the rows of ``A`` alone when it is not. A zero variance (a task
        feature constant over those tasks, or ``0`` given here) scales that
        feature by ``1``, as :class:`~sklearn.preprocessing.StandardScaler` does;
        variances must not be negative.

    Notes
    -----
    With ``variances`` given, this is a fixed weighted Euclidean distance and all
    five axioms hold. With ``variances=None``, the scale depends on the set of
    tasks compared: the distances returned by one call form a metric on the
    tasks of that call, but ``d(a, b)`` computed together with other tasks can
    differ from ``d(a, b)`` computed alone (and with a single task the variances
    are all zero). Pass ``variances`` (for instance the variances over the
    training tasks) to compare tasks across calls on one scale.

    See Also
    --------
    EuclideanMetric : The unscaled distance.

    Examples
    --------
    >>> from sk_metameta.metrics import StandardizedEuclideanMetric
    >>> A = [[0.0, 0.0], [2.0, 200.0]]
    >>> StandardizedEuclideanMetric().pairwise(A).round(4).tolist()
    [[0.0, 2.8284], [2.8284, 0.0]]
    >>> metric = StandardizedEuclideanMetric(variances=[1.0, 10000.0])
    >>> metric.pairwise(A).round(4).tolist()
    [[0.0, 2.8284], [2.8284, 0.0]]
    """

    name: ClassVar[str] = "standardized_euclidean"
    summary: ClassVar[str] = (
        "Euclidean distance with each task feature scaled by its variance."
    )
    axioms: ClassVar[frozenset] = METRIC

    def __init__(self, variances=None):
        self.variances = variances

    def _scale(self, A: np.ndarray, B: np.ndarray, same: bool) -> np.ndarray:
        n_features = A.shape[1]
        if self.variances is None:
            rows = A if same else np.vstack([A, B])
            # Each column divided by a power of two that brings it below 1
            # (exact): its variance neither overflows nor underflows.
            e = exponent(np.abs(rows).max(axis=0))
            rows = np.ldexp(rows, -e) if e.any() else rows
            var = rows.var(axis=0)
            # Treat a variance at the rounding level of the mean as zero (as
            # StandardScaler does), so a constant feature is never blown up.
            n = rows.shape[0]
            mean = rows.mean(axis=0)
            eps = np.finfo(float).eps
            var = np.where(var <= (n * eps * mean) ** 2, 0.0, var)
            return np.where(var > 0, np.ldexp(np.sqrt(var), e), 1.0)
        var = np.asarray(self.variances, dtype=float)
        if var.ndim == 0:
            var = np.full(n_features, float(var))
        if var.shape != (n_features,) or not np.isfinite(var).all():
            raise ValueError(
                f"metric {self.name!r}: variances must be None or "
                f"{n_features} finite numbers (one per task feature), got "
                f"{self.variances!r}."
            )
        if (var < 0).any():
            raise ValueError(
                f"metric {self.name!r}: variances must not be negative, got "
                f"{var[var < 0][0]!r} for task feature "
                f"{int(np.flatnonzero(var < 0)[0])}."
            )
        return np.sqrt(np.where(var > 0, var, 1.0))

    def _pairwise(self, A, B):
        scale = self._scale(A, B, same=B is A)
        with np.errstate(over="ignore", under="ignore"):
            As = A / scale
            Bs = As if B is A else B / scale
        if not (np.isfinite(As).all() and np.isfinite(Bs).all()):
            raise ValueError(
                f"metric {self.name!r}: the task features divided by their "
                "standard deviations overflow the float range; scale the task "
                "features or the variances."
            )
        return _homogeneous(As, Bs, self.name, "euclidean")
