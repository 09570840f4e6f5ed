"""Landmarks: leave-one-out errors of cheap learners, per task, in closed form."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.utils.multiclass import type_of_target

from .._scale import unsafe
from .._task_blocks import BLOCK_FLOATS
from .._threads import one_blas_thread
from ._checks import check_nonempty, check_numeric_y
from ._coef import check_alpha, scaled_alpha, task_exponents
from .base import BaseTaskFeatures

__all__ = ["LandmarkFeatures"]

#: The learners, in the order their features come out.
LEARNERS = ("mean", "univariate", "ridge", "1nn")
TARGET_TYPES = ("auto", "continuous", "classification")

#: Class scores within ``_TIE_RTOL * max(1, |best|)`` of the best count as tied.
_TIE_RTOL = 1e-12
#: Exact ties (two classes equally frequent among the rows a prediction learns
#: from) come out of the leave-one-out formulas of the linear learners with
#: rounding errors of order ``eps * cond / (1 - h_ii)`` (``cond`` the condition
#: number of the ridge system): their tolerance grows by that much, times this.
_TIE_SAFETY = 1e3
_EPS = np.finfo(float).eps
#: Squared distances within this fraction of the task's largest squared norm
#: (rows centred) of the smallest count as tied nearest neighbours.
_DISTANCE_TIE_RTOL = 1e-10


def _check_learners(learners, name: str) -> list[str]:
    values = [learners] if isinstance(learners, str) else learners
    try:
        values = list(values)
    except TypeError:
        values = None
    if (
        not values
        or not all(isinstance(v, str) and v in LEARNERS for v in values)
        or len(set(values)) != len(values)
    ):
        raise ValueError(
            f"task features {name!r}: learners must be a non-empty collection of "
            f"distinct names from {list(LEARNERS)}; got {learners!r}."
        )
    return [v for v in LEARNERS if v in values]


def _expected_error(
    scores: np.ndarray, truth: np.ndarray, rtol: float | np.ndarray = _TIE_RTOL
) -> np.ndarray:
    """Error rate of ``argmax(scores)`` against one-hot ``truth``, ties shared.

    Classes whose score ties with the best (within ``rtol * max(1, |best|)``) are
    drawn at random, so the error is one minus the share of tied classes that is
    the true class: the result does not depend on the order of the classes or of
    the rows.
    """
    if scores.shape[-1] == 2:  # two classes: compare the true score to the other
        first = truth[..., 0] > 0
        true = np.where(first, scores[..., 0], scores[..., 1])
        other = np.where(first, scores[..., 1], scores[..., 0])
        tol = np.squeeze(rtol, axis=-1) if np.ndim(rtol) else rtol
        tol = tol * np.maximum(1.0, np.abs(np.maximum(true, other)))
        diff = true - other
        return np.where(diff > tol, 0.0, np.where(diff < -tol, 1.0, 0.5))
    top = scores.max(axis=-1, keepdims=True)
    tied = scores >= top - rtol * np.maximum(1.0, np.abs(top))
    return 1.0 - (tied * truth).sum(axis=-1) / tied.sum(axis=-1)


class LandmarkFeatures(BaseTaskFeatures):
    """Leave-one-out errors of cheap learners within each task (landmarking).

    Describes each task by how well simple learners do on it, estimated by
    leave-one-out cross-validation within the task. Every learner below has a
    closed-form leave-one-out error, computed for all tasks at once (batched
    over blocks of tasks of similar size), with no model refitted per row or per
    task:

    - ``"mean"``: predicts the mean of the other rows' targets (for a
      classification target, their most frequent class). The baseline.
    - ``"univariate"``: the best single-feature learner: for each column ``j``,
      ridge regression of ``y`` on ``x_j`` alone (with intercept, strength
      ``alpha``); the feature is the error of the best column.
    - ``"ridge"``: ridge regression on all columns (with intercept, strength
      ``alpha``); leave-one-out residuals ``r_i / (1 - h_ii)`` from the diagonal of
      the hat matrix.
    - ``"1nn"``: one nearest neighbour (Euclidean) among the other rows of the
      task.

    For a continuous target each feature is the leave-one-out root mean squared
    error; for a classification target it is the leave-one-out error rate (the
    linear learners then regress the one-hot class indicators and predict the
    class of largest output, as :class:`~sklearn.linear_model.RidgeClassifier`).

    Parameters
    ----------
    learners : collection of str, default=("mean", "univariate", "ridge", "1nn")
        Which learners to run, among ``"mean"``, ``"univariate"``, ``"ridge"`` and
        ``"1nn"``. Features come out in that order.
    alpha : float, default=1.0
        Ridge strength (``> 0``) of the ``"univariate"`` and ``"ridge"`` learners,
        on the objective ``||y - Xw - b||^2 + alpha ||w||^2``. Being positive, it
        keeps every leave-one-out fit well-posed, even with two rows per task.
    target_type : {"auto", "continuous", "classification"}, default="auto"
        How to read ``y``. ``"auto"`` decides at fit from the dtype of ``y``, not
        its values: a float ``y`` is a continuous target; an int, bool, str or
        object ``y`` holds class labels (when
        :func:`sklearn.utils.multiclass.type_of_target` calls it ``"binary"`` or
        ``"multiclass"``). Set it explicitly for an integer regression target
        (counts) or float class labels.
    relative : bool, default=False
        Report the error of every learner but ``"mean"`` divided by the error of
        ``"mean"`` (relative landmarks: below 1 means better than the baseline),
        which removes the scale of ``y``; a task where both are 0 gets 1.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen during fit.
    target_type_ : {"continuous", "classification"}
        How ``y`` is read, decided at fit.

    See Also
    --------
    CoefFeatures : The ridge coefficients of each task.
    MomentXYFeatures : Per-task moments of X and y and their correlations.

    Notes
    -----
    Every task needs at least 2 rows (leave-one-out leaves one row to learn from).
    The leave-one-out residual of a linear smoother ``y_hat = H y`` is
    ``(y_i - y_hat_i) / (1 - H_ii)``; for ridge with an unpenalised intercept and
    ``alpha > 0``, ``H_ii < 1`` whenever the task has 2 rows or more. Ties (equally
    near neighbours, equally frequent classes) are shared: ``"1nn"`` predicts the
    mean target of all nearest neighbours (for classes, the error is the share of
    them with another class), so the features do not depend on the order of the
    rows. A task whose target is constant gets 0 errors. ``"1nn"`` and the ridge
    learners depend on the scale of the columns of ``X``: standardise first when
    columns are in different units. ``"1nn"`` costs ``O(n_t^2)`` per task of
    ``n_t`` rows (in blocks of bounded memory); the others are linear in rows.
    As for :class:`CoefFeatures`, each task's ``X`` and continuous ``y`` are
    divided by powers of two first (with ``alpha`` scaled to match), so the
    errors are finite and exact at any scale.

    References
    ----------
    Pfahringer, B., Bensusan, H. and Giraud-Carrier, C. (2000). "Meta-learning by
    landmarking various learning algorithms". ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.task_features import LandmarkFeatures
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> tasks = np.repeat(["linear", "noise"], 30)
    >>> y = np.where(tasks == "linear", 3 * X[:, 0], rng.normal(size=60))
    >>> features = LandmarkFeatures(learners=("mean", "ridge"), relative=True)
    >>> features.fit_transform(X, y, tasks=tasks).round(2)
    array([[2.93, 0.05],
           [1.02, 0.98]])
    >>> features.get_feature_names_out().tolist()
    ['mean_loo_rmse', 'ridge_loo_rmse_ratio']
    """

    name: ClassVar[str] = "landmarks"
    summary: ClassVar[str] = (
        "Per-task leave-one-out errors of cheap learners (mean, univariate, "
        "ridge, 1-NN)."
    )
    requires_y: ClassVar[bool] = True
    min_rows: ClassVar[int] = 2

    def __init__(
        self,
        *,
        learners=LEARNERS,
        alpha=1.0,
        target_type="auto",
        relative=False,
    ):
        self.learners = learners
        self.alpha = alpha
        self.target_type = target_type
        self.relative = relative

    # -- fit / transform -----------------------------------------------------------
    def _fit(self, X, y, index):
        _check_learners(self.learners, self.name)
        check_alpha(self.alpha, self.name, positive=True)
        if self.target_type not in TARGET_TYPES:
            raise ValueError(
                f"task features {self.name!r}: target_type must be one of "
                f"{list(TARGET_TYPES)}, got {self.target_type!r}."
            )
        if self.target_type != "auto":
            self.target_type_ = self.target_type
            return
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"task features {self.name!r}: y must be 1-D (one target per row), "
                f"got shape {y.shape}."
            )
        kind = (
            "continuous" if y.dtype.kind == "f" else type_of_target(y, input_name="y")
        )
        if kind in ("binary", "multiclass"):
            self.target_type_ = "classification"
        elif kind == "continuous":
            self.target_type_ = "continuous"
        else:
            raise ValueError(
                f"task features {self.name!r}: y must be one target per row, "
                f"continuous or class labels; type_of_target(y) is {kind!r}."
            )

    def _transform(self, X, y, index):
        learners = _check_learners(self.learners, self.name)
        alpha = check_alpha(self.alpha, self.name, positive=True)
        check_nonempty(index, self.name)
        if X.shape[1] == 0:
            raise ValueError(
                f"task features {self.name!r}: X has no columns to learn from."
            )
        classification = self.target_type_ == "classification"
        Y = self._target_matrix(y, classification)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            Xc, x_mean, x_var, _ = index.centre(X)
            Yc, y_mean, y_var, y_constant = index.centre(Y)
        a = np.zeros(index.n_tasks, dtype=np.int64)
        b = np.zeros(index.n_tasks, dtype=np.int64)
        risky = unsafe(x_mean, x_var).any(axis=1)
        if risky.any():  # such a task on its X / 2**a (exact) with alpha / 4**a
            a = np.where(risky, task_exponents(X, index), 0)
            Xc, *_ = index.centre(np.ldexp(X, -a[index.codes, None]))
        risky = unsafe(y_mean, y_var).any(axis=1) & (not classification)
        if risky.any():  # and on its y / 2**b: its errors are 2**b times those
            b = np.where(risky, task_exponents(Y, index), 0)
            Y = np.ldexp(Y, -b[index.codes, None])
            Yc, _, _, y_constant = index.centre(Y)
        alpha = np.maximum(scaled_alpha(alpha, a)[0], np.finfo(float).tiny)
        counts = index.counts.astype(float)

        # Sums over each task's rows of the squared leave-one-out residuals
        # (continuous) or of the leave-one-out errors (classification).
        totals = {learner: np.zeros(index.n_tasks) for learner in learners}
        if "mean" in learners:
            if classification:
                others = index.broadcast(index.sum(Y)) - Y
                errors = _expected_error(others, Y)
            else:
                factor = index.broadcast(counts / (counts - 1.0))
                errors = (Yc[:, 0] * factor) ** 2
            totals["mean"] = index.sum(errors)
        if set(learners) - {"mean"}:
            with one_blas_thread():
                self._block_errors(Xc, Yc, Y, index, learners, alpha, totals)

        out = np.column_stack([totals[learner] / counts for learner in learners])
        if not classification:
            out = np.sqrt(out)
            out[y_constant[:, 0]] = 0.0
        absolute = slice(None)
        if self.relative and learners[0] == "mean" and len(learners) > 1:
            base = out[:, :1]
            ratio = out[:, 1:] / np.where(base > 0, base, 1.0)
            out[:, 1:] = np.where(base > 0, ratio, 1.0)
            absolute = slice(0, 1)
        with np.errstate(over="ignore"):
            out[:, absolute] = np.ldexp(out[:, absolute], b[:, None])
        if not np.isfinite(out).all():
            raise ValueError(
                f"task features {self.name!r}: the leave-one-out errors are not "
                "finite: alpha is too small for the scale of X (or y overflows); "
                "scale the features and the target first, or raise alpha."
            )
        return out

    def _feature_names(self, input_features):
        learners = _check_learners(self.learners, self.name)
        unit = "error" if self.target_type_ == "classification" else "rmse"
        names = []
        for learner in learners:
            ratio = self.relative and learner != "mean" and "mean" in learners
            names.append(f"{learner}_loo_{unit}" + ("_ratio" if ratio else ""))
        return names

    # -- helpers -------------------------------------------------------------------
    def _target_matrix(self, y, classification):
        """``y`` as a column (continuous) or a one-hot matrix (classification)."""
        if not classification:
            return check_numeric_y(y, self.name)[:, None]
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"task features {self.name!r}: y must be 1-D (one class label per "
                f"row), got shape {y.shape}."
            )
        try:
            _, codes = np.unique(y, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                f"task features {self.name!r}: class labels in y must be of one "
                "kind that can be sorted (all numbers or all str)."
            ) from exc
        codes = codes.ravel()
        Y = np.zeros((y.shape[0], int(codes.max()) + 1))
        Y[np.arange(y.shape[0]), codes] = 1.0
        return Y

    def _block_errors(self, Xc, Yc, Y, index, learners, alpha, totals):
        """Add each task's leave-one-out errors of the block-wise learners."""
        p, q = Xc.shape[1], Yc.shape[1]
        classification = self.target_type_ == "classification"

        def floats_per_task(m):
            return m * (4 * p * q + 2 * p + 3 * q + np.minimum(m, 64)) + p * (p + q)

        for tasks, (P, Q, Yb), mask in index.padded_blocks(
            [Xc, Yc, Y], floats_per_task
        ):
            a = alpha[tasks]  # one strength per task
            n = index.counts[tasks].astype(float)
            Pt = P.transpose(0, 2, 1)
            cross = Pt @ Q
            if "univariate" in learners:
                denom = np.einsum("kmp,kmp->kp", P, P) + a[:, None]
                coef = cross / denom[:, :, None]
                hat = 1.0 / n[:, None, None] + P * P / denom[:, None, :]
                resid = Q[:, :, None, :] - P[..., None] * coef[:, None, :, :]
                resid /= (1.0 - hat)[..., None]
                if classification:
                    cond = denom / a[:, None]
                    rtol = _linear_tie_rtol(cond[:, None, :], hat)[..., None]
                    truth = Yb[:, :, None, :]
                    err = _expected_error(truth - resid, truth, rtol)
                else:
                    err = resid[..., 0] ** 2
                per_column = np.einsum("kmp,km->kp", err, mask)
                totals["univariate"][tasks] = per_column.min(axis=1)
            if "ridge" in learners:
                gram = Pt @ P
                inverse = np.linalg.inv(gram + a[:, None, None] * np.eye(p))
                hat = 1.0 / n[:, None] + np.einsum("kmp,kmp->km", P @ inverse, P)
                resid = (Q - P @ (inverse @ cross)) / (1.0 - hat)[..., None]
                if classification:
                    cond = 1.0 + np.einsum("kpp->k", gram) / a
                    rtol = _linear_tie_rtol(cond[:, None], hat)[..., None]
                    err = _expected_error(Yb - resid, Yb, rtol)
                else:
                    err = resid[..., 0] ** 2
                totals["ridge"][tasks] = (err * mask).sum(axis=1)
            if "1nn" in learners:
                target = Yb if classification else Q
                totals["1nn"][tasks] = _nearest_neighbour_errors(
                    P, target, mask, classification
                )


