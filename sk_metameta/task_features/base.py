"""Base classes of task feature extractors."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._components import component_errors
from .._tasks import TaskIndex, check_tasks
from ..plugins import describe_component

__all__ = ["BaseTaskFeatures", "CallableTaskFeatures"]


class BaseTaskFeatures(BaseEstimator):
    """Base of every task feature extractor: all tasks at once to one row each.

    Subclasses set ``name``, ``summary`` and ``requires_y``, and implement
    ``_fit(X, y, index)`` (learn whatever is shared across tasks; may do nothing;
    must set ``feature_names_out_``) and ``_transform(X, y, index)`` returning an
    array of shape ``(index.n_tasks, n_task_features)``, rows in the order of
    ``index.labels``. ``__init__`` only stores keyword arguments.

    Extractors with ``requires_y = False`` can describe a task that has no labels
    yet, which lets an estimator predict for an unseen task (zero-shot).

    ``transform`` and ``fit_transform`` validate what ``_transform`` returns, in
    one place for every extractor: one finite row per task. An error names the
    extractor and its plugin, and so does an exception raised inside an
    extractor that is not a built-in.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    requires_y: ClassVar[bool] = False
    #: Least number of rows per task.
    min_rows: ClassVar[int] = 1

    def fit(self, X, y=None, *, tasks):
        """Learn what the extractor shares across tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,), default=None
            Targets; required when ``requires_y`` is True.
        tasks : array-like of shape (n_samples,) or TaskIndex
            Task label of each row.

        Returns
        -------
        self : object
        """
        X, y, index = self._check_input(X, y, tasks)
        self.n_features_in_ = X.shape[1]
        with component_errors(self):
            self._fit(X, y, index)
        return self

    def transform(self, X, y=None, *, tasks) -> np.ndarray:
        """Task features of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,), default=None
            Targets; required when ``requires_y`` is True.
        tasks : array-like of shape (n_samples,) or TaskIndex
            Task label of each row.

        Returns
        -------
        task_features : ndarray of shape (n_tasks, n_task_features)
            One row per task, in the order of the sorted task labels.
        """
        check_is_fitted(self, "n_features_in_")
        X, y, index = self._check_input(X, y, tasks)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"task features {self.name!r}: X has {X.shape[1]} features, but the "
                f"extractor was fitted with {self.n_features_in_}."
            )
        with component_errors(self):
            F = self._transform(X, y, index)
        return _checked_features(self, F, index)

    def fit_transform(self, X, y=None, *, tasks) -> np.ndarray:
        """Fit, then return the task features of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,), default=None
            Targets; required when ``requires_y`` is True.
        tasks : array-like of shape (n_samples,) or TaskIndex
            Task label of each row.

        Returns
        -------
        task_features : ndarray of shape (n_tasks, n_task_features)
        """
        X, y, index = self._check_input(X, y, tasks)
        self.n_features_in_ = X.shape[1]
        with component_errors(self):
            self._fit(X, y, index)
            F = self._transform(X, y, index)
        return _checked_features(self, F, index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the task features.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Names of the columns of ``X``; default ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str of shape (n_task_features,)
        """
        check_is_fitted(self, "n_features_in_")
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray(self._feature_names(list(input_features)), dtype=object)

    # -- to implement ----------------------------------------------------------
    def _fit(self, X: np.ndarray, y, index: TaskIndex) -> None:
        """Learn shared state; the default learns nothing."""

    def _transform(self, X: np.ndarray, y, index: TaskIndex) -> np.ndarray:
        raise NotImplementedError

    def _feature_names(self, input_features: list[str]) -> list[str]:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------
    def _check_input(self, X, y, tasks):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(
                f"task features {self.name!r}: X must be a non-empty 2-D array, got "
                f"shape {X.shape}."
            )
        if not np.isfinite(X).all():
            raise ValueError(
                f"task features {self.name!r}: X contains NaN or infinity."
            )
        index = check_tasks(
            tasks,
            X.shape[0],
            min_rows=self.min_rows,
            purpose=f"task features {self.name!r}",
        )
        if self.requires_y:
            if y is None:
                raise ValueError(
                    f"task features {self.name!r} need y; use an X-only extractor "
                    "to describe tasks without labels."
                )
            y = np.asarray(y)
            if y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"task features {self.name!r}: y has {y.shape[0]} rows but X has "
                    f"{X.shape[0]}."
                )
        return X, y, index


def _checked_features(extractor, F, index: TaskIndex) -> np.ndarray:
    """The task features an extractor returned, validated: one finite row per task.

    An error names the extractor and its plugin (the check of every extractor's
    output, in one place).
    """
    try:
        F = np.asarray(F, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{describe_component(extractor)} returned {type(F).__name__} "
            f"{F!r:.80}, not an array of task features."
        ) from None
    if F.ndim != 2 or F.shape[0] != index.n_tasks:
        raise ValueError(
            f"{describe_component(extractor)} returned shape {F.shape}; expected one "
            f"row per task, ({index.n_tasks}, n_task_features)."
        )
    bad = ~np.isfinite(F).all(axis=1)
    if bad.any():
        labels = index.labels[bad]
        more = f" and {labels.size - 5} more" if labels.size > 5 else ""
        raise ValueError(
            f"{describe_component(extractor)} returned non-finite task features for "
            f"the tasks {', '.join(map(repr, labels[:5].tolist()))}{more}."
        )
    return F


class CallableTaskFeatures(BaseTaskFeatures):
    """Task features from a plain function of one task's rows.

    ``func(X_task)`` (or ``func(X_task, y_task)`` with ``requires_y=True``) returns
    a 1-D vector; it is called once per task.

    Parameters
    ----------
    func : callable
        Maps the rows of one task to a 1-D array of task features.
    requires_y : bool, default=False
        Whether ``func`` takes the task's targets as a second argument.

    Examples
    --------
    >>> import numpy as np
    >>> features = CallableTaskFeatures(lambda X: X.max(axis=0))
    >>> features.fit_transform(np.arange(6.0).reshape(3, 2), tasks=[0, 0, 1]).tolist()
    [[2.0, 3.0], [4.0, 5.0]]
    """

    name: ClassVar[str] = "callable"
    summary: ClassVar[str] = "A user function of one task's rows."

    def __init__(self, func=None, *, requires_y=False):
        self.func = func
        self.requires_y = requires_y

    def _transform(self, X, y, index):
        if not callable(self.func):
            raise ValueError(
                f"CallableTaskFeatures needs a callable, got {self.func!r}."
            )
        rows = []
        for t in range(index.n_tasks):
            r = index.rows(t)
            out = self.func(X[r], y[r]) if self.requires_y else self.func(X[r])
            rows.append(np.asarray(out, dtype=float).ravel())
        sizes = {row.shape[0] for row in rows}
        if len(sizes) != 1:
            raise ValueError(
                "the task feature function returned vectors of lengths "
                f"{sorted(sizes)}; it must return the same length for every task."
            )
        return np.vstack(rows)

    def _feature_names(self, input_features):
        return [f"f{i}" for i in range(self.n_task_features_)]

    def _fit(self, X, y, index):
        self.n_task_features_ = self._transform(X, y, index).shape[1]

    def fit_transform(self, X, y=None, *, tasks) -> np.ndarray:
        """Fit, then return the task features of every task (one call per task).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,), default=None
            Targets; required when ``requires_y`` is True.
        tasks : array-like of shape (n_samples,) or TaskIndex
            Task label of each row.

        Returns
        -------
        task_features : ndarray of shape (n_tasks, n_task_features)
        """
        X, y, index = self._check_input(X, y, tasks)
        features = _checked_features(self, self._transform(X, y, index), index)
        self.n_features_in_ = X.shape[1]
        self.n_task_features_ = features.shape[1]
        return features
