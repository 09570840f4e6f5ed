"""Few-shot evaluation over tasks, its baselines, and the ``sk-metameta demo`` command.

:func:`few_shot_evaluation` is the protocol of the demo, the benchmarks and the
examples: every task in turn is a *target* with ``k`` labelled rows, the other tasks
are *sources* with all their rows, and the target's remaining rows are the test set.
:class:`PerTaskModel` and :class:`PooledModel` are the baselines a user would
otherwise write: one model per task, and one model for all rows (optionally with a
per-task intercept).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.metrics import (
    accuracy_score,
    explained_variance_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from ._tasks import check_tasks

__all__ = [
    "FewShotResult",
    "PerTaskModel",
    "PooledModel",
    "add_demo_parser",
    "few_shot_evaluation",
]


# -- baselines ------------------------------------------------------------------------
def _copy_type_tags(tags, estimator):
    inner = get_tags(estimator)
    tags.estimator_type = inner.estimator_type
    tags.classifier_tags = inner.classifier_tags
    tags.regressor_tags = inner.regressor_tags
    tags.target_tags.required = True
    tags.input_tags.sparse = False
    return tags


def _task_labels(tasks, n_samples: int) -> np.ndarray:
    """Validated task labels; ``None`` means one task (label 0)."""
    if tasks is None:
        return np.zeros(n_samples, dtype=int)
    index = check_tasks(tasks, n_samples)
    return index.labels[index.codes]


def _lookup(known: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each of ``labels`` in the sorted ``known``, and whether found."""
    try:
        pos = np.clip(np.searchsorted(known, labels), 0, known.size - 1)
    except TypeError as exc:
        raise ValueError(
            f"task labels at predict time ({labels.dtype}) are not of the kind seen "
            f"in fit ({known.dtype})."
        ) from exc
    return pos, known[pos] == labels


class PerTaskModel(BaseEstimator):
    """One clone of an estimator per task, each fitted on its own task's rows only.

    The "target-only" baseline: no knowledge moves between tasks. A classifier
    task whose labelled rows hold a single class cannot be fitted; it predicts the
    Laplace-smoothed class frequencies of its rows, ``(n_c + 1) / (n + n_classes)``.
    With ``tasks=None`` all rows are one task and the model is its estimator.

    Parameters
    ----------
    estimator : estimator object
        The scikit-learn estimator cloned for every task.

    Attributes
    ----------
    tasks_ : ndarray of shape (n_tasks,)
        Task labels seen in fit, sorted (``[0]`` after a fit with ``tasks=None``).
    estimators_ : list of estimator objects or ndarray
        Fitted clone of each task (in the order of ``tasks_``), or, for a
        single-class classification task, its smoothed class probabilities.
    classes_ : ndarray of shape (n_classes,)
        Class labels over all tasks (classifiers only).
    n_features_in_ : int
        Number of features seen in fit.

    See Also
    --------
    PooledModel : One model for the rows of all tasks.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from sk_metameta.model_selection import PerTaskModel
    >>> X = [[0.0], [1.0], [0.0], [1.0]]
    >>> model = PerTaskModel(LinearRegression())
    >>> model.fit(X, [0.0, 1.0, 5.0, 3.0], tasks=["a", "a", "b", "b"])
    PerTaskModel(estimator=LinearRegression())
    >>> model.predict([[2.0], [2.0]], tasks=["a", "b"]).round(6).tolist()
    [2.0, 1.0]
    """

    __metadata_request__fit: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict_proba: ClassVar[dict] = {"tasks": True}

    def __init__(self, estimator=None):
        self.estimator = estimator

    def __sklearn_tags__(self):
        return _copy_type_tags(super().__sklearn_tags__(), self.estimator)

    def fit(self, X, y, *, tasks=None):
        """Fit one clone of ``estimator`` per task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,)
            Targets.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row; ``None`` means a single task.

        Returns
        -------
        self : PerTaskModel
            The fitted model.
        """
        if self.estimator is None:
            raise ValueError("PerTaskModel needs an estimator, e.g. Ridge().")
        classifier = is_classifier(self.estimator)
        X, y = validate_data(self, X, y, y_numeric=not classifier)
        if classifier:
            check_classification_targets(y)
            self.classes_, y_codes = np.unique(y, return_inverse=True)
        index = check_tasks(_task_labels(tasks, X.shape[0]), X.shape[0])
        self.tasks_ = index.labels
        self.estimators_ = []
        for t in range(index.n_tasks):
            rows = index.rows(t)
            if classifier and np.unique(y_codes[rows]).size < 2:
                counts = np.bincount(y_codes[rows], minlength=self.classes_.size)
                self.estimators_.append((counts + 1.0) / (rows.size + counts.size))
            else:
                self.estimators_.append(clone(self.estimator).fit(X[rows], y[rows]))
        return self

    def _apply(self, X, tasks, method):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        if tasks is None and self.tasks_.size > 1:
            raise ValueError(
                f"PerTaskModel was fitted on {self.tasks_.size} tasks; give the task "
                "of each row with tasks=."
            )
        index = check_tasks(_task_labels(tasks, X.shape[0]), X.shape[0])
        codes, seen = _lookup(self.tasks_, index.labels)
        if not seen.all():
            raise ValueError(
                "PerTaskModel has no model for tasks "
                f"{index.labels[~seen][:5].tolist()}: it fits each task on its own "
                "rows, so every task needs labelled rows in fit."
            )
        out = None
        for t in range(index.n_tasks):
            rows = index.rows(t)
            model = self.estimators_[codes[t]]
            if isinstance(model, np.ndarray):
                proba = np.broadcast_to(model, (rows.size, model.size))
                part = (
                    proba
                    if method == "predict_proba"
                    else self.classes_[np.argmax(proba, axis=1)]
                )
            else:
                part = getattr(model, method)(X[rows])
                if method == "predict_proba":
                    full = np.zeros((rows.size, self.classes_.size))
                    full[:, np.searchsorted(self.classes_, model.classes_)] = part
                    part = full
            if out is None:
                out = np.empty((X.shape[0], *np.shape(part)[1:]), dtype=part.dtype)
            out[rows] = part
        return out

    def predict(self, X, *, tasks=None):
        """Predict each row with the model of its task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row; every task must have been seen in fit.
            ``None`` only after a single-task fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._apply(X, tasks, "predict")

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X, *, tasks=None):
        """Class probabilities of each row from the model of its task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row; every task must have been seen in fit.
            ``None`` only after a single-task fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._apply(X, tasks, "predict_proba")

    def score(self, X, y, sample_weight=None, *, tasks=None):
        """R^2 (regressors) or accuracy (classifiers) of the per-task predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.

        Returns
        -------
        score : float
        """
        pred = self.predict(X, tasks=tasks)
        if is_classifier(self):
            return float(accuracy_score(y, pred, sample_weight=sample_weight))
        return float(r2_score(y, pred, sample_weight=sample_weight))


