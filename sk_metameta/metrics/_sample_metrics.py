r"""Metrics between the tasks' samples: MMD, energy distance, sliced Wasserstein.

A sample metric compares the empirical distributions of the rows of two tasks.
All three metrics here handle every pair of tasks at once:

- :class:`MMDMetric` and :class:`EnergyMetric` need, for every pair of tasks
  ``(i, j)``, the sum of a function of the row pairs,
  :math:`S_{ij} = \sum_{r \in i} \sum_{s \in j} k(x_r, y_s)`, which
  :meth:`TaskIndex.pair_sums <sk_metameta.TaskIndex.pair_sums>` computes in
  blocks: a block of rows is compared with a block of rows by one matrix
  product, and reduced to per-task-pair sums on both axes. Only blocks on or
  above the diagonal are computed when a set of tasks is compared with itself,
  and memory stays at one ``block_size x block_size`` block per thread.
- :class:`SlicedWassersteinMetric` projects all rows on random directions and
  reads every task's quantiles of every projection at once
  (:meth:`TaskIndex.midpoint_quantiles
  <sk_metameta.TaskIndex.midpoint_quantiles>`).

All three first rescale the rows by a power of two, so that they are finite and
correct at any scale of the features (see ``_sample_kernels.py``).
"""

from __future__ import annotations

import math
import numbers
from typing import ClassVar

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.utils import check_random_state

from ._sample_kernels import (
    RANDOM_FEATURES_GAMMA_CEIL,
    DistanceKernel,
    GaussianKernel,
    centred,
    gamma_in_scaled_units,
    kernel_distances,
    median_gamma,
    quantile_features,
    random_feature_distances,
    scaled_rows,
    unscale,
)
from .base import METRIC, PSEUDOMETRIC, SampleMetric

__all__ = ["EnergyMetric", "MMDMetric", "SlicedWassersteinMetric"]


# -- parameter checks ------------------------------------------------------------
def _check_int(value, param: str, metric: str, minimum: int = 1) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(
            f"metric {metric!r}: {param} must be an int >= {minimum}, got {value!r}."
        )
    return int(value)


def _check_choice(value, param: str, metric: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"metric {metric!r}: {param} must be one of {list(choices)}, got {value!r}."
        )
    return value


def _check_n_jobs(value, metric: str):
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, numbers.Integral) or value == 0
    ):
        raise ValueError(
            f"metric {metric!r}: n_jobs must be None or a non-zero int, got {value!r}."
        )
    return value


class _AxiomsByParams:
    """Axioms that depend on the parameters of a metric.

    Read on the class, it gives the axioms of the default parameters (a
    frozenset, as for any metric); read on an instance, those of its parameters.
    """

    def __init__(self, default: frozenset, rule):
        self.default = default
        self.rule = rule

    def __get__(self, obj, objtype=None) -> frozenset:
        return self.default if obj is None else self.rule(obj)


