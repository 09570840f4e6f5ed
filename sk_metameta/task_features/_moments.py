"""Moment statistics of each task: of X alone, or of X and y with correlations."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np

from .._scale import unsafe
from .._tasks import TaskIndex
from ._checks import check_nonempty, check_numeric_y
from .base import BaseTaskFeatures

__all__ = ["MomentFeatures", "MomentXYFeatures"]

#: Moment number -> prefix of its feature names.
_MOMENT_NAMES = {1: "mean", 2: "std", 3: "skew", 4: "kurtosis"}


def _check_moments(moments, name: str) -> list[int]:
    """Validate the ``moments`` parameter; return the moment numbers, ascending."""
    values = [moments] if isinstance(moments, Integral) else moments
    try:
        values = list(values)
    except TypeError:
        values = None
    if (
        not values
        or not all(
            isinstance(m, Integral) and not isinstance(m, bool) and m in _MOMENT_NAMES
            for m in values
        )
        or len(set(values)) != len(values)
    ):
        raise ValueError(
            f"task features {name!r}: moments must be a non-empty collection of "
            f"distinct moment numbers from 1 (mean), 2 (standard deviation), "
            f"3 (skewness) and 4 (excess kurtosis); got {moments!r}."
        )
    return sorted(int(m) for m in values)


def _moments(
    A: np.ndarray, index: TaskIndex, orders: list[int], *, standardize: bool = False
):
    """Per-task moments of the columns of ``A``.

    Returns the list of per-task arrays for ``orders``, the rows standardised
    within their task (or None, unless asked for or needed by ``orders``) and the
    mask of (task, column) pairs that are constant. Higher moments are computed
    from the standardised rows, which neither overflow nor underflow.
    """
    centred, mean, var, constant, e = _centre_at_any_scale(A, index)
    std = np.sqrt(var)
    z = None
    if standardize or max(orders) > 2:
        z = centred / index.broadcast(np.where(constant, 1.0, std))
        z2 = z * z
    out = []
    for order in orders:
        if order == 1:
            out.append(np.ldexp(mean, e))
        elif order == 2:
            out.append(np.ldexp(std, e))
        elif order == 3:
            skew = index.mean(z2 * z)
            out.append(np.where(constant, 0.0, skew))
        else:
            kurtosis = index.mean(z2 * z2) - 3.0
            out.append(np.where(constant, 0.0, kurtosis))
    return out, z, constant


def _centre_at_any_scale(A: np.ndarray, index: TaskIndex):
    """``index.centre(A)``, each (task, column) in units of ``2 ** e``, at any scale.

    A task's column whose squares may have overflowed or underflowed (see
    :func:`~sk_metameta._scale.unsafe`) is redone divided by the power of two
    ``2 ** e`` that brings it below 1 (exact). Returns the centred rows, means,
    variances (in those units), the constant mask and ``e`` of shape
    ``(n_tasks, n_columns)`` (0 where nothing was redone); each task's values
    depend on its rows only.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        centred, mean, var, constant = index.centre(A)
    risky = unsafe(mean, var)
    e = np.zeros(mean.shape, dtype=np.int64)
    cols = np.flatnonzero(risky.any(axis=0))
    if cols.size:
        largest = np.nan_to_num(index.max(np.abs(A[:, cols])))
        e[:, cols] = np.where(risky[:, cols], np.frexp(largest)[1], 0)  # any size
        parts = index.centre(np.ldexp(A[:, cols], -e[index.codes][:, cols]))
        for whole, part in zip((centred, mean, var, constant), parts, strict=True):
            whole[:, cols] = part
    return centred, mean, var, constant, e