class PooledModel(BaseEstimator):
    """One estimator for the rows of all tasks, optionally with a per-task intercept.

    With ``task_intercept=True`` the features are extended by a one-hot encoding of
    the task (what a user writes as "pooled model plus a dummy per task"; sparse
    when the estimator accepts sparse input); the estimator's own regularisation
    then applies to the task intercepts too, so a cross-validated penalty (such as
    :class:`~sklearn.linear_model.RidgeCV`'s) chooses how far they shrink. A task
    not seen in fit gets the all-zero encoding, that is the pooled model alone.

    Parameters
    ----------
    estimator : estimator object
        A scikit-learn regressor or classifier.
    task_intercept : bool, default=False
        Whether to add one indicator column per task.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels seen in fit, sorted (with ``task_intercept=True``).
    classes_ : ndarray of shape (n_classes,)
        Class labels (classifiers only).
    n_features_in_ : int
        Number of features seen in fit.

    See Also
    --------
    PerTaskModel : One model per task.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from sk_metameta.model_selection import PooledModel
    >>> X = [[0.0], [1.0], [0.0], [1.0]]
    >>> model = PooledModel(LinearRegression(), task_intercept=True)
    >>> model.fit(X, [0.0, 1.0, 4.0, 5.0], tasks=["a", "a", "b", "b"])
    PooledModel(estimator=LinearRegression(), task_intercept=True)
    >>> model.predict([[2.0], [2.0]], tasks=["a", "b"]).round(6).tolist()
    [2.0, 6.0]
    """

    __metadata_request__fit: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict_proba: ClassVar[dict] = {"tasks": True}

    def __init__(self, estimator=None, *, task_intercept=False):
        self.estimator = estimator
        self.task_intercept = task_intercept

    def __sklearn_tags__(self):
        return _copy_type_tags(super().__sklearn_tags__(), self.estimator)

    def _design(self, X, tasks):
        if not self.task_intercept:
            return X
        labels = _task_labels(tasks, X.shape[0])
        codes, seen = _lookup(self.tasks_, labels)
        rows = np.flatnonzero(seen)
        onehot = sparse.csr_matrix(
            (np.ones(rows.size), (rows, codes[rows])),
            shape=(X.shape[0], self.tasks_.size),
        )
        if get_tags(self.estimator).input_tags.sparse:
            return sparse.hstack([sparse.csr_matrix(X), onehot], format="csr")
        return np.hstack([X, onehot.toarray()])

    def fit(self, X, y, *, tasks=None):
        """Fit the estimator on the rows of all tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,)
            Targets.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row, for ``task_intercept=True``; ``None`` means a
            single task.

        Returns
        -------
        self : PooledModel
            The fitted model.
        """
        if self.estimator is None:
            raise ValueError("PooledModel needs an estimator, e.g. Ridge().")
        X, y = validate_data(self, X, y, y_numeric=not is_classifier(self.estimator))
        if self.task_intercept:
            self.tasks_ = np.unique(_task_labels(tasks, X.shape[0]))
        elif tasks is not None:
            check_tasks(tasks, X.shape[0])
        self.estimator_ = clone(self.estimator).fit(self._design(X, tasks), y)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X, *, tasks=None):
        """Predict with the pooled estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row, for ``task_intercept=True``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict(self._design(X, tasks))

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X, *, tasks=None):
        """Class probabilities from the pooled estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row, for ``task_intercept=True``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict_proba(self._design(X, tasks))

    def score(self, X, y, sample_weight=None, *, tasks=None):
        """R^2 (regressors) or accuracy (classifiers) of the pooled predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row, for ``task_intercept=True``.

        Returns
        -------
        score : float
        """
        pred = self.predict(X, tasks=tasks)
        if is_classifier(self):
            return float(accuracy_score(y, pred, sample_weight=sample_weight))
        return float(r2_score(y, pred, sample_weight=sample_weight))