# -- MMD -----------------------------------------------------------------------------
class MMDMetric(SampleMetric):
    r"""Maximum mean discrepancy between tasks, with a Gaussian kernel.

    The distance between the mean embeddings of two tasks' empirical
    distributions in the reproducing kernel Hilbert space of
    :math:`k(x, y) = \exp(-\gamma \|x - y\|^2)`:

    .. math::

        d(a, b) = \|\mu_a - \mu_b\|_{\mathcal H} = \Big(
            \frac{1}{n_a^2} \sum_{r, r' \in a} k(x_r, x_{r'})
            + \frac{1}{n_b^2} \sum_{s, s' \in b} k(x_s, x_{s'})
            - \frac{2}{n_a n_b} \sum_{r \in a} \sum_{s \in b} k(x_r, x_s)
        \Big)^{1/2}

    the square root of the biased (V-statistic) estimate of :math:`MMD^2`. The
    Gaussian kernel is characteristic, so with ``method="exact"`` this is a
    metric between empirical distributions: it is zero only for tasks with the
    same distribution of rows (the same rows, up to order and repetition in
    equal proportions). A square root of a tiny negative rounding error is
    returned as ``0``.

    Parameters
    ----------
    gamma : "median" or float, default="median"
        Kernel width :math:`\gamma > 0`. ``"median"`` is the median heuristic
        :math:`\gamma = 1 / (2 \sigma^2)`, :math:`\sigma^2` the median squared
        distance between the distinct rows of the tasks compared (``X`` and
        ``X_other``), on a subsample of 1000 of them drawn with a fixed seed
        when there are more; it depends only on the set of rows, not on their
        order or repetitions. It is recomputed on every call; pass a float (for
        instance :meth:`median_gamma` of the training rows) to keep one kernel
        across calls.
    method : {"exact", "random_features"}, default="exact"
        ``"exact"`` sums the kernel over every pair of rows, in blocks (time
        proportional to ``n_samples * n_samples_other``). ``"random_features"``
        approximates the kernel by random Fourier features
        :math:`z(x) = m^{-1/2} (\cos(w_k \cdot x), \sin(w_k \cdot x))_{k \le m}`
        with :math:`m` frequencies :math:`w_k \sim N(0, 2 \gamma I)` drawn as
        orthogonal random features (orthogonal in blocks of ``n_features``,
        which lowers the variance), so that :math:`z(x) \cdot z(y)` is an
        unbiased estimate of :math:`k(x, y)`, and returns the Euclidean distance
        between the tasks' mean features (time proportional to ``n_samples *
        n_components``): the fast path for many or large tasks.
    n_components : int, default=500
        Number of random features (``method="random_features"``), a cosine and
        a sine per frequency (an odd number is rounded up). The error of
        :math:`d^2` shrinks as :math:`1 / \sqrt{n_{components}}`.
    random_state : int, RandomState instance or None, default=0
        Seed of the random features. An int gives the same features on every
        call, which the declared axioms need when distances of several calls
        are combined.
    block_size : int, default=1024
        Rows per block of the exact computation; each block holds
        ``block_size ** 2`` floats (8 MiB for the default). For
        ``"random_features"``, blocks of ``block_size ** 2 // n_components``
        rows.
    n_jobs : int, default=None
        Threads sharing the blocks of the exact computation. ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` means all
        processors. Results are reproducible for a given ``n_jobs``.

    Attributes
    ----------
    axioms : frozenset
        All five axioms with ``method="exact"``. The random-features
        approximation is a Euclidean distance between feature vectors, hence a
        pseudometric: it keeps non-negativity, zero self-distance, symmetry and
        the triangle inequality, but two different distributions can have the
        same mean features.

    See Also
    --------
    EnergyMetric : The energy distance, the same construction with the
        distance kernel and no width to choose.
    SlicedWassersteinMetric : An optimal-transport distance.

    Notes
    -----
    The exact computation sorts the rows by task and, for each pair of blocks of
    ``block_size`` rows on or above the diagonal, forms the block of
    :math:`-\gamma \|x - y\|^2` with one matrix product, exponentiates it, and
    reduces it to per-task-pair sums with :func:`numpy.add.reduceat` on both
    axes. The cost is one kernel evaluation per unordered pair of rows, with no
    Python loop over pairs of tasks: for 200 tasks of 200 rows (8e8 pairs) a
    few seconds per core, where the random-features approximation with the
    default ``n_components`` takes well under a second. During large
    computations BLAS is limited to one thread (the products have only
    ``n_features + 2`` columns, and threads come from ``n_jobs``). The random
    features are summed in double precision from single-precision cosines and
    sines, whose rounding is far below the Monte Carlo error of the
    approximation; on 200 tasks of 200 rows in 20 dimensions, 500 features
    give distances within about 1% of the exact ones on average.

    The rows are first divided by a power of two that brings them below 1 (an
    exact operation), so that no square overflows or underflows: with the median
    heuristic the distances do not depend on a common scale of the features, at
    any scale. A fixed ``gamma`` acts on the same rows as ``gamma * 4**e`` on the
    rescaled ones; where that width is tiny (every kernel value within ``1e-3``
    of 1) the blocks hold ``expm1`` rather than ``exp``, which keeps the digits
    of :math:`1 - k`, and below ``2**-100`` the squared MMD, then proportional to
    the width to double precision, is computed at ``2**-100`` and rescaled;
    where it is huge (``gamma |x - y|^2`` beyond ``1e6``) the squared distances
    are recomputed exactly for near-duplicate rows, so shared rows keep a kernel
    value of 1.

    Near zero the square root amplifies
    rounding: a distance computed as the square root of a difference of sums of
    order 1 is accurate to about ``1e-7`` (the square root of the rounding
    error), so tasks with the same rows in different calls or in another order
    may be ``1e-8``-``1e-7`` apart; the distance of a task to itself within one
    call is exactly ``0``.

    References
    ----------
    A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf and A. Smola, "A
    kernel two-sample test", JMLR 13, 2012.

    A. Rahimi and B. Recht, "Random features for large-scale kernel machines",
    NeurIPS 2007.

    F. X. Yu, A. T. Suresh, K. Choromanski, D. Holtmann-Rice and S. Kumar,
    "Orthogonal random features", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.metrics import MMDMetric
    >>> X = np.array([[0.0], [1.0], [0.0], [1.0], [5.0], [6.0]])
    >>> tasks = ["a", "a", "b", "b", "c", "c"]
    >>> MMDMetric(gamma=0.5).pairwise(X, tasks).round(3)
    array([[0.   , 0.   , 1.267],
           [0.   , 0.   , 1.267],
           [1.267, 1.267, 0.   ]])
    >>> metric = MMDMetric(gamma=0.5, method="random_features", n_components=10000)
    >>> metric.pairwise(X, tasks).round(2)
    array([[0.  , 0.  , 1.27],
           [0.  , 0.  , 1.27],
           [1.27, 1.27, 0.  ]])
    >>> metric.axiom_class
    'pseudometric'
    """

    name: ClassVar[str] = "mmd"
    summary: ClassVar[str] = (
        "Maximum mean discrepancy (Gaussian kernel) between the tasks' samples."
    )
    axioms = _AxiomsByParams(
        METRIC,
        lambda self: PSEUDOMETRIC if self.method == "random_features" else METRIC,
    )
    min_rows: ClassVar[int] = 2

    def __init__(
        self,
        gamma="median",
        method="exact",
        n_components=500,
        random_state=0,
        block_size=1024,
        n_jobs=None,
    ):
        self.gamma = gamma
        self.method = method
        self.n_components = n_components
        self.random_state = random_state
        self.block_size = block_size
        self.n_jobs = n_jobs

    def median_gamma(self, X, X_other=None) -> float:
        """Kernel width of the median heuristic for the rows ``X`` (and ``X_other``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the tasks.
        X_other : array-like of shape (n_samples_other, n_features), default=None
            Rows of other tasks, pooled with ``X``.

        Returns
        -------
        gamma : float
            ``1 / (2 * median squared distance between distinct rows)``, on a
            fixed-seed subsample of 1000 distinct rows when there are more;
            ``1.0`` when all rows are equal.

        Examples
        --------
        >>> from sk_metameta.metrics import MMDMetric
        >>> MMDMetric().median_gamma([[0.0], [1.0], [3.0]])
        0.125
        """
        from .base import _check_features

        X = _check_features(X, "X", self.name)
        same = X_other is None
        if not same:
            X_other = _check_features(X_other, "X_other", self.name)
        Xs, Ys, e = scaled_rows(X, X_other, same)
        gamma = median_gamma(Xs, None if same else Ys)
        if gamma is None:
            return 1.0
        log2_gamma = math.log2(gamma) - 2 * e
        if not math.log2(np.finfo(float).tiny) <= log2_gamma < 1024:
            raise ValueError(
                f"metric {self.name!r}: the median-heuristic gamma of these rows, "
                f"about 2**{log2_gamma:.0f}, is outside the float range; scale the "
                "features first, for example with sklearn.preprocessing."
                "StandardScaler."
            )
        return math.ldexp(gamma, -2 * e)

    def _scaled_gamma(self, X, X_other, same: bool, ceil: float):
        """Rescaled rows, the width in their units, and the factor of the MMD."""
        gamma = self.gamma
        if isinstance(gamma, str) and gamma == "median":
            Xs, Ys, _ = scaled_rows(X, X_other, same)
            width = median_gamma(Xs, None if same else Ys)
            return Xs, Ys, 1.0 if width is None else width, 1.0
        if (
            isinstance(gamma, bool)
            or not isinstance(gamma, numbers.Real)
            or not np.isfinite(gamma)
            or gamma <= 0
        ):
            raise ValueError(
                f"metric {self.name!r}: gamma must be 'median' or a positive finite "
                f"float, got {gamma!r}."
            )
        Xs, Ys, e = scaled_rows(X, X_other, same)
        return Xs, Ys, *gamma_in_scaled_units(float(gamma), e, ceil)

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        method = _check_choice(
            self.method, "method", self.name, ("exact", "random_features")
        )
        block_size = _check_int(self.block_size, "block_size", self.name)
        if method == "random_features":
            n_components = _check_int(self.n_components, "n_components", self.name)
        n_jobs = _check_n_jobs(self.n_jobs, self.name)
        same = X_other is X and index_other is index
        exact = method == "exact"
        ceil = float(np.finfo(float).max) if exact else RANDOM_FEATURES_GAMMA_CEIL
        Xs, Ys, gamma, factor = self._scaled_gamma(X, X_other, same, ceil)
        Xs, Ys = centred(Xs, Ys, same)
        if exact:
            largest = float(np.einsum("ij,ij->i", Xs, Xs).max())
            largest += largest if same else float(np.einsum("ij,ij->i", Ys, Ys).max())
            kernel = GaussianKernel(gamma, gamma * largest)  # floats: inf, no warning
            D = kernel_distances(
                kernel,
                Xs,
                index,
                Ys,
                index_other,
                same,
                block_size=block_size,
                n_jobs=n_jobs,
            )
        else:
            rng = check_random_state(self.random_state)
            D = random_feature_distances(
                rng, gamma, n_components, block_size, Xs, index, Ys, index_other, same
            )
        return D * factor


