"""The prediction API of MetricMetaEstimator, over the mixtures of :mod:`._mixing`.

Every task predicted gets weights over the fitted models (its own and its
sources', or for a task not seen in fit its nearest fitted tasks'); each fitted
model predicts once, on the rows of every task that draws on it.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .._threads import with_one_blas_thread
from ._mixing import combine, mixture_weights, zero_shot_weights
from ._offsets import shifted

__all__ = ["PredictionMixin"]


def _base_has(attr):
    """``available_if`` check: the wrapped estimator has the method ``attr``."""

    def check(self):
        getattr(self.estimator, attr)
        return True

    return check


class PredictionMixin:
    """``predict``, ``predict_proba``, ``predict_log_proba`` and ``score``.

    For a fitted task estimator with ``estimators_``, ``own_weights_``,
    ``source_weights_`` and ``transfer_rule_``.
    """

    # -- predict -----------------------------------------------------------------------
    def _weights_over_models(self, X, tasks):
        """Task index of ``X`` and each of its tasks' weights over the fitted models."""
        index, codes = self._predict_index(
            X,
            tasks,
            fallback="all rows are treated as one new task and predicted zero-shot "
            "from its nearest tasks",
        )
        if index is None:  # tasks missing: the rows as one new task
            index, codes = self._fit_index(None, X.shape[0]), np.array([-1])
        if self.tasks_.shape[0] == 1:
            codes = np.zeros(index.n_tasks, dtype=np.intp)
        unseen = np.flatnonzero(codes < 0)
        zero_shot = None
        if unseen.size:
            similarity, neighbors = self._locate(X, index, unseen)
            has_model = np.array([m is not None for m in self.estimators_])
            zero_shot = zero_shot_weights(
                similarity, neighbors, self.transfer_rule_, has_model
            )
        weights = mixture_weights(
            codes, self.own_weights_, self.source_weights_, zero_shot
        )
        return index, codes, weights

    @with_one_blas_thread
    def _predict_outputs(self, X, tasks, *, labels):
        """Mixed responses of every row (and labels, for ``predict``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=False)
        index, codes, weights = self._weights_over_models(X, tasks)
        # a task's offset (fitted on its rows) moves its responses, hence its labels
        task_offsets = np.where((codes >= 0)[:, None], self.offsets_[codes], 0.0)
        moved = np.any(task_offsets != 0, axis=1)
        out, pred, single = combine(
            self.estimators_,
            X,
            index,
            weights,
            getattr(self, "classes_", None),
            self._n_outputs,
            labels=labels,
            respond=moved,
        )
        if moved.any():
            log = hasattr(self, "classes_")
            out = shifted(out, task_offsets[index.codes], log)
        return out, pred, single

    # -- public prediction API ---------------------------------------------------------
    def predict(self, X, tasks=None):
        """Predict for rows of seen or new tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row. Tasks not seen in fit are predicted zero-shot;
            ``None`` after a multi-task fit warns and treats all rows as one new
            task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted class labels or values.
        """
        out, pred, single = self._predict_outputs(X, tasks, labels=True)
        if hasattr(self, "classes_"):
            combined = self.classes_[np.argmax(out, axis=1)]
            return np.where(single, pred, combined) if pred is not None else combined
        return out.ravel() if self._y_ndim == 1 else out

    @available_if(_base_has("predict_proba"))
    def predict_proba(self, X, tasks=None):
        """Class probabilities for rows of seen or new tasks.

        Available when the wrapped estimator has ``predict_proba``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row (see :meth:`predict`).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class of ``classes_``; a per-task model that never
            saw a class gives it probability zero.
        """
        return self._predict_outputs(X, tasks, labels=False)[0]

    @available_if(_base_has("predict_proba"))
    def predict_log_proba(self, X, tasks=None):
        """Logarithm of the class probabilities (see :meth:`predict_proba`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, tasks=tasks))

    def score(self, X, y, tasks=None, sample_weight=None):
        """Accuracy (classifier) or coefficient of determination (regressor).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            Accuracy of ``predict(X, tasks)``, or its :math:`R^2`.
        """
        y_pred = self.predict(X, tasks=tasks)
        if self._base_type() == "classifier":
            return float(accuracy_score(y, y_pred, sample_weight=sample_weight))
        return float(r2_score(y, y_pred, sample_weight=sample_weight))