# -- the few-shot protocol ----------------------------------------------------------
def _fit_predict(method, X, y, tasks, train, test, score, classes):
    """Fit a clone of ``method`` on the rows ``train``, respond on ``test``.

    Returns the predictions (or class probabilities, columns in the order of
    ``classes``) of the test rows and the seconds spent in ``fit``.
    """
    model = clone(method)
    fit_kw = {"tasks": tasks[train]} if _takes_tasks(model, "fit") else {}
    start = time.perf_counter()
    model.fit(X[train], y[train], **fit_kw)
    seconds = time.perf_counter() - start
    respond = getattr(model, score.response, None)
    if respond is None:
        raise ValueError(
            f"{type(model).__name__} has no {score.response}, needed for the scoring."
        )
    kw = {"tasks": tasks[test]} if _takes_tasks(model, score.response) else {}
    out = np.asarray(respond(X[test], **kw))
    if classes is not None:
        model_classes = getattr(model, "classes_", classes)
        full = np.zeros((out.shape[0], classes.size))
        full[:, np.searchsorted(classes, model_classes)] = out
        out = full
    return out, seconds


@dataclass(frozen=True)
class _Scoring:
    label: str
    func: Callable
    response: str
    greater_is_better: bool


def _log_loss(y, proba, classes):
    return log_loss(y, proba, labels=classes)


def _roc_auc(y, proba, classes):
    if classes.size != 2:
        raise ValueError("scoring='roc_auc' is for binary targets only.")
    return roc_auc_score(y, proba[:, 1])


_SCORINGS = {
    "explained_variance": _Scoring(
        "explained variance",
        lambda y, p, c: explained_variance_score(y, p),
        "predict",
        True,
    ),
    "r2": _Scoring("R^2", lambda y, p, c: r2_score(y, p), "predict", True),
    "mse": _Scoring(
        "mean squared error", lambda y, p, c: mean_squared_error(y, p), "predict", False
    ),
    "mae": _Scoring(
        "mean absolute error",
        lambda y, p, c: mean_absolute_error(y, p),
        "predict",
        False,
    ),
    "accuracy": _Scoring(
        "accuracy", lambda y, p, c: accuracy_score(y, p), "predict", True
    ),
    "log_loss": _Scoring("log loss", _log_loss, "predict_proba", False),
    "roc_auc": _Scoring("ROC AUC", _roc_auc, "predict_proba", True),
}


def _check_scoring(scoring) -> tuple[str, _Scoring]:
    if callable(scoring):
        name = getattr(scoring, "__name__", "score")
        return name, _Scoring(name, lambda y, p, c: scoring(y, p), "predict", True)
    if scoring not in _SCORINGS:
        raise ValueError(
            f"unknown scoring {scoring!r}; available: {', '.join(_SCORINGS)}, or a "
            "function score(y_true, y_pred) where greater is better."
        )
    return scoring, _SCORINGS[scoring]


def _takes_tasks(method, name: str) -> bool:
    """Whether ``method.<name>`` has an explicit ``tasks`` parameter."""
    func = getattr(method, name, None)
    if func is None:
        return False
    try:
        return "tasks" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        return False


