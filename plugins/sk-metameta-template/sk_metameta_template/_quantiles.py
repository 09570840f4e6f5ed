"""Per-task quantiles of every column of X."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sk_metameta.task_features import BaseTaskFeatures

__all__ = ["QuantileFeatures"]


class QuantileFeatures(BaseTaskFeatures):
    """Per-task quantiles of every column of X.

    Describes each task by the quantiles of its rows, column by column (linear
    interpolation between order statistics, as :func:`numpy.quantile`). Unlike
    means and standard deviations, quantiles describe skewed and heavy-tailed
    tasks robustly. Needs no ``y``, so it also describes tasks without labels.

    All tasks are handled at once: the rows are sorted by task, then by value,
    in one vectorized sort per call.

    Parameters
    ----------
    quantiles : sequence of float, default=(0.25, 0.5, 0.75)
        Distinct probabilities in ``[0, 1]``.

    Attributes
    ----------
    quantiles_ : ndarray of shape (n_quantiles,)
        The validated probabilities.
    n_features_in_ : int
        Number of columns of ``X`` seen in fit.

    See Also
    --------
    sk_metameta.task_features.MomentFeatures : Per-task mean and standard deviation.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta_template import QuantileFeatures
    >>> X = np.array([[1.0], [2.0], [3.0], [10.0], [30.0]])
    >>> extractor = QuantileFeatures(quantiles=(0.0, 0.5, 1.0))
    >>> extractor.fit_transform(X, tasks=["a", "a", "a", "b", "b"])
    array([[ 1.,  2.,  3.],
           [10., 20., 30.]])
    >>> extractor.get_feature_names_out().tolist()
    ['x0_q0', 'x0_q50', 'x0_q100']
    """

    name: ClassVar[str] = "quantiles"
    summary: ClassVar[str] = "Per-task quantiles of every column of X."
    requires_y: ClassVar[bool] = False

    def __init__(self, quantiles=(0.25, 0.5, 0.75)):
        self.quantiles = quantiles

    def _fit(self, X, y, index):
        q = np.asarray(self.quantiles, dtype=float).ravel()
        if (
            q.size == 0
            or not np.isfinite(q).all()
            or (q < 0).any()
            or (q > 1).any()
            or np.unique(q).size != q.size
        ):
            raise ValueError(
                f"task features {self.name!r}: quantiles={self.quantiles!r} must be "
                "distinct probabilities in [0, 1], at least one."
            )
        self.quantiles_ = q

    def _transform(self, X, y, index):
        n_samples = X.shape[0]
        # sort every column by task, then by value: key = task * n + rank of value
        ranks = np.argsort(np.argsort(X, axis=0, kind="stable"), axis=0, kind="stable")
        key = index.codes[:, None].astype(np.int64) * n_samples + ranks
        S = np.take_along_axis(X, np.argsort(key, axis=0), axis=0)
        # linear interpolation between the order statistics of each task
        position = self.quantiles_[None, :] * (index.counts[:, None] - 1)
        below = np.floor(position).astype(np.intp)
        above = np.ceil(position).astype(np.intp)
        start = index.offsets[:-1, None]
        low, high = S[start + below], S[start + above]  # (n_tasks, n_q, n_features)
        Q = low + (position - below)[..., None] * (high - low)
        # columns: every quantile of x0, then of x1, ...
        return Q.transpose(0, 2, 1).reshape(index.n_tasks, -1)

    def _feature_names(self, input_features):
        return [
            f"{feature}_q{100 * q:g}"
            for feature in input_features
            for q in self.quantiles_
        ]
