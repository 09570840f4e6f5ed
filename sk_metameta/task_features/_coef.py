"""Model-based task features: the coefficients of a ridge regression per task."""

from __future__ import annotations

import math
from numbers import Real
from typing import ClassVar

import numpy as np

from .._scale import exponent, unsafe
from .._tasks import TaskIndex
from .._threads import one_blas_thread
from ._checks import check_nonempty, check_numeric_y
from .base import BaseTaskFeatures

__all__ = ["CoefFeatures"]

#: With ``alpha=0``, eigenvalues of a task's Gram matrix below this fraction of
#: its largest are treated as zero (minimum-norm least squares).
_PINV_RTOL = 1e-10


def check_alpha(alpha, name: str, *, positive: bool = False) -> float:
    """Validate a ridge strength: a finite number, ``> 0`` or ``>= 0``."""
    ok = (
        isinstance(alpha, Real)
        and not isinstance(alpha, bool)
        and np.isfinite(alpha)
        and (alpha > 0 if positive else alpha >= 0)
    )
    if not ok:
        bound = "positive" if positive else "non-negative"
        raise ValueError(
            f"task features {name!r}: alpha must be a {bound} finite number, got "
            f"{alpha!r}."
        )
    return float(alpha)


#: Largest ridge strength used on rescaled rows: beyond it ``X^T X / alpha`` is
#: below ``1e-290`` and the solution is ``X^T y / alpha`` to double precision.
ALPHA_CEIL = 1e300


def task_exponents(a: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Per task, the :func:`~sk_metameta._scale.exponent` of its largest ``|a|``."""
    return exponent(index.max(np.abs(a)).reshape(index.n_tasks, -1).max(axis=1))


def scaled_alpha(alpha: float, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per task, the strength ``alpha / 4**e`` for rows divided by ``2**e``.

    Returns the strengths to solve with (at most :data:`ALPHA_CEIL`) and
    ``log2`` of the factor each solution must be multiplied by (``0``, or
    negative when capped: the solution is then proportional to ``1 / alpha``).
    """
    if alpha == 0:
        return np.zeros(e.shape), np.zeros(e.shape)
    log2_alpha = math.log2(alpha) - 2.0 * e
    capped = log2_alpha > math.log2(ALPHA_CEIL)
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.where(capped, ALPHA_CEIL, np.ldexp(alpha, -2 * e))
    return scaled, np.where(capped, math.log2(ALPHA_CEIL) - log2_alpha, 0.0)


def ridge_coef(
    X: np.ndarray, Y: np.ndarray, index: TaskIndex, alpha: float
) -> np.ndarray:
    """Per-task solutions of ``(X_t^T X_t + alpha I) W_t = X_t^T Y_t``.

    Tasks are taken in blocks of similar size: one batched product gives the
    block's Gram matrices, one batched solve their solutions, so that memory is
    bounded by the block, not by the number of tasks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows of all tasks.
    Y : ndarray of shape (n_samples, n_targets)
        Targets of all tasks.
    index : TaskIndex
        The grouping.
    alpha : float or ndarray of shape (n_tasks,)
        Ridge strength, ``>= 0`` (see :func:`ridge_solve`), or one per task.

    Returns
    -------
    coef : ndarray of shape (n_tasks, n_features, n_targets)
    """
    p, q = X.shape[1], Y.shape[1]
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (index.n_tasks,))
    coef = np.empty((index.n_tasks, p, q))

    def floats_per_task(m):
        return m * (p + q) + 3 * p * (p + q)

    for tasks, (P, Q), _ in index.padded_blocks([X, Y], floats_per_task):
        Pt = P.transpose(0, 2, 1)
        coef[tasks] = ridge_solve(Pt @ P, Pt @ Q, alpha[tasks])
    return coef


