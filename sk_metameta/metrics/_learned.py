r"""A Mahalanobis metric on task features, learned from the tasks' fitted models.

The metric is

.. math:: d(a, b) = \big\| L \, S^{-1} (a - b) \big\|_2

where :math:`S` is the diagonal matrix of the standard deviations of the task
features over the fitted tasks and :math:`L` a matrix learned so that tasks close
in the metric are tasks whose models are close (its structure: diagonal, low
rank or full). It is learned as metric learning for kernel regression (MLKR,
Weinberger and Tesauro, 2007) learns a metric: each fitted task's model vector
:math:`y_i` (see :class:`~sk_metameta.metrics.FittedFeatureMetric`) is predicted
from every other task's by a kernel average in the metric,

.. math::

    \hat y_i = \sum_{j \ne i} p_{ij} \, y_j, \qquad
    p_{ij} = \frac{\exp(-d_{ij}^2)}{\sum_{l \ne i} \exp(-d_{il}^2)},

and :math:`L` minimises the leave-one-out error
:math:`\sum_i \| \hat y_i - y_i \|^2`, which is how a similarity-weighted transfer
rule builds a task's prior from its sources. The objective and its gradient are
computed with matrix products over all pairs of tasks (no loop over tasks or
pairs): with :math:`E = \hat Y - Y`,

.. math::

    \frac{\partial \ell}{\partial d_{ij}^2} = G_{ij}
        = -2 \, p_{ij} \, e_i \cdot (y_j - \hat y_i), \qquad
    \frac{\partial \ell}{\partial M}
        = Z^\top \big(\operatorname{diag}(G 1 + G^\top 1) - G - G^\top\big) Z

for :math:`M = L^\top L` and the standardised features :math:`Z`; the diagonal
structure uses the diagonal of that matrix, the others :math:`2 L` times it.
L-BFGS (scipy) minimises it, with the weights of the diagonal structure bounded
below by 0.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from sklearn.utils import check_random_state

from .._threads import one_blas_thread
from ._feature_metrics import StandardizedEuclideanMetric
from .base import PSEUDOMETRIC, FittedFeatureMetric

__all__ = ["LearnedMetric"]

STRUCTURES = ("diagonal", "low_rank", "full")


def _kernel_regression(U: np.ndarray, Y: np.ndarray, P: np.ndarray):
    """Leave-one-out kernel regression of ``Y`` on the embedded tasks ``U``.

    Fills ``P`` (of shape ``(n_tasks, n_tasks)``, overwritten in place: no new
    matrix of that size per call) with the pair weights (each row sums to 1,
    zero diagonal) and returns the predictions ``P @ Y`` and the errors.
    """
    sq = np.einsum("ij,ij->i", U, U)
    np.matmul(U, U.T, out=P)
    P *= -2.0
    P += sq[:, None]
    P += sq[None, :]
    np.fill_diagonal(P, np.inf)
    # softmax of -d^2 over each row, shifted by the row's least distance: no
    # overflow, no 0 / 0 (rounding below 0 is shifted away with the rest)
    P -= P.min(axis=1, keepdims=True)
    np.negative(P, out=P)
    np.exp(P, out=P)
    P /= P.sum(axis=1, keepdims=True)
    Y_hat = P @ Y
    return Y_hat, Y_hat - Y


def _loss_and_gradient(U: np.ndarray, Z: np.ndarray, Y: np.ndarray, work=None):
    """Leave-one-out error of the embedding ``U`` and its gradient in ``M``.

    Returns the loss and ``S = dloss / dM`` of shape ``(d, d)`` (symmetric), for
    the distances ``d_ij^2 = (z_i - z_j) M (z_i - z_j)`` with ``U = Z L^T``.
    ``work`` is a pair of ``(n_tasks, n_tasks)`` arrays to compute in (reused
    across the iterations of an optimisation).
    """
    T = U.shape[0]
    P, G = (np.empty((T, T)), np.empty((T, T))) if work is None else work
    Y_hat, E = _kernel_regression(U, Y, P)
    loss = float(np.einsum("ij,ij->", E, E, dtype=np.float64))
    # G = -2 P * (E Y^T - rowdot(E, Y_hat)); the factor -2 is applied to S
    np.matmul(E, Y.T, out=G)
    G -= np.einsum("ij,ij->i", E, Y_hat)[:, None]
    G *= P
    degree = G.sum(axis=1) + G.sum(axis=0)
    GZ = G @ Z + G.T @ Z
    S = -2.0 * ((Z * degree[:, None]).T @ Z - Z.T @ GZ)
    return loss, S.astype(np.float64)


def _standardized(F: np.ndarray):
    """Standard deviations (1 for a constant feature), ``F`` standardised, constants.

    A standard deviation at the rounding level of the mean is taken as 0, as in
    :class:`StandardizedEuclideanMetric`.
    """
    std = F.std(axis=0)
    n, mean = F.shape[0], np.abs(F.mean(axis=0))
    constant = std <= n * np.finfo(float).eps * mean
    std = np.where(constant | (std == 0), 1.0, std)
    return std, (F - F.mean(axis=0)) / std, constant | (F.std(axis=0) == 0)


class LearnedMetric(FittedFeatureMetric):
    r"""Mahalanobis distance on task features, learned so that close tasks transfer.

    .. math:: d(a, b) = \| L \, S^{-1} (a - b) \|_2

    :math:`S` holds the standard deviation of each task feature over the fitted
    tasks and :math:`L` is learned from the fitted tasks' models (metric learning
    for kernel regression: each task's model is predicted by a kernel average of
    the other tasks' models in the metric, and :math:`L` minimises the
    leave-one-out error; see the module :mod:`sk_metameta.metrics._learned` and
    :ref:`learned-metric`). A task feature that varies between tasks but says
    nothing of how their models differ gets a weight near 0; one that does gets
    a large weight.

    Task estimators fit the metric on their fitted tasks before the neighbour
    search (``TransferRegressor(metric="learned")``), from each task's own
    model: with :class:`~sk_metameta.TransferRegressor`, its own ridge model;
    with :class:`~sk_metameta.MetricMetaEstimator` (which wraps models without
    parameters to compare), a ridge model of ``y`` (class codes for a
    classifier) on ``X`` per task. :func:`~sk_metameta.task_distances` fits it
    on ridge models too.

    Before ``fit`` every task feature weighs alike: the metric is
    :class:`StandardizedEuclideanMetric` (variances over the tasks compared in
    each call).

    A pseudometric: non-negative, symmetric, zero on equal vectors, triangle
    inequality; two different vectors can be at distance 0 when they differ in
    features of weight 0 only.

    Parameters
    ----------
    structure : {"diagonal", "low_rank", "full"}, default="diagonal"
        Form of :math:`L`: a non-negative weight per task feature
        (``"diagonal"``, the most robust with few tasks), ``n_components`` rows
        (``"low_rank"``: the metric compares tasks along ``n_components``
        learned directions), or a square matrix (``"full"``).
    n_components : int, default=None
        Number of rows of :math:`L` for ``structure="low_rank"``; ``None`` means
        half the task features, rounded up. Must be ``None`` for the other
        structures.
    max_iter : int, default=100
        Most iterations of L-BFGS.
    tol : float, default=1e-5
        Stop when the relative change of the leave-one-out error in an
        iteration is below ``tol``.
    max_tasks : int, default=2000
        Most tasks the metric is learned on (the cost of an iteration grows as
        the square of the number of tasks); beyond it, a random subset of this
        many tasks (``random_state``).
    random_state : int, RandomState instance or None, default=None
        Seed of that subset.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_task_features)
        :math:`L S^{-1}`: the linear map of task features into the space where
        the metric is Euclidean (with ``"diagonal"``, a diagonal matrix).
    feature_weights_ : ndarray of shape (n_task_features,)
        Weight of each task feature in the metric: the diagonal of
        :math:`L^\top L` (on standardised task features), scaled to sum to 1.
        The larger, the more that feature tells apart tasks whose models
        differ; 0 for a feature the metric ignores (or that is constant over
        the fitted tasks).
    feature_names_in_ : ndarray of str of shape (n_task_features,)
        Names of the task features (from the extractor, in an estimator).
    scale_ : ndarray of shape (n_task_features,)
        The standard deviations :math:`S` (1 for a constant feature).
    n_features_in_ : int
        Number of task features seen in fit.
    loss_ : float
        Leave-one-out error of the learned metric, as a fraction of that of
        predicting every task's model by the mean model (below 1: the metric
        finds informative neighbours).
    initial_loss_ : float
        The same error with every task feature weighted alike (the start).
    n_iter_ : int
        Iterations of L-BFGS.

    See Also
    --------
    StandardizedEuclideanMetric : The metric before fit.

    References
    ----------
    K. Q. Weinberger and G. Tesauro, "Metric learning for kernel regression",
    AISTATS 2007.

    Examples
    --------
    Four tasks whose models differ along their first task feature, not their
    second:

    >>> import numpy as np
    >>> from sk_metameta.metrics import LearnedMetric
    >>> F = np.array([[0.0, 0.0], [0.1, 5.0], [3.0, 0.2], [3.1, 4.9]])
    >>> models = np.array([[0.0], [0.1], [3.0], [3.1]])
    >>> metric = LearnedMetric().fit(F, models, feature_names=["mean", "std"])
    >>> metric.feature_weights_.round(2).tolist()
    [1.0, 0.0]
    >>> D = metric.pairwise(F)
    >>> bool(D[0, 1] < D[0, 2])
    True

    Before ``fit``, every task feature counts alike (standardised):

    >>> LearnedMetric().pairwise([[0.0, 0.0], [2.0, 200.0]]).round(4).tolist()
    [[0.0, 2.8284], [2.8284, 0.0]]
    """

    name: ClassVar[str] = "learned"
    summary: ClassVar[str] = (
        "Mahalanobis distance on task features, learned from the tasks' models."
    )
    axioms: ClassVar[frozenset] = PSEUDOMETRIC

    def __init__(
        self,
        structure="diagonal",
        n_components=None,
        max_iter=100,
        tol=1e-5,
        max_tasks=2000,
        random_state=None,
    ):
        self.structure = structure
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.max_tasks = max_tasks
        self.random_state = random_state

    # -- fit ---------------------------------------------------------------------------
    def _check_params(self, n_features: int) -> int:
        """The number of rows of ``L``, after checking every parameter."""
        if self.structure not in STRUCTURES:
            raise ValueError(
                f"metric {self.name!r}: structure must be one of {STRUCTURES}, got "
                f"{self.structure!r}."
            )
        for param, low in (("max_iter", 1), ("max_tasks", 3)):
            value = getattr(self, param)
            if (
                isinstance(value, bool)
                or not isinstance(value, Integral)
                or value < low
            ):
                raise ValueError(
                    f"metric {self.name!r}: {param} must be an int >= {low}, got "
                    f"{value!r}."
                )
        if not isinstance(self.tol, Real) or not self.tol >= 0:
            raise ValueError(
                f"metric {self.name!r}: tol must be a number >= 0, got {self.tol!r}."
            )
        r = self.n_components
        if self.structure != "low_rank":
            if r is not None:
                raise ValueError(
                    f"metric {self.name!r}: n_components is for structure='low_rank' "
                    f"only; got n_components={r!r} with structure={self.structure!r}."
                )
            return n_features
        if r is None:
            return (n_features + 1) // 2
        if isinstance(r, bool) or not isinstance(r, Integral) or not 1 <= r:
            raise ValueError(
                f"metric {self.name!r}: n_components must be an int >= 1, got {r!r}."
            )
        return min(int(r), n_features)

    def _fit(self, F, Y):
        n_rows = self._check_params(F.shape[1])
        scale, Z, constant = _standardized(F)
        if F.shape[0] > self.max_tasks:
            rng = check_random_state(self.random_state)
            keep = np.sort(rng.choice(F.shape[0], self.max_tasks, replace=False))
            Z, Y = Z[keep], Y[keep]
        Y = Y - Y.mean(axis=0)
        total = float(np.einsum("ij,ij->", Y, Y))
        L0 = self._start(Z, n_rows)
        self.n_iter_ = 0
        if total > 0 and Z.shape[0] >= 3:
            Y = Y / np.sqrt(total)
            # products of (n_tasks, n_tasks) matrices with thin ones: BLAS
            # threads only wait for each other (4 times slower on a busy machine)
            with one_blas_thread():
                L, self.initial_loss_, self.loss_ = self._minimise(Z, Y, L0)
        else:  # nothing to learn from: every task model alike, or two tasks
            L, self.initial_loss_, self.loss_ = L0, 1.0, 1.0
        if self.structure == "diagonal":
            L = L * ~constant  # a constant feature has no say
        self.scale_ = scale
        self.components_ = L / scale
        weights = np.einsum("ij,ij->j", L, L)
        total_weight = weights.sum()
        self.feature_weights_ = (
            weights / total_weight if total_weight > 0 else np.zeros_like(weights)
        )

    def _start(self, Z: np.ndarray, n_rows: int) -> np.ndarray:
        """Every task feature alike, scaled so that the median distance is 1.

        ``"low_rank"`` starts from the leading principal directions instead.
        """
        d = Z.shape[1]
        if self.structure == "low_rank" and n_rows < d and Z.shape[0] > 1:
            L = np.linalg.svd(Z, full_matrices=False)[2][:n_rows]
        else:
            L = np.eye(d)[:n_rows]
        U = Z @ L.T
        sq = cdist(U, U, "sqeuclidean")[np.triu_indices(U.shape[0], 1)]
        sq = sq[sq > 0]
        median = float(np.median(sq)) if sq.size else 1.0
        return L / np.sqrt(median)

    def _minimise(self, Z, Y, L0):
        """``L`` minimising the leave-one-out error; the error before and after."""
        shape = L0.shape
        diagonal = self.structure == "diagonal"
        # the (n_tasks, n_tasks) work in single precision: 3 to 4 times faster,
        # and the loss and gradient keep about 6 significant digits, more than
        # the optimiser's tolerance needs
        T, Z32, Y32 = Z.shape[0], Z.astype(np.float32), Y.astype(np.float32)
        work = np.empty((T, T), np.float32), np.empty((T, T), np.float32)

        def objective(theta):
            theta32 = theta.astype(np.float32)
            if diagonal:
                U = Z32 * np.sqrt(theta32)
                loss, S = _loss_and_gradient(U, Z32, Y32, work)
                return loss, np.diag(S).copy()
            L = theta32.reshape(shape)
            loss, S = _loss_and_gradient(Z32 @ L.T, Z32, Y32, work)
            return loss, (2.0 * L.astype(np.float64) @ S).ravel()

        start = np.diag(L0) ** 2 if diagonal else L0.ravel()
        initial = objective(start)[0]
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * start.size if diagonal else None,
            options={"maxiter": int(self.max_iter), "ftol": float(self.tol)},
        )
        theta = result.x if result.fun <= initial else start
        self.n_iter_ = int(result.nit)
        L = np.diag(np.sqrt(theta)) if diagonal else theta.reshape(shape)
        return L, float(initial), float(min(result.fun, initial))

    # -- distances ---------------------------------------------------------------------
    def transform(self, task_features) -> np.ndarray:
        """Task features mapped to the space where the metric is Euclidean.

        Parameters
        ----------
        task_features : array-like of shape (n_tasks, n_task_features)
            Task features.

        Returns
        -------
        embedded : ndarray of shape (n_tasks, n_components)
            ``task_features @ components_.T``.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "components_")
        F = np.asarray(task_features, dtype=float)
        return F @ self.components_.T

    def _pairwise(self, A, B):
        if not hasattr(self, "components_"):
            return StandardizedEuclideanMetric()._pairwise(A, B)
        if B is A:
            U = self.transform(A)
            return cdist(U, U, "euclidean")
        return cdist(self.transform(A), self.transform(B), "euclidean")
