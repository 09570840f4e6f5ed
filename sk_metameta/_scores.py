"""The one table of scores the library computes, over all rows and task by task.

Every entry is a :class:`Score`: its readable label, the response it needs
(``predict`` or ``predict_proba``), its direction, the kind of estimator it is for,
the score over all rows (scikit-learn's own metric function) and the same score for
every task at once (one pass of segment sums over task codes, with sample weights).
Names and scikit-learn's scorer names are aliases of one entry: ``"mse"`` and
``"neg_mean_squared_error"`` are the same score. An entry always returns the
natural quantity (the mean squared error itself, positive); multiply by
:attr:`Score.sign` for scikit-learn's greater-is-better scorer convention.

The per-task scores are exactly scikit-learn's metric applied to the rows of each
task (up to rounding):

- ``r2`` and ``explained_variance`` as ``r2_score`` / ``explained_variance_score``
  with ``force_finite=True`` (a task with fewer than two rows has no R^2: NaN);
- ``mse``, ``rmse``, ``mae``: weighted means of the squared or absolute errors,
  averaged uniformly over outputs;
- ``accuracy``: weighted share of correct labels;
- ``log_loss``: weighted mean of ``-log p``, with ``p`` the probability of the true
  class clipped to ``[eps, 1 - eps]``;
- ``roc_auc`` (binary): the weighted share of (positive, negative) pairs ranked in
  the right order, ties counting one half, which is the area under the weighted
  ROC curve; NaN for a task whose rows hold one class.

A task without rows scores NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    explained_variance_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

__all__ = ["SCORES", "Score", "get_score"]


@dataclass(frozen=True)
class Score:
    """One score of the table: over all rows, and for every task at once.

    Attributes
    ----------
    name : str
        Name of the entry (``"mse"``).
    label : str
        Readable name (``"mean squared error"``).
    response : {"predict", "predict_proba"}
        The estimator method whose output the score compares with the truth.
    greater_is_better : bool
        Whether a greater value is better.
    kind : {"regressor", "classifier"}
        The kind of estimator it scores.
    aliases : tuple of str
        Other names of the entry (scikit-learn's scorer names).
    """

    name: str
    label: str
    response: str
    greater_is_better: bool
    kind: str
    aliases: tuple = ()
    overall: Callable = field(default=None, repr=False)
    per_task: Callable | None = field(default=None, repr=False)

    @property
    def sign(self) -> float:
        """``1.0`` if greater is better, else ``-1.0`` (scikit-learn's scorers)."""
        return 1.0 if self.greater_is_better else -1.0

    def score(self, y_true, response, *, classes=None, sample_weight=None) -> float:
        """The score of all rows together.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets (class labels for a classifier score).
        response : array-like
            Predictions, or class probabilities of shape ``(n_samples, n_classes)``
            with columns in the order of ``classes`` for a ``predict_proba`` score.
        classes : array-like of shape (n_classes,), default=None
            Sorted class labels (``predict_proba`` scores).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        return float(self.overall(y_true, response, classes, sample_weight))

    def task_scores(
        self, y_true, response, codes, n_tasks, *, classes=None, sample_weight=None
    ) -> np.ndarray:
        """The score of every task's rows, computed for all tasks at once.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets (class labels for a classifier score).
        response : array-like
            As in :meth:`score`.
        codes : array-like of int of shape (n_samples,)
            Task number of each row, in ``[0, n_tasks)``.
        n_tasks : int
            Number of tasks.
        classes : array-like of shape (n_classes,), default=None
            Sorted class labels (``predict_proba`` scores).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        scores : ndarray of shape (n_tasks,)
            NaN for a task without rows (or where the score is undefined).
        """
        if self.per_task is None:
            raise ValueError(f"score {self.name!r} has no per-task version.")
        codes = np.asarray(codes, dtype=np.intp)
        w = (
            np.ones(codes.shape[0])
            if sample_weight is None
            else np.asarray(sample_weight, dtype=float)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.per_task(
                np.asarray(y_true), np.asarray(response), classes, codes, n_tasks, w
            )


# -- per-task scores -------------------------------------------------------------
def _task_sums(codes, values, n_tasks) -> np.ndarray:
    """Per-task sums of ``values``: shape ``(n_tasks,)`` or ``(n_tasks, m)``."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_tasks)
    return np.stack(
        [np.bincount(codes, weights=col, minlength=n_tasks) for col in values.T],
        axis=1,
    )


def _as_columns(y, pred):
    Y = y.reshape(y.shape[0], -1).astype(float)
    return Y, pred.reshape(Y.shape).astype(float)


def _weighted_means(codes, w, values, n_tasks):
    """Per-task weighted means of the columns of ``values``."""
    total = np.bincount(codes, weights=w, minlength=n_tasks)
    return _task_sums(codes, w[:, None] * values, n_tasks) / total[:, None]


def _mse(y, pred, classes, codes, n_tasks, w):
    Y, P = _as_columns(y, pred)
    return _weighted_means(codes, w, (Y - P) ** 2, n_tasks).mean(axis=1)


def _rmse(y, pred, classes, codes, n_tasks, w):
    Y, P = _as_columns(y, pred)
    return np.sqrt(_weighted_means(codes, w, (Y - P) ** 2, n_tasks)).mean(axis=1)


def _mae(y, pred, classes, codes, n_tasks, w):
    Y, P = _as_columns(y, pred)
    return _weighted_means(codes, w, np.abs(Y - P), n_tasks).mean(axis=1)


def _finite_ratio(numerator, denominator):
    """``1 - num / den`` as scikit-learn's ``force_finite=True`` defines it."""
    out = np.where(denominator != 0, 1.0 - numerator / denominator, 0.0)
    return np.where(numerator == 0, 1.0, out)


def _r2(y, pred, classes, codes, n_tasks, w):
    Y, P = _as_columns(y, pred)
    mean = _weighted_means(codes, w, Y, n_tasks)
    sse = _task_sums(codes, w[:, None] * (Y - P) ** 2, n_tasks)
    sst = _task_sums(codes, w[:, None] * (Y - mean[codes]) ** 2, n_tasks)
    r2 = _finite_ratio(sse, sst).mean(axis=1)
    r2[np.bincount(codes, minlength=n_tasks) < 2] = np.nan
    return r2


def _explained_variance(y, pred, classes, codes, n_tasks, w):
    Y, P = _as_columns(y, pred)
    diff = Y - P
    mean_diff = _weighted_means(codes, w, diff, n_tasks)
    mean_y = _weighted_means(codes, w, Y, n_tasks)
    residual = _weighted_means(codes, w, (diff - mean_diff[codes]) ** 2, n_tasks)
    total = _weighted_means(codes, w, (Y - mean_y[codes]) ** 2, n_tasks)
    ev = _finite_ratio(residual, total).mean(axis=1)
    ev[np.bincount(codes, minlength=n_tasks) == 0] = np.nan
    return ev


def _accuracy(y, labels, classes, codes, n_tasks, w):
    total = np.bincount(codes, weights=w, minlength=n_tasks)
    hit = (labels == y).astype(float)
    return np.bincount(codes, weights=w * hit, minlength=n_tasks) / total


def _class_codes(y, classes):
    classes = np.asarray(classes)
    pos = np.clip(np.searchsorted(classes, y), 0, classes.size - 1)
    if not np.array_equal(classes[pos], y):
        raise ValueError("y_true holds labels that are not in classes.")
    return pos


def _log_loss(y, proba, classes, codes, n_tasks, w):
    proba = proba.astype(float)
    eps = np.finfo(proba.dtype).eps
    p = np.clip(
        proba[np.arange(proba.shape[0]), _class_codes(y, classes)], eps, 1 - eps
    )
    total = np.bincount(codes, weights=w, minlength=n_tasks)
    return np.bincount(codes, weights=-w * np.log(p), minlength=n_tasks) / total


def _roc_auc(y, proba, classes, codes, n_tasks, w):
    _check_binary(classes)
    positive = _class_codes(y, classes) == 1
    score = proba[:, 1].astype(float)
    # rows sorted by task, then score; a run of equal (task, score) is one tie group
    order = np.lexsort((score, codes))
    c, s, pos, wt = codes[order], score[order], positive[order], w[order]
    starts = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (s[1:] != s[:-1])])
    group_task = c[starts]
    w_pos = np.add.reduceat(np.where(pos, wt, 0.0), starts)
    w_neg = np.add.reduceat(np.where(pos, 0.0, wt), starts)
    # negative weight ranked strictly below each group, within its task
    below = np.cumsum(w_neg) - w_neg
    task_neg = np.bincount(group_task, weights=w_neg, minlength=n_tasks)
    task_pos = np.bincount(group_task, weights=w_pos, minlength=n_tasks)
    task_start = np.cumsum(task_neg) - task_neg
    below -= task_start[group_task]
    right = np.bincount(
        group_task, weights=w_pos * (below + 0.5 * w_neg), minlength=n_tasks
    )
    auc = right / (task_pos * task_neg)
    auc[(task_pos <= 0) | (task_neg <= 0)] = np.nan
    return auc