def ridge_solve(gram: np.ndarray, cross: np.ndarray, alpha) -> np.ndarray:
    """Solve ``(G_t + alpha_t I) W_t = C_t`` for every task at once.

    ``alpha`` is one strength or one per task. Where it is 0, the minimum-norm
    solution, from the pseudo-inverse of the Gram matrix divided by its largest
    diagonal entry (so that the reciprocals of tiny eigenvalues cannot
    overflow). Returns ``W`` of shape ``(n_tasks, n_features, n_targets)``.
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (gram.shape[0],))
    if alpha.size and (alpha > 0).all() and (alpha == alpha[0]).all():
        return np.linalg.solve(gram + alpha[0] * np.eye(gram.shape[-1]), cross)
    out = np.empty(cross.shape)
    ridge = alpha > 0
    if ridge.any():
        shift = alpha[ridge, None, None] * np.eye(gram.shape[-1])
        out[ridge] = np.linalg.solve(gram[ridge] + shift, cross[ridge])
    if not ridge.all():
        gram, cross = gram[~ridge], cross[~ridge]
        scale = np.einsum("tpp->tp", gram).max(axis=1, initial=0.0)
        scale[scale == 0] = 1.0
        scale = scale[:, None, None]
        inverse = np.linalg.pinv(gram / scale, rcond=_PINV_RTOL, hermitian=True)
        out[~ridge] = inverse @ (cross / scale)
    return out


class CoefFeatures(BaseTaskFeatures):
    r"""Per-task ridge regression coefficients and intercept, in closed form.

    A model-based description of each task: the linear model that best explains
    its targets. Every task ``t`` gets the solution of

    .. math::

        \min_{w, b} \; \lVert y_t - X_t w - b \rVert_2^2
        + \alpha \lVert w \rVert_2^2

    (the intercept ``b`` is not penalised, as in :class:`sklearn.linear_model.Ridge`).
    All tasks are solved at once, in blocks of tasks of similar size: the
    block's Gram matrices ``X_t^T X_t`` are one batched matrix product, then one
    batched solve of the stacked ``(n_block_tasks, n_features, n_features)``
    systems.

    Parameters
    ----------
    alpha : float, default=1.0
        Ridge strength, ``>= 0``. With ``alpha > 0`` every task is well-posed, even
        one with fewer rows than features. With ``alpha = 0`` (ordinary least
        squares) a task whose Gram matrix is singular gets the minimum-norm
        solution (eigenvalues of the Gram matrix below ``1e-10`` times the largest
        are treated as 0).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept ``b`` per task (by centring the task's rows)
        and append it as the last feature. If False, ``b = 0``.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen during fit.

    See Also
    --------
    sklearn.linear_model.Ridge : The same model, fitted on one dataset.
    LandmarkFeatures : Cross-validated errors of cheap learners per task.

    Notes
    -----
    ``y`` is treated as a number. The coefficients depend on the scale of the
    columns of ``X`` (as the penalty does): standardise ``X`` first when columns
    are in different units. Memory is bounded: tasks are processed in blocks of
    similar size. Each task's system is solved on its ``X / 2**a`` and
    ``y / 2**b`` (powers of two that bring them below 1, an exact division) with
    the strength ``alpha / 4**a``, which is the same problem: the coefficients
    are finite and exact at any scale of ``X`` and ``y``, and a ``ValueError``
    says when they exceed the float range. With ``alpha = 0`` both are divided
    by the same power of two, so that an ``X`` more than about ``1e150`` times
    smaller than ``y`` counts as numerically 0 (rank deficient) instead of
    giving slopes beyond the float range.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.task_features import CoefFeatures
    >>> X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]])
    >>> y = np.array([1.0, 3.0, 5.0, 0.0, -1.0, -2.0])
    >>> features = CoefFeatures(alpha=0.0)
    >>> features.fit_transform(X, y, tasks=["a", "a", "a", "b", "b", "b"]).round(3)
    array([[ 2.,  1.],
           [-1.,  0.]])
    >>> features.get_feature_names_out().tolist()
    ['coef_x0', 'intercept']
    """

    name: ClassVar[str] = "coef"
    summary: ClassVar[str] = "Per-task ridge coefficients and intercept (closed form)."
    requires_y: ClassVar[bool] = True

    def __init__(self, *, alpha=1.0, fit_intercept=True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def _transform(self, X, y, index):
        alpha = check_alpha(self.alpha, self.name)
        check_nonempty(index, self.name)
        y = check_numeric_y(y, self.name)[:, None]
        fit_intercept = self.fit_intercept
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if fit_intercept:
                Xc, x_mean, x_var, _ = index.centre(X)
                yc, y_mean, y_var, _ = index.centre(y)
            else:  # no centring: the mean squares tell the same
                x_mean = y_mean = 0.0
                x_var, y_var = index.mean(X * X), index.mean(y * y)
        risky = unsafe(x_mean, x_var).any(axis=1) | unsafe(y_mean, y_var).any(axis=1)
        a = b = np.zeros(index.n_tasks, dtype=np.int64)
        if risky.any():
            # Such a task is solved on its X / 2**a and y / 2**b (exact: the
            # largest entries are below 1) with alpha / 4**a, the same problem:
            # the coefficients are 2**(b - a) times those, the intercept 2**b
            # times. Least squares (alpha=0) takes a = b, the larger: an X more
            # than about 1e150 times smaller than y is then numerically 0 (rank
            # deficient) rather than giving slopes beyond the float range.
            a = np.where(risky, task_exponents(X, index), 0)
            b = np.where(risky, task_exponents(y, index), 0)
            if alpha == 0:
                a = b = np.maximum(a, b)
            X = np.ldexp(X, -a[index.codes, None])
            y = np.ldexp(y, -b[index.codes, None])
            if fit_intercept:
                Xc, x_mean, *_ = index.centre(X)
                yc, y_mean, *_ = index.centre(y)
        alpha, log2_factor = scaled_alpha(alpha, a)
        if fit_intercept:
            X, y = Xc, yc
        with one_blas_thread():
            coef = ridge_coef(X, y, index, alpha)[:, :, 0]
        shift = np.floor(log2_factor).astype(np.int64)
        coef *= (2.0 ** (log2_factor - shift))[:, None]
        with np.errstate(over="ignore", under="ignore"):
            out = [np.ldexp(coef, (b - a + shift)[:, None])]
            if fit_intercept:
                fitted = np.einsum("tp,tp->t", x_mean, np.ldexp(coef, shift[:, None]))
                out.append(np.ldexp(y_mean[:, 0] - fitted, b)[:, None])
        out = np.hstack(out)
        if not np.isfinite(out).all():
            bad = index.labels[np.flatnonzero(~np.isfinite(out).all(axis=1))[:5]]
            raise ValueError(
                f"task features {self.name!r}: the coefficients of tasks "
                f"{bad.tolist()} overflow the float range (y much larger than X); "
                "scale the features and the target first."
            )
        return out

    def _feature_names(self, input_features):
        names = [f"coef_{f}" for f in input_features]
        return [*names, "intercept"] if self.fit_intercept else names