class _Progress:
    """A progress bar on stderr: tqdm when installed, else a plain counter."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.count = 0
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False)

    def update(self) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled:
            print(
                f"\r{self.desc}: {self.count}/{self.total} fits",
                end="",
                file=sys.stderr,
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


@dataclass
class FewShotResult:
    """Scores of a :func:`few_shot_evaluation`, method by method and ``k`` by ``k``.

    Attributes
    ----------
    methods : list of str
        Method names, in the order given.
    ks : list of int
        Numbers of labelled rows per target.
    scoring : str
        Name of the score.
    label : str
        Readable name of the score.
    greater_is_better : bool
        Whether a greater score is better.
    average : {"rows", "tasks"}
        Pooled over all test rows, or the mean over target tasks.
    scores : ndarray of shape (n_methods, n_ks, n_repeats)
        Score of each method at each ``k`` in each repeat.
    fit_times : ndarray of shape (n_methods, n_ks, n_repeats)
        Seconds spent in ``fit``, summed over the folds.
    n_targets : ndarray of shape (n_ks,)
        Number of target tasks evaluated at each ``k``.
    n_tasks : int
        Number of tasks.
    n_folds : int
        Number of folds of tasks.
    task_labels : ndarray of shape (n_tasks,)
        Task labels, sorted.
    task_scores : ndarray of shape (n_methods, n_ks, n_repeats, n_tasks) or None
        Score of each target task (NaN where a task was not a target at that
        ``k``); only with ``average="tasks"``.
    """

    methods: list
    ks: list
    scoring: str
    label: str
    greater_is_better: bool
    average: str
    scores: np.ndarray
    fit_times: np.ndarray
    n_targets: np.ndarray
    n_tasks: int
    n_folds: int
    task_labels: np.ndarray
    task_scores: np.ndarray | None = None

    @property
    def n_repeats(self) -> int:
        """Number of repeats."""
        return int(self.scores.shape[2])

    def mean_scores(self) -> np.ndarray:
        """Mean score over repeats, of shape ``(n_methods, n_ks)``."""
        return self.scores.mean(axis=2)

    def best(self) -> list:
        """Name of the best method at each ``k`` (by mean score)."""
        mean = self.mean_scores()
        pick = np.argmax if self.greater_is_better else np.argmin
        return [self.methods[i] for i in pick(mean, axis=0)]

    def table(self, *, digits: int = 3) -> str:
        """The results as one text table: a row per method, a column per ``k``.

        Parameters
        ----------
        digits : int, default=3
            Decimals of the scores.

        Returns
        -------
        table : str
            Title lines and the table; with several repeats every cell is
            ``mean±std``. The last column is the fit time in seconds, summed over
            folds and ``k``, averaged over repeats.
        """
        better = "higher" if self.greater_is_better else "lower"
        over = (
            "pooled over the test rows"
            if self.average == "rows"
            else ("averaged over target tasks")
        )
        lines = [
            f"{self.label} on the targets' held-out rows, {over} ({better} is better)",
            f"{self.n_tasks} tasks, {self.n_folds} folds of target tasks, "
            f"{self.n_repeats} repeat(s); targets per k: "
            + ", ".join(
                f"k={k}: {n}" for k, n in zip(self.ks, self.n_targets, strict=True)
            ),
        ]
        mean, std = self.scores.mean(axis=2), self.scores.std(axis=2)
        header = ["method", *[f"k={k}" for k in self.ks], "fit s"]
        rows = []
        for i, name in enumerate(self.methods):
            cells = [name]
            for j in range(len(self.ks)):
                cell = f"{mean[i, j]:.{digits}f}"
                if self.n_repeats > 1:
                    cell += f"±{std[i, j]:.{digits}f}"
                cells.append(cell)
            cells.append(f"{self.fit_times[i].sum(axis=0).mean():.2f}")
            rows.append(cells)
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
        for r in [header, *rows]:
            lines.append(
                "  ".join(
                    cell.ljust(w) if c == 0 else cell.rjust(w)
                    for c, (cell, w) in enumerate(zip(r, widths, strict=True))
                ).rstrip()
            )
        return "\n".join(lines)

    def to_frame(self):
        """The scores as a long pandas DataFrame (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``method``, ``k``, ``repeat``, the score and ``fit_time``.
        """
        import pandas as pd

        m, k, r = np.meshgrid(
            np.arange(len(self.methods)),
            np.arange(len(self.ks)),
            np.arange(self.n_repeats),
            indexing="ij",
        )
        return pd.DataFrame(
            {
                "method": np.asarray(self.methods, dtype=object)[m.ravel()],
                "k": np.asarray(self.ks)[k.ravel()],
                "repeat": r.ravel(),
                self.scoring: self.scores.ravel(),
                "fit_time": self.fit_times.ravel(),
            }
        )


def check_protocol(
    index, ks, *, n_folds=5, n_repeats=1, average="rows", min_test_rows=5
) -> tuple[list, np.ndarray]:
    """Validate the parameters of :func:`few_shot_evaluation` for the tasks ``index``.

    Parameters
    ----------
    index : TaskIndex
        The tasks (see :func:`sk_metameta.check_tasks`).
    ks, n_folds, n_repeats, average, min_test_rows
        As in :func:`few_shot_evaluation`.

    Returns
    -------
    ks : list of int
        The numbers of labelled rows.
    eligible : ndarray of bool of shape (n_ks, n_tasks)
        Whether each task has enough rows to be a target at each ``k``.
    """
    ks = [int(k) for k in np.atleast_1d(ks)]
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive numbers of labelled rows, got {ks}.")
    if not 2 <= n_folds <= index.n_tasks:
        raise ValueError(
            f"n_folds must be between 2 and the number of tasks ({index.n_tasks}), "
            f"got {n_folds}."
        )
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be at least 1, got {n_repeats}.")
    if average not in ("rows", "tasks"):
        raise ValueError(f"average must be 'rows' or 'tasks', got {average!r}.")
    if min_test_rows < 1:
        raise ValueError(f"min_test_rows must be at least 1, got {min_test_rows}.")
    eligible = np.array([index.counts >= k + min_test_rows for k in ks])
    if not eligible.any(axis=1).all():
        k = ks[int(np.flatnonzero(~eligible.any(axis=1))[0])]
        raise ValueError(
            f"no task has the k + min_test_rows = {k + min_test_rows} rows needed for"
            f" k={k} (the largest task has {index.counts.max()})."
        )
    return ks, eligible


def few_shot_evaluation(
    X,
    y,
    tasks,
    methods: Mapping[str, object],
    ks: Sequence[int] = (5, 10, 20),
    *,
    n_folds: int = 5,
    n_repeats: int = 1,
    scoring="explained_variance",
    average: str = "rows",
    min_test_rows: int = 5,
    random_state=None,
    progress: bool = False,
) -> FewShotResult:
    """Few-shot evaluation: every task in turn is a target with ``k`` labelled rows.

    The tasks are split at random into ``n_folds`` folds. For each fold and each
    ``k``, every task of the fold is a *target*: ``k`` of its rows, drawn at random,
    are labelled and join the training set, and its other rows are the test set;
    every other task is a *source* with all its rows. Each method is cloned and
    fitted once per fold and ``k`` on that training set, and predicts the targets'
    test rows. The labelled rows are nested: those at ``k = 5`` are among those at
    ``k = 10``. A task with fewer than ``k + min_test_rows`` rows is not a target
    at that ``k`` (it stays a source with all its rows).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Rows of all tasks.
    y : array-like of shape (n_samples,)
        Targets.
    tasks : array-like of shape (n_samples,)
        Task label of each row.
    methods : mapping of str to estimator
        Estimators to compare, by name. They are cloned for every fit, and get
        ``tasks=`` in ``fit`` and ``predict`` (``predict_proba``) when those
        methods take a ``tasks`` parameter; plain scikit-learn estimators are
        fitted on the pooled rows.
    ks : sequence of int, default=(5, 10, 20)
        Numbers of labelled rows per target.
    n_folds : int, default=5
        Number of folds of target tasks (``n_tasks`` gives leave-one-task-out).
    n_repeats : int, default=1
        Number of repeats with new folds and new labelled rows.
    scoring : str or callable, default="explained_variance"
        ``"explained_variance"``, ``"r2"``, ``"mse"``, ``"mae"``, ``"accuracy"``,
        ``"log_loss"`` (from ``predict_proba``), ``"roc_auc"`` (binary), or a
        function ``score(y_true, y_pred)`` where greater is better.
    average : {"rows", "tasks"}, default="rows"
        ``"rows"`` scores the test rows of all targets together (so the score
        counts how well the differences between tasks are predicted, too);
        ``"tasks"`` averages the scores of the target tasks.
    min_test_rows : int, default=5
        Least number of test rows of a target.
    random_state : int, RandomState instance or None, default=None
        Seed of the folds and of the labelled rows.
    progress : bool, default=False
        Show progress on stderr (tqdm when installed, else a counter).

    Returns
    -------
    result : FewShotResult
        Scores and fit times, with :meth:`FewShotResult.table`.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sk_metameta.model_selection import (
    ...     PerTaskModel, PooledModel, few_shot_evaluation)
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=12, n_samples_per_task=30,
    ...                                  n_clusters=1, random_state=0)
    >>> methods = {"target-only": PerTaskModel(Ridge()), "pooled": Ridge()}
    >>> result = few_shot_evaluation(X, y, tasks, methods, ks=[5, 10],
    ...                              n_folds=3, random_state=0)
    >>> result.scores.shape
    (2, 2, 1)
    >>> result.best()
    ['pooled', 'pooled']
    """
    X, y = check_X_y(X, y, dtype=float)
    index = check_tasks(tasks, X.shape[0], min_tasks=2, purpose="few-shot evaluation")
    tasks = np.asarray(tasks)
    if not isinstance(methods, Mapping) or not methods:
        raise ValueError("methods must be a non-empty mapping of name to estimator.")
    scoring, score = _check_scoring(scoring)
    ks, eligible = check_protocol(
        index,
        ks,
        n_folds=n_folds,
        n_repeats=n_repeats,
        average=average,
        min_test_rows=min_test_rows,
    )
    classes = np.unique(y) if score.response == "predict_proba" else None
    names = list(methods)
    n_m, n_k, n = len(names), len(ks), X.shape[0]
    scores = np.empty((n_m, n_k, n_repeats))
    fit_times = np.zeros((n_m, n_k, n_repeats))
    task_scores = (
        np.full((n_m, n_k, n_repeats, index.n_tasks), np.nan)
        if average == "tasks"
        else None
    )
    shape = (n,) if classes is None else (n, classes.size)
    # predicted labels of a classifier may be str; everything else is a number
    pred_dtype = float if classes is not None or y.dtype.kind in "fiub" else object
    rng = check_random_state(random_state)
    bar = _Progress(n_repeats * n_folds * n_k * n_m, "few-shot fits", progress)
    try:
        for r in range(n_repeats):
            fold = rng.permutation(index.n_tasks) % n_folds
            keys = rng.random_sample(n)
            order = np.lexsort((keys, index.codes))
            rank = np.empty(n, dtype=np.intp)
            rank[order] = np.arange(n) - index.offsets[index.codes[order]]
            for j, k in enumerate(ks):
                preds = np.full((n_m, *shape), np.nan, dtype=pred_dtype)
                tested = np.zeros(n, dtype=bool)
                for f in range(n_folds):
                    targets = (fold == f) & eligible[j]
                    if not targets.any():
                        for _ in range(n_m):
                            bar.update()
                        continue
                    target_row = targets[index.codes]
                    train = ~target_row | (rank < k)
                    test = target_row & (rank >= k)
                    tested |= test
                    for i, name in enumerate(names):
                        response, seconds = _fit_predict(
                            methods[name], X, y, tasks, train, test, score, classes
                        )
                        preds[i, test] = response
                        fit_times[i, j, r] += seconds
                        bar.update()
                for i in range(n_m):
                    scores[i, j, r] = score.func(y[tested], preds[i, tested], classes)
                    if task_scores is not None:
                        for t in np.flatnonzero(eligible[j]):
                            rows = index.rows(t)
                            rows = rows[tested[rows]]
                            task_scores[i, j, r, t] = score.func(
                                y[rows], preds[i, rows], classes
                            )
                if task_scores is not None:
                    scores[:, j, r] = np.nanmean(task_scores[:, j, r], axis=1)
    finally:
        bar.close()
    return FewShotResult(
        methods=names,
        ks=ks,
        scoring=scoring,
        label=score.label,
        greater_is_better=score.greater_is_better,
        average=average,
        scores=scores,
        fit_times=fit_times,
        n_targets=eligible.sum(axis=1),
        n_tasks=index.n_tasks,
        n_folds=n_folds,
        task_labels=index.labels,
        task_scores=task_scores,
    )


# -- the ``sk-metameta demo`` command -----------------------------------------------
_RIDGE_ALPHAS = np.logspace(-1, 3, 9)


def demo_methods() -> dict:
    """The methods the demo compares, by name.

    Returns
    -------
    methods : dict of str to estimator
        The baselines (target-only ridge, pooled ridge, pooled ridge with a
        per-task intercept whose penalty is chosen by generalised
        cross-validation) and :class:`~sk_metameta.TransferRegressor` with each
        registered transfer rule it supports.
    """
    from sklearn.linear_model import Ridge, RidgeCV

    methods = {
        "target-only ridge": PerTaskModel(Ridge(alpha=1.0)),
        "pooled ridge": PooledModel(Ridge(alpha=1.0)),
        "pooled + task intercept": PooledModel(
            RidgeCV(alphas=_RIDGE_ALPHAS), task_intercept=True
        ),
    }
    methods.update(transfer_methods())
    return methods


def _fits_linear_models(rule) -> bool:
    """Whether :class:`~sk_metameta.TransferRegressor` can use the transfer ``rule``.

    It can unless the rule transfers parameters without implementing
    ``fit_linear`` (the base class builds linear models for the other kinds).
    """
    from .transfer.base import BaseTransferRule

    overrides = type(rule).fit_linear is not BaseTransferRule.fit_linear
    return overrides or rule.transfers != "parameters"


def transfer_methods() -> dict:
    """TransferRegressor with its defaults and with every built-in rule it supports.

    Returns
    -------
    methods : dict of str to TransferRegressor
        ``"TransferRegressor (default: <rule>)"`` first, then one
        ``"TransferRegressor (<rule>)"`` per other transfer rule of the built-in
        plugin in the registry (:func:`sk_metameta.plugins.get_registry`) that it
        can fit.
    """
    from ._transfer_regressor import TransferRegressor
    from .plugins import BUILTIN_PLUGIN, get_registry

    default = TransferRegressor()
    methods = {f"TransferRegressor (default: {default.transfer})": default}
    for component in get_registry().components("transfer_rule"):
        if component.plugin != BUILTIN_PLUGIN or component.name == default.transfer:
            continue
        if _fits_linear_models(component.create()):
            methods[f"TransferRegressor ({component.name})"] = TransferRegressor(
                transfer=component.name
            )
    return methods


def _check_plot_path(path: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError(
            "--plot needs matplotlib; install it with `pip install sk-metameta[plot]`."
        ) from None
    import os

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--plot: the folder {folder!r} does not exist.")


def _task_similarity(X, y, tasks):
    """Similarity of every pair of tasks as TransferRegressor's defaults see it."""
    from ._transfer_regressor import TransferRegressor

    model = TransferRegressor(n_neighbors=None).fit(X, y, tasks=tasks)
    S = model.similarity_.toarray()
    S = 0.5 * (S + S.T)
    np.fill_diagonal(S, 1.0)
    how = (
        f"{model.kernel} kernel of the {model.metric_.name} distance between "
        f"{model.task_feature_extractor_.name}"
    )
    return S, model.tasks_, how