def _check_binary(classes):
    if classes is None or np.asarray(classes).size != 2:
        raise ValueError("scoring='roc_auc' is for binary targets only.")


def _overall_log_loss(y, proba, classes, w):
    return log_loss(y, proba, labels=classes, sample_weight=w)


def _overall_roc_auc(y, proba, classes, w):
    _check_binary(classes)
    return roc_auc_score(y, np.asarray(proba)[:, 1], sample_weight=w)


def _sklearn(metric):
    return lambda y, pred, classes, w: metric(y, pred, sample_weight=w)


_TABLE = [
    Score(
        "explained_variance",
        "explained variance",
        "predict",
        True,
        "regressor",
        (),
        _sklearn(explained_variance_score),
        _explained_variance,
    ),
    Score("r2", "R^2", "predict", True, "regressor", (), _sklearn(r2_score), _r2),
    Score(
        "mse",
        "mean squared error",
        "predict",
        False,
        "regressor",
        ("neg_mean_squared_error",),
        _sklearn(mean_squared_error),
        _mse,
    ),
    Score(
        "rmse",
        "root mean squared error",
        "predict",
        False,
        "regressor",
        ("neg_root_mean_squared_error",),
        _sklearn(root_mean_squared_error),
        _rmse,
    ),
    Score(
        "mae",
        "mean absolute error",
        "predict",
        False,
        "regressor",
        ("neg_mean_absolute_error",),
        _sklearn(mean_absolute_error),
        _mae,
    ),
    Score(
        "accuracy",
        "accuracy",
        "predict",
        True,
        "classifier",
        (),
        _sklearn(accuracy_score),
        _accuracy,
    ),
    Score(
        "log_loss",
        "log loss",
        "predict_proba",
        False,
        "classifier",
        ("neg_log_loss",),
        _overall_log_loss,
        _log_loss,
    ),
    Score(
        "roc_auc",
        "ROC AUC",
        "predict_proba",
        True,
        "classifier",
        (),
        _overall_roc_auc,
        _roc_auc,
    ),
]

#: Every score of the table by its name and by each of its aliases.
SCORES: dict[str, Score] = {
    key: entry for entry in _TABLE for key in (entry.name, *entry.aliases)
}


def get_score(name: str) -> Score:
    """The entry of the table for a score name or alias.

    Parameters
    ----------
    name : str
        ``"explained_variance"``, ``"r2"``, ``"mse"``, ``"rmse"``, ``"mae"``,
        ``"accuracy"``, ``"log_loss"``, ``"roc_auc"``, or a scikit-learn scorer
        name of the same score (``"neg_mean_squared_error"``, ...).

    Returns
    -------
    score : Score
        The entry.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the names available.

    Examples
    --------
    >>> from sk_metameta._scores import get_score
    >>> mse = get_score("neg_mean_squared_error")
    >>> mse.name, mse.greater_is_better, mse.sign
    ('mse', False, -1.0)
    >>> mse.task_scores([1.0, 2.0, 0.0, 0.0], [1.0, 4.0, 1.0, 1.0], [0, 0, 1, 1], 2)
    array([2., 1.])
    """
    entry = SCORES.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(f"unknown scoring {name!r}; available: {', '.join(SCORES)}.")
    return entry