def _linear_tie_rtol(cond: np.ndarray, hat: np.ndarray) -> np.ndarray:
    """Tie tolerance of leave-one-out class scores of a ridge learner."""
    return _TIE_RTOL + _TIE_SAFETY * _EPS * cond / (1.0 - hat)


def _nearest_neighbour_errors(P, target, mask, classification):
    """Per-task sums of leave-one-out 1-NN errors of a padded block of tasks.

    For a query row ``i`` the nearest rows minimise ``|x_j|^2 - 2 x_i . x_j``
    (the squared distance less ``|x_i|^2``), which one matrix product of the
    augmented rows ``[-2 x_i, 1]`` and ``[x_j, |x_j|^2]`` gives for a whole
    chunk of queries.
    """
    k, m, _ = P.shape
    sq = np.einsum("kmp,kmp->km", P, P)
    tol = (_DISTANCE_TIE_RTOL * sq.max(axis=1))[:, None, None]
    queries = np.concatenate([-2.0 * P, np.ones((k, m, 1))], axis=2)
    keys = np.concatenate([P, sq[..., None]], axis=2).transpose(0, 2, 1).copy()
    padding = None if mask.all() else np.where(mask, 0.0, np.inf)[:, None, :]
    chunk = max(1, BLOCK_FLOATS // max(k * m, 1))
    total = np.zeros(k)
    for start in range(0, m, chunk):
        stop = min(start + chunk, m)
        rows = np.arange(stop - start)
        score = queries[:, start:stop] @ keys
        if padding is not None:
            score += padding
        score[:, rows, start + rows] = np.inf
        best = score.argmin(axis=2)[..., None]
        nearest = score <= np.take_along_axis(score, best, axis=2) + tol
        n_nearest = np.count_nonzero(nearest, axis=2)
        votes = np.take_along_axis(target, best, axis=1)
        tied = np.nonzero(n_nearest > 1)
        if tied[0].size:
            # ties: the mean target of all nearest rows
            votes[tied] = (
                np.einsum("rm,rmc->rc", nearest[tied], target[tied[0]])
                / n_nearest[tied][:, None]
            )
        truth = target[:, start:stop]
        if classification:
            err = 1.0 - (votes * truth).sum(axis=2)
        else:
            err = (truth[..., 0] - votes[..., 0]) ** 2
        total += (err * mask[:, start:stop]).sum(axis=1)
    return total