def plot_demo(
    result: FewShotResult, X, y, tasks, path: str, *, task_name: str = "tasks"
) -> None:
    """Save the demo's figure: task similarity heatmap and learning curves.

    Parameters
    ----------
    result : FewShotResult
        The evaluation to draw; with a score where greater is better (such as the
        explained variance) the curves show ``1 - score``.
    X : array-like of shape (n_samples, n_features)
        Rows of all tasks.
    y : array-like of shape (n_samples,)
        Targets.
    tasks : array-like of shape (n_samples,)
        Task label of each row.
    path : str
        File to write (PNG by its extension).
    task_name : str, default="tasks"
        What the tasks are, for the titles (``"schools"``).
    """
    from matplotlib.figure import Figure
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    S, labels, how = _task_similarity(X, y, tasks)
    D = np.clip(1.0 - S, 0.0, None)
    np.fill_diagonal(D, 0.0)
    order = leaves_list(linkage(squareform(D, checks=False), "average"))
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    ax_sim, ax_curve = fig.subplots(1, 2, width_ratios=[1, 1.15])
    image = ax_sim.imshow(S[np.ix_(order, order)], cmap="viridis", vmin=0, vmax=1)
    ax_sim.set_title(f"Similarity of the {labels.size} {task_name}\n({how})")
    ax_sim.set_xlabel(f"{task_name} (grouped by hierarchical clustering)")
    ax_sim.set_ylabel(task_name)
    fig.colorbar(image, ax=ax_sim, shrink=0.8, label="similarity")
    mean, std = result.scores.mean(axis=2), result.scores.std(axis=2)
    error = 1.0 - mean if result.greater_is_better else mean
    markers = "osD^v<>ph*X"
    for i, name in enumerate(result.methods):
        ax_curve.errorbar(
            result.ks,
            error[i],
            yerr=std[i] if result.n_repeats > 1 else None,
            marker=markers[i % len(markers)],
            linestyle="--" if name.startswith("TransferRegressor") else "-",
            capsize=3,
            label=name,
        )
    ax_curve.set_xticks(result.ks)
    ax_curve.set_xlabel("labelled rows of the target (k)")
    ax_curve.set_ylabel(
        f"1 - {result.label}" if result.greater_is_better else result.label
    )
    ax_curve.set_title("Few-shot learning curves (lower is better)")
    ax_curve.grid(alpha=0.3)
    ax_curve.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(path, dpi=110)


