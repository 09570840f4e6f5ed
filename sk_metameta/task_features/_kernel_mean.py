"""Kernel mean embeddings of each task by random Fourier features."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.utils import check_random_state

from .._scale import exponent
from .._task_blocks import BLOCK_FLOATS
from .._threads import one_blas_thread
from ._checks import check_nonempty, check_numeric_y
from .base import BaseTaskFeatures

__all__ = ["KernelMeanFeatures"]

#: Rows the median heuristic looks at (all pairs among them).
_MEDIAN_ROWS = 1000
#: Largest gamma the median heuristic gives, and the range ``gamma_`` is shown in.
_MAX_GAMMA = np.finfo(float).max / 4
_MIN_GAMMA = np.finfo(float).tiny


class KernelMeanFeatures(BaseTaskFeatures):
    """Per-task kernel mean embedding by random Fourier features.

    Each row ``x`` is mapped to ``z(x) = sqrt(2 / D) cos(W^T x + b)`` with ``D``
    random frequencies ``W ~ N(0, 2 gamma I)`` and phases ``b ~ U(0, 2 pi)``, so
    that ``z(x) . z(x')`` approximates the Gaussian kernel
    ``exp(-gamma ||x - x'||^2)`` (Rahimi and Recht, 2007). A task is described by
    the mean of ``z`` over its rows: its kernel mean embedding. The Euclidean
    distance between two tasks' embeddings approximates the maximum mean
    discrepancy (MMD) between their distributions, so a feature metric such as
    ``"euclidean"`` on these features is a fast, linear-time MMD.

    :meth:`fit` draws the random features (and sets the bandwidth), so that tasks
    transformed later, for example new tasks at predict time, are embedded in the
    same space.

    Parameters
    ----------
    n_components : int, default=100
        Number ``D`` of random features; the approximation error of the kernel
        shrinks as ``1 / sqrt(D)``.
    gamma : "median" or float, default="median"
        Kernel parameter ``gamma > 0``. ``"median"`` sets it at fit by the median
        heuristic: ``gamma = 1 / (2 sigma^2)`` with ``sigma`` the median of the
        positive pairwise distances between the fitted rows (all tasks together;
        among 1000 rows drawn at random when there are more).
    use_y : bool, default=False
        Embed the joint distribution of ``(x, y)``, ``y`` appended to ``X`` as one
        more column (a number), rather than of ``x`` alone. The extractor then
        requires ``y``: its ``requires_y`` is ``use_y``.
    random_state : int, RandomState instance or None, default=None
        Seeds the random features and the median heuristic's draw of rows.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen during fit.
    gamma_ : float
        The kernel parameter used (with ``"median"``, clipped to the range of
        positive floats when the scale of the rows puts it outside;
        ``random_weights_`` holds the frequencies actually used).
    random_weights_ : ndarray of shape (n_features_in_ + use_y, n_components)
        The random frequencies ``W``.
    random_offset_ : ndarray of shape (n_components,)
        The random phases ``b``.

    See Also
    --------
    sklearn.kernel_approximation.RBFSampler : The same random features, row by row.
    MomentFeatures : Per-task moments of X, the first terms of a distribution's
        description.

    Notes
    -----
    The features depend on the scale of the columns (one bandwidth for all):
    standardise ``X`` (and ``y`` with ``use_y=True``) first when columns are in
    different units. Transforming costs ``O(n_samples n_features D)`` and is done
    in chunks of rows of bounded memory. The median heuristic looks at the rows
    in an order that does not depend on how they were given, so, for a given
    ``random_state``, the features are invariant to the order of rows and tasks.
    With ``gamma="median"`` they are also invariant to a common scale of all
    columns, at any scale: the heuristic is computed on the rows divided by a
    power of two that brings them below 1. Phases that overflow (rows far larger
    than the scale the extractor was fitted on) raise a ``ValueError``.

    References
    ----------
    Rahimi, A. and Recht, B. (2007). "Random features for large-scale kernel
    machines". NeurIPS.

    Gretton, A., Borgwardt, K., Rasch, M., Schoelkopf, B. and Smola, A. (2012). "A
    kernel two-sample test". JMLR 13.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.task_features import KernelMeanFeatures
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (200, 2)), rng.normal(0, 1, (200, 2)),
    ...                rng.normal(3, 1, (200, 2))])
    >>> tasks = np.repeat(["a", "b", "c"], 200)
    >>> features = KernelMeanFeatures(n_components=500, random_state=0)
    >>> E = features.fit_transform(X, tasks=tasks)
    >>> E.shape
    (3, 500)
    >>> d_ab = np.linalg.norm(E[0] - E[1])
    >>> d_ac = np.linalg.norm(E[0] - E[2])
    >>> bool(d_ab < 0.2 < d_ac)
    True
    """

    name: ClassVar[str] = "kernel_mean"
    summary: ClassVar[str] = (
        "Per-task kernel mean embedding by random Fourier features (fast MMD)."
    )

    def __init__(
        self, *, n_components=100, gamma="median", use_y=False, random_state=None
    ):
        self.n_components = n_components
        self.gamma = gamma
        self.use_y = use_y
        self.random_state = random_state

    @property
    def requires_y(self) -> bool:
        """Whether the extractor needs ``y``: True exactly when ``use_y`` is."""
        return bool(self.use_y)

    def _rows(self, X, y):
        if not self.use_y:
            return X
        return np.column_stack([X, check_numeric_y(y, self.name)])

    def _fit(self, X, y, index):
        n_components = self.n_components
        if (
            not isinstance(n_components, Integral)
            or isinstance(n_components, bool)
            or n_components < 1
        ):
            raise ValueError(
                f"task features {self.name!r}: n_components must be a positive int, "
                f"got {n_components!r}."
            )
        gamma = self.gamma
        if not (isinstance(gamma, str) and gamma == "median") and not (
            isinstance(gamma, Real)
            and not isinstance(gamma, bool)
            and np.isfinite(gamma)
            and gamma > 0
        ):
            raise ValueError(
                f"task features {self.name!r}: gamma must be 'median' or a positive "
                f"finite number, got {gamma!r}."
            )
        Z = self._rows(X, y)
        rng = check_random_state(self.random_state)
        weights = rng.standard_normal((Z.shape[1], n_components))
        self.random_offset_ = rng.uniform(0.0, 2.0 * np.pi, n_components)
        # The median heuristic is scale invariant: find it on the rows divided
        # by a power of two 2**e that brings them below 1 (exact, and no square
        # overflows), then frequencies sqrt(2 gamma) = sqrt(2 gamma_e) / 2**e.
        e = exponent(np.abs(Z).max())
        gamma_e = self._median_gamma(Z, rng, e) if gamma == "median" else None
        if gamma_e is None:  # a given gamma, or all rows equal: gamma 1
            self.gamma_ = 1.0 if gamma == "median" else float(gamma)
            self.random_weights_ = weights * (np.sqrt(2.0) * np.sqrt(self.gamma_))
            return
        with np.errstate(over="ignore", under="ignore"):
            self.random_weights_ = np.ldexp(
                weights * (np.sqrt(2.0) * np.sqrt(gamma_e)), -e
            )
            self.gamma_ = float(
                np.clip(np.ldexp(gamma_e, -2 * e), _MIN_GAMMA, _MAX_GAMMA)
            )
        if not np.isfinite(self.random_weights_).all():
            raise ValueError(
                f"task features {self.name!r}: the median distance between rows is "
                f"too small for the median-heuristic gamma to be represented (the "
                f"rows reach about 2**{e}); scale the features first, for example "
                "with sklearn.preprocessing.StandardScaler."
            )

    @staticmethod
    def _median_gamma(Z, rng, e):
        """``1 / (2 sigma^2)``, ``sigma`` the median positive pairwise distance.

        Of the rows ``Z / 2**e`` (exact); None when all rows are equal.
        """
        if Z.shape[0] > _MEDIAN_ROWS:
            # Rows ordered by a random projection first, so that the draw does
            # not depend on the order in which they were given (equal keys come
            # from equal rows); Z @ (d / 2**e) is (Z / 2**e) @ d, exactly.
            key = Z @ np.ldexp(rng.standard_normal(Z.shape[1]), -e)
            Z = Z[np.argsort(key, kind="stable")]
            Z = Z[np.sort(rng.choice(Z.shape[0], _MEDIAN_ROWS, replace=False))]
        Z = np.ldexp(Z, -e) if e else Z
        dist = pdist(Z) if Z.shape[0] > 1 else np.empty(0)
        dist = dist[dist > 0]
        if dist.size == 0:
            return None
        # rows a tiny distance apart: a huge gamma, capped to stay finite
        with np.errstate(over="ignore", divide="ignore"):
            gamma = 0.5 / np.median(dist) ** 2
        return float(min(gamma, _MAX_GAMMA))

    def _transform(self, X, y, index):
        check_nonempty(index, self.name)
        Z = self._rows(X, y)
        W, b = self.random_weights_, self.random_offset_
        scale = np.sqrt(2.0 / W.shape[1])

        def features(rows):
            out = rows @ W
            out += b
            np.cos(out, out=out)
            return out

        # chunks of rows small enough for the cache: many small products
        chunk = max(1, BLOCK_FLOATS // (16 * W.shape[1]))
        with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
            total = index.sum_map(features, Z, chunk_rows=chunk)
        if not np.isfinite(total).all():
            raise ValueError(
                f"task features {self.name!r}: the phases of the random features "
                "(the rows times the frequencies) overflow; scale the features "
                "first, for example with sklearn.preprocessing.StandardScaler."
            )
        return total * (scale / index.counts[:, None])

    def _feature_names(self, input_features):
        return [f"rff_{i}" for i in range(self.random_weights_.shape[1])]