# -- energy distance ---------------------------------------------------------------
class EnergyMetric(SampleMetric):
    r"""Energy distance between tasks (Székely), as its square root.

    .. math::

        d(a, b) = \Big(
            \frac{2}{n_a n_b} \sum_{r \in a} \sum_{s \in b} \|x_r - x_s\|
            - \frac{1}{n_a^2} \sum_{r, r' \in a} \|x_r - x_{r'}\|
            - \frac{1}{n_b^2} \sum_{s, s' \in b} \|x_s - x_{s'}\|
        \Big)^{1/2}

    with Euclidean norms: the square root of the energy distance between the
    tasks' empirical distributions (V-statistics). It is a metric between
    distributions: zero only for tasks with the same distribution of rows. In
    one dimension it equals :func:`scipy.stats.energy_distance`. A square root
    of a tiny negative rounding error is returned as ``0``.

    Parameters
    ----------
    block_size : int, default=1024
        Rows per block; each block holds ``block_size ** 2`` floats.
    n_jobs : int, default=None
        Threads sharing the blocks. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context; ``-1`` means all processors.

    See Also
    --------
    MMDMetric : The same blocked computation with a Gaussian kernel.

    Notes
    -----
    The energy distance is the squared MMD of the distance-induced kernel
    :math:`k(x, y) = \tfrac12 (\|x\| + \|y\| - \|x - y\|)` (times 2), and is
    computed by the same blocked sums as :class:`MMDMetric`, with distances
    :math:`\|x - y\| = (\|x\|^2 + \|y\|^2 - 2 x \cdot y)^{1/2}` from one matrix
    product per block. That expansion loses all digits for rows closer than
    about ``1e-8`` times their norm, so the rows are centred first and the
    squared distances below ``1e-9`` times the squared norms are recomputed
    from the rows themselves (usually a handful of near-duplicate rows). The
    final square root still amplifies rounding: tasks with the same rows, in
    another call or another order, may be up to about ``1e-7`` times the
    typical row distance apart; a task is at exactly ``0`` from itself within
    one call. The rows are divided by a power of two before squaring and the
    result multiplied back exactly, so the distance is finite and homogeneous,
    :math:`d(cX) = \sqrt{c}\, d(X)`, at any scale of the features.

    References
    ----------
    G. J. Székely and M. L. Rizzo, "Energy statistics: a class of statistics
    based on distances", J. Stat. Planning and Inference 143, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.metrics import EnergyMetric
    >>> X = np.array([[0.0], [1.0], [0.0], [1.0], [2.0], [3.0]])
    >>> EnergyMetric().pairwise(X, ["a", "a", "b", "b", "c", "c"])
    array([[0.        , 0.        , 1.73205081],
           [0.        , 0.        , 1.73205081],
           [1.73205081, 1.73205081, 0.        ]])
    """

    name: ClassVar[str] = "energy"
    summary: ClassVar[str] = "Energy distance (square root) between the tasks' samples."
    axioms: ClassVar[frozenset] = METRIC
    min_rows: ClassVar[int] = 2

    def __init__(self, block_size=1024, n_jobs=None):
        self.block_size = block_size
        self.n_jobs = n_jobs

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        block_size = _check_int(self.block_size, "block_size", self.name)
        n_jobs = _check_n_jobs(self.n_jobs, self.name)
        same = X_other is X and index_other is index
        # The energy distance is homogeneous: d(cX) = sqrt(c) d(X).
        Xs, Ys, e = scaled_rows(X, X_other, same, even=True)
        Xs, Ys = centred(Xs, Ys, same)
        D = kernel_distances(
            DistanceKernel(),
            Xs,
            index,
            Ys,
            index_other,
            same,
            block_size=block_size,
            n_jobs=n_jobs,
        )
        return unscale(D, e // 2, self.name)


# -- sliced Wasserstein ---------------------------------------------------------
class SlicedWassersteinMetric(SampleMetric):
    r"""Sliced Wasserstein-2 distance between tasks, on random projections.

    .. math::

        d(a, b) = \Big( \frac{1}{L} \sum_{l=1}^{L} \frac{1}{Q} \sum_{k=0}^{Q-1}
            \big( F^{-1}_{a, \theta_l}(q_k) - F^{-1}_{b, \theta_l}(q_k) \big)^2
        \Big)^{1/2}, \qquad q_k = \frac{k + 1/2}{Q}

    where :math:`F^{-1}_{a, \theta}` is the quantile function of the empirical
    distribution of task :math:`a`'s rows projected on the unit direction
    :math:`\theta` (the step function of numpy's ``"inverted_cdf"``), the
    :math:`L` directions are drawn uniformly on the sphere, and the integral
    over :math:`q` of the 1-D Wasserstein-2 distance is taken by the midpoint
    rule on ``n_quantiles`` cells. When every task's number of rows divides
    ``n_quantiles`` that rule is exact, and each term is the exact 1-D
    Wasserstein-2 distance between the projected samples.

    It is the Euclidean distance between vectors of projected quantiles, so with
    fixed directions (an int ``random_state``) it is a pseudometric: every axiom
    holds but the identity of indiscernibles, as different distributions can
    agree on finitely many projections and quantiles.

    Parameters
    ----------
    n_projections : int, default=50
        Number :math:`L` of random directions.
    n_quantiles : int, default=100
        Number :math:`Q` of quantile cells.
    random_state : int, RandomState instance or None, default=0
        Seed of the directions. An int gives the same directions on every call,
        which the declared axioms need when distances of several calls are
        combined.

    See Also
    --------
    EnergyMetric : A metric on distributions, exact but quadratic in rows.

    Notes
    -----
    All tasks are handled at once: the rows sorted by task are projected on all
    directions with one matrix product, each projection is sorted by value and
    then, stably, by task (so each task's values are sorted within its
    segment), and all tasks' quantiles are gathered with one index array. The
    cost is :math:`O(n L \log n)` for :math:`n` rows, linear in the number of
    tasks. The rows are divided by a power of two first and the distances
    multiplied back exactly, :math:`d(cX) = c\, d(X)` at any scale; distances
    beyond the float range raise a ``ValueError``.

    References
    ----------
    N. Bonneel, J. Rabin, G. Peyré and H. Pfister, "Sliced and Radon
    Wasserstein barycenters of measures", J. Math. Imaging and Vision 51, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.metrics import SlicedWassersteinMetric
    >>> X = np.array([[0.0], [1.0], [0.0], [1.0], [2.0], [3.0]])
    >>> metric = SlicedWassersteinMetric(n_projections=10, n_quantiles=2)
    >>> metric.pairwise(X, ["a", "a", "b", "b", "c", "c"])
    array([[0., 0., 2.],
           [0., 0., 2.],
           [2., 2., 0.]])
    """

    name: ClassVar[str] = "sliced_wasserstein"
    summary: ClassVar[str] = "Sliced Wasserstein-2 distance between the tasks' samples."
    axioms: ClassVar[frozenset] = PSEUDOMETRIC
    min_rows: ClassVar[int] = 2

    def __init__(self, n_projections=50, n_quantiles=100, random_state=0):
        self.n_projections = n_projections
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    def projection_directions(self, n_features: int) -> np.ndarray:
        """The unit directions the rows are projected on.

        Parameters
        ----------
        n_features : int
            Number of columns of ``X``.

        Returns
        -------
        directions : ndarray of shape (n_features, n_projections)
            One unit vector per column, drawn from ``random_state``.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_metameta.metrics import SlicedWassersteinMetric
        >>> theta = SlicedWassersteinMetric(n_projections=3).projection_directions(2)
        >>> theta.shape, bool(np.allclose((theta**2).sum(axis=0), 1.0))
        ((2, 3), True)
        """
        n_projections = _check_int(self.n_projections, "n_projections", self.name)
        n_features = _check_int(n_features, "n_features", self.name)
        rng = check_random_state(self.random_state)
        directions = rng.standard_normal((n_features, n_projections))
        norms = np.linalg.norm(directions, axis=0)
        # A zero draw has probability zero; guard it anyway.
        directions[:, norms == 0] = 1.0
        return directions / np.linalg.norm(directions, axis=0)

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        n_quantiles = _check_int(self.n_quantiles, "n_quantiles", self.name)
        directions = self.projection_directions(X.shape[1])
        scale = 1.0 / np.sqrt(directions.shape[1] * n_quantiles)
        same = X_other is X and index_other is index
        # The distance is homogeneous: d(cX) = c d(X).
        Xs, Ys, e = scaled_rows(X, X_other, same)
        F = quantile_features(Xs, index, directions, n_quantiles) * scale
        if not same:
            F_other = quantile_features(Ys, index_other, directions, n_quantiles)
        D = cdist(F, F if same else F_other * scale, "euclidean")
        return unscale(D, e, self.name)