def demo_data(max_tasks: int | None = None):
    """The rows of the demo: High School and Beyond, optionally fewer schools.

    Parameters
    ----------
    max_tasks : int, default=None
        Keep only the first ``max_tasks`` schools (by label).

    Returns
    -------
    X, y, tasks : ndarrays
        As :func:`sk_metameta.datasets.load_hsb` with ``return_X_y_tasks=True``.
    """
    from .datasets import load_hsb

    X, y, tasks = load_hsb(return_X_y_tasks=True)
    if max_tasks is not None:
        if max_tasks < 2:
            raise ValueError(f"--max-tasks must be at least 2, got {max_tasks}.")
        keep = np.isin(tasks, np.unique(tasks)[:max_tasks])
        X, y, tasks = X[keep], y[keep], tasks[keep]
    return X, y, tasks


def run_demo(
    *,
    ks=(5, 10, 20),
    n_folds: int = 5,
    n_repeats: int = 1,
    random_state=0,
    max_tasks: int | None = None,
    methods: Mapping[str, object] | None = None,
    progress: bool = False,
):
    """The demo's few-shot evaluation on the High School and Beyond data.

    Parameters
    ----------
    ks : sequence of int, default=(5, 10, 20)
        Labelled students per target school.
    n_folds : int, default=5
        Folds of target schools.
    n_repeats : int, default=1
        Repeats with new folds and labelled students.
    random_state : int, RandomState instance or None, default=0
        Seed.
    max_tasks : int, default=None
        Use only the first ``max_tasks`` schools (by label), for a quick run.
    methods : mapping of str to estimator, default=None
        Methods to compare; default :func:`demo_methods`.
    progress : bool, default=False
        Show progress on stderr.

    Returns
    -------
    result : FewShotResult
        The scores (explained variance pooled over the test rows).
    data : tuple of (X, y, tasks)
        The rows used.
    """
    X, y, tasks = demo_data(max_tasks)
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        demo_methods() if methods is None else methods,
        ks,
        n_folds=n_folds,
        n_repeats=n_repeats,
        random_state=random_state,
        progress=progress,
    )
    return result, (X, y, tasks)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _cmd_demo(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    try:  # the user's mistakes: reported in one line, before any work
        if args.plot:
            _check_plot_path(args.plot)
        _, _, tasks = demo_data(args.max_tasks)
        check_protocol(
            check_tasks(tasks), args.k, n_folds=args.folds, n_repeats=args.repeats
        )
    except ValueError as exc:
        print(f"sk-metameta demo: error: {exc}", file=sys.stderr)
        return 2
    result, (X, y, tasks) = run_demo(
        ks=args.k,
        n_folds=args.folds,
        n_repeats=args.repeats,
        random_state=args.random_state,
        max_tasks=args.max_tasks,
        progress=not args.quiet,
    )
    print(
        "High School and Beyond: mathematics achievement of students in US schools;"
        " one task per school.\nEvery school in turn is the target with k labelled "
        "students; the other schools are sources."
    )
    print(result.table())
    if args.plot:
        plot_demo(result, X, y, tasks, args.plot, task_name="schools")
        print(f"figure written to {args.plot}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` command to the ``sk-metameta`` command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command registry of the main parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``demo`` parser.
    """
    parser = subparsers.add_parser(
        "demo",
        help="few-shot transfer between schools on the embedded real dataset",
        description=(
            "Few-shot evaluation on High School and Beyond (7,185 students, 160 "
            "schools): each school in turn is a target with k labelled students, "
            "the other schools are sources, the target's other students are the "
            "test set. Prints the explained variance of the test rows (pooled over "
            "all targets' test rows) of the baselines and of TransferRegressor with "
            "each transfer rule."
        ),
    )
    parser.add_argument(
        "--k",
        nargs="+",
        type=_positive_int,
        default=[5, 10, 20],
        metavar="K",
        help="labelled students per target school (default: 5 10 20)",
    )
    parser.add_argument(
        "--folds",
        type=_positive_int,
        default=5,
        help="folds of target schools; each fold is fitted once (default: 5)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive_int,
        default=1,
        help="repeats with new folds and labelled students (default: 1)",
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="random seed (default: 0)"
    )
    parser.add_argument(
        "--max-tasks",
        type=_positive_int,
        default=None,
        metavar="N",
        help="use only the first N schools, for a quick run",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        default=None,
        help="write a figure: school similarity heatmap and learning curves "
        "(needs matplotlib: pip install sk-metameta[plot])",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress indicator on stderr"
    )
    parser.set_defaults(func=_cmd_demo)
    return parser
