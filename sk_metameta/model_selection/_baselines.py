"""The baselines a transfer method has to beat: one model per task, one for all.

:class:`PerTaskModel` fits a clone of an estimator on each task's rows alone (the
"target-only" baseline); :class:`PooledModel` fits one estimator on the rows of all
tasks, optionally with a per-task intercept (one indicator column per task).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._tasks import check_tasks

__all__ = ["PerTaskModel", "PooledModel"]


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