class MomentFeatures(BaseTaskFeatures):
    """Per-task moments of every column of X: mean, standard deviation and more.

    Describes each task by the distribution of its features alone, so it needs no
    labels and can describe a task never seen during fit (zero-shot). All tasks
    are computed at once by reductions over the task segments.

    Parameters
    ----------
    moments : collection of int, default=(1, 2)
        Which moments of each column to compute, among 1 (mean), 2 (standard
        deviation), 3 (skewness) and 4 (excess kurtosis). Features come out grouped
        by moment in increasing order, then by column.
    log_size : bool, default=False
        Append the logarithm of each task's number of rows.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen during fit.

    See Also
    --------
    MomentXYFeatures : The same moments of X and y, and the correlation of each
        column with y.

    Notes
    -----
    Moments are the population ones (divided by ``n``), as
    ``scipy.stats.skew(bias=True)`` and ``scipy.stats.kurtosis(bias=True)``: the
    standard deviation of a one-row task is 0. Skewness ``m3 / m2 ** 1.5`` and
    excess kurtosis ``m4 / m2 ** 2 - 3`` are set to 0 for a column that is constant
    within a task (where they are undefined), so the output is always finite; a
    column counts as constant when its variance is below the rounding error of its
    mean, as in scipy. A column whose squares could overflow or underflow is
    computed divided by a power of two (exact), so the moments are exact at any
    scale. Every statistic is invariant to the order of the rows within
    a task, and tasks come out in the order of their sorted labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.task_features import MomentFeatures
    >>> X = np.array([[0.0], [2.0], [4.0], [4.0], [5.0]])
    >>> tasks = ["a", "a", "b", "b", "b"]
    >>> features = MomentFeatures(log_size=True)
    >>> features.fit_transform(X, tasks=tasks).round(3)
    array([[1.   , 1.   , 0.693],
           [4.333, 0.471, 1.099]])
    >>> features.get_feature_names_out().tolist()
    ['mean_x0', 'std_x0', 'log_n_rows']
    """

    name: ClassVar[str] = "moments"
    summary: ClassVar[str] = (
        "Per-task mean, standard deviation (and optionally skewness, kurtosis) of X."
    )
    requires_y: ClassVar[bool] = False

    def __init__(self, *, moments=(1, 2), log_size=False):
        self.moments = moments
        self.log_size = log_size

    def _transform(self, X, y, index):
        orders = _check_moments(self.moments, self.name)
        check_nonempty(index, self.name)
        stats, *_ = _moments(X, index, orders)
        return self._stack(stats, index)

    def _stack(self, blocks, index):
        if self.log_size:
            blocks = [*blocks, np.log(index.counts)[:, None]]
        return np.hstack(blocks)

    def _feature_names(self, input_features):
        orders = _check_moments(self.moments, self.name)
        names = [f"{_MOMENT_NAMES[m]}_{f}" for m in orders for f in input_features]
        return [*names, "log_n_rows"] if self.log_size else names


class MomentXYFeatures(MomentFeatures):
    """Per-task moments of X and y, and the correlation of each column with y.

    The joint description of a task's inputs and targets: the moments of every
    column of ``X`` and of ``y`` (as :class:`MomentFeatures`), followed by the
    Pearson correlation of each column of ``X`` with ``y`` within the task. All
    tasks are computed at once by reductions over the task segments.

    Parameters
    ----------
    moments : collection of int, default=(1, 2)
        Which moments of each column of ``X`` and of ``y`` to compute, among 1
        (mean), 2 (standard deviation), 3 (skewness) and 4 (excess kurtosis).
    log_size : bool, default=False
        Append the logarithm of each task's number of rows.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen during fit.

    See Also
    --------
    MomentFeatures : The moments of X alone, for tasks without labels.

    Notes
    -----
    ``y`` is treated as a number (class labels must be encoded as numbers; a 0/1
    target gives the class balance as its mean). Features come out as: for each
    moment in increasing order, that moment of every column of ``X`` then of
    ``y``; then ``corr_<column>_y`` for every column; then ``log_n_rows`` if asked.
    The correlation is 0 where the column or ``y`` is constant within the task
    (where it is undefined), so the output is always finite.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.task_features import MomentXYFeatures
    >>> X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]])
    >>> y = np.array([1.0, 2.0, 3.0, 3.0, 2.0, 1.0])
    >>> features = MomentXYFeatures()
    >>> features.fit_transform(X, y, tasks=[0, 0, 0, 1, 1, 1]).round(3)
    array([[ 1.   ,  2.   ,  0.816,  0.816,  1.   ],
           [ 1.   ,  2.   ,  0.816,  0.816, -1.   ]])
    >>> features.get_feature_names_out().tolist()
    ['mean_x0', 'mean_y', 'std_x0', 'std_y', 'corr_x0_y']
    """

    name: ClassVar[str] = "moments_xy"
    summary: ClassVar[str] = (
        "Per-task moments of X and y and the correlation of each column with y."
    )
    requires_y: ClassVar[bool] = True

    def _transform(self, X, y, index):
        orders = _check_moments(self.moments, self.name)
        check_nonempty(index, self.name)
        y = check_numeric_y(y, self.name)
        A = np.column_stack([X, y])
        stats, z, constant = _moments(A, index, orders, standardize=True)
        corr = index.mean(z[:, :-1] * z[:, -1:])
        corr[constant[:, :-1] | constant[:, -1:]] = 0.0
        return self._stack([*stats, np.clip(corr, -1.0, 1.0)], index)

    def _feature_names(self, input_features):
        orders = _check_moments(self.moments, self.name)
        columns = [*input_features, "y"]
        names = [f"{_MOMENT_NAMES[m]}_{f}" for m in orders for f in columns]
        names += [f"corr_{f}_y" for f in input_features]
        return [*names, "log_n_rows"] if self.log_size else names
