"""TransferRegressor: one linear model per task, transferred from similar tasks.

All tasks are fitted at once from per-task sufficient statistics: one batched
``(n_tasks, q, q)`` solve (or eigendecomposition) instead of a loop of per-task
fits (see :mod:`sk_metameta.transfer._linear`).
"""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    TASK_PARAMETER_CONSTRAINTS,
    BaseTaskEstimator,
    atomic_fit,
    check_numeric_target,
)
from ._compat import Interval, _check_sample_weight, _fit_context
from ._components import component_errors, resolve_transfer_rule
from ._task_space import linear_task_models
from ._threads import with_one_blas_thread
from .transfer._linear import Frame, LinearTransferProblem, RowData, TaskStats
from .transfer.base import check_linear_result

__all__ = ["TransferRegressor"]


class TransferRegressor(RegressorMixin, BaseTaskEstimator):
    """Linear regression per task, with parameters transferred from similar tasks.

    Every task (the rows sharing a ``tasks`` label) gets its own linear model.
    Tasks are described by task features (``task_features``) and compared with a
    task metric (``metric``); each task draws on its ``n_neighbors`` nearest other
    tasks (its *sources*), weighted by the similarity ``k(d / h)`` of a kernel
    ``k`` (``kernel``) of their distance ``d`` and bandwidth ``h``
    (``bandwidth``). The transfer rule (``transfer``) builds the models; the
    default, ``"hierarchical"``, treats the task models as draws from a prior
    learned from all tasks at once (empirical Bayes): a local prior mean from
    each task's sources (weighted by similarity and by the precision of their
    fits), a between-task covariance of the coefficients, the noise variance and
    heavy tails, so that how much a task is pulled toward its sources follows
    from what the many tasks say, not from its own few rows (see
    :class:`~sk_metameta.transfer.HierarchicalTransfer`). Every rule is closed
    form from per-task sufficient statistics and batched over all tasks.

    With ``tasks=None`` all rows are one task and the estimator is
    :class:`~sklearn.linear_model.Ridge` with the same ``alpha`` and
    ``fit_intercept``. A task not seen in fit is predicted *zero-shot*: its
    nearest fitted tasks are found from the task features of its rows (which
    must not need ``y``) and the rule's zero-shot model (for ``"prior"``, the
    prior) is used.

    Parameters
    ----------
    transfer : str, BaseTransferRule or type, default="hierarchical"
        Transfer rule: ``"hierarchical"``, ``"prior"``, ``"none"``,
        ``"additive"``, ``"interpolate"``, ``"ensemble"``, ``"instance"``,
        ``"select"`` (or one a plugin registers), a rule instance (for its
        parameters, for example ``HierarchicalTransfer(covariance="diag")``) or a
        rule class.
    task_features : str, BaseTaskFeatures or callable, default="moments"
        Task feature extractor: registered name, instance, class or function of
        one task's ``X``. Unused with a metric on samples.
    metric : str, BaseTaskMetric or callable, default="euclidean"
        Task metric on task features (registered name, instance, class or
        ``func(u, v) -> float``), or on the tasks' samples (``"mmd"``,
        ``"energy"``, ...).
    n_neighbors : int, "auto" or None, default="auto"
        Number of nearest sources of each task; ``None`` means every other task
        (at most 20,000 tasks); ``"auto"`` means every other task up to 51 tasks,
        and the 50 nearest beyond. An int larger than the number of tasks minus
        one is an error.
    kernel : {"gaussian", "laplacian", "inverse", "uniform"} or callable, \
            default="gaussian"
        Kernel of the scaled distance ``u = d / h``: ``exp(-u**2 / 2)``,
        ``exp(-u)``, ``1 / (1 + u)``, or 1; a callable maps an array of ``u`` to
        similarities.
    bandwidth : float or {"median", "mean"}, default="median"
        Kernel scale ``h``: a positive number, or the median (mean) of the
        distances from every task to its sources in fit.
    alpha : float >= 0, default=1.0
        Ridge penalty ``alpha * ||w||^2`` of every task's own fit and of the
        pooled fits, as in :class:`~sklearn.linear_model.Ridge` (the intercept
        is not penalised). The ``"hierarchical"`` rule's learned prior
        regularises the task models instead (``alpha`` is used with one task).
    fit_intercept : bool, default=True
        Whether the models have an intercept.

    Attributes
    ----------
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in fit (``[None]`` after a fit with
        ``tasks=None``).
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of each task's model, in the order of ``tasks_``.
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task's model.
    pooled_coef_ : ndarray of shape (n_features,)
        Coefficients of the ridge fit on all rows (used for ``tasks=None``).
    pooled_intercept_ : float
        Its intercept.
    task_features_ : ndarray of shape (n_tasks, n_task_features) or None
        Task features of each task (None with a sample metric or one task).
    neighbors_ : ndarray of shape (n_tasks, n_neighbors)
        Source task numbers (indices into ``tasks_``) of each task, nearest
        first. Empty (``n_neighbors = 0``) for a rule that transfers nothing,
        whose fit needs no sources (the search is then done when a task not
        seen in fit is predicted).
    neighbor_distances_ : ndarray of shape (n_tasks, n_neighbors)
        Their distances.
    n_neighbors_ : int or None
        Number of sources of each task (``None``: every other task).
    task_distances_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Distance from each task (row) to each of its sources (column).
    similarity_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Similarity of each task (row) to each of its sources (column).
    source_weights_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Weight of each source (column) in each task's model (row), as the rule
        reports it (for ``"prior"``: the normalised weights of the prior's
        pooled fit).
    transferability_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks) or None
        Score of each source's own ridge model on each task's rows (minus its
        mean squared error), for the rules that use it; ``None`` otherwise.
    strength_ : ndarray of shape (n_tasks,) or None
        Transfer strength each task got, for rules that choose one per task
        (``"hierarchical"``: the share of the prior in the task's posterior
        precision, from 0 to 1; ``"prior"``: in rows, 0 for no transfer).
    prior_coef_ : ndarray of shape (n_tasks, n_features) or None
        Coefficients of each task's prior model, for the rules that build one
        (``"hierarchical"``: the local prior mean; ``"prior"``).
    prior_intercept_ : ndarray of shape (n_tasks,) or None
        Their intercepts.
    prior_covariance_ : ndarray of shape (q, q) or None
        Between-task covariance of the models learned by ``"hierarchical"``,
        in the shared frame (first the intercept at the mean of the training
        rows, then the coefficients of the features); ``None`` for other rules.
    noise_variance_ : float or None
        Noise variance of a row learned by ``"hierarchical"``.
    own_weights_ : ndarray of shape (n_tasks,) or None
        Weight of each task's own model in its combined model, for rules that
        mix predictions (``"ensemble"``, ``"select"``); ``None`` otherwise.
    bandwidth_ : float or None
        Kernel bandwidth used in fit and for new tasks (None when a rule that
        transfers nothing deferred the search and ``bandwidth`` is a string).
    transfer_rule_ : BaseTransferRule
        The resolved transfer rule.
    metric_ : BaseTaskMetric
        The resolved task metric.
    task_feature_extractor_ : BaseTaskFeatures or None
        The fitted task feature extractor.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in fit, when ``X`` has string column names.

    See Also
    --------
    sk_metameta.MetricMetaEstimator : Transfer for any scikit-learn estimator.
    sk_metameta.transfer.HierarchicalTransfer : The default rule and its
        parameters.
    sklearn.linear_model.Ridge : The model of each task.

    Notes
    -----
    In every rule, a model is fitted in the frame of the centred training data;
    the intercept is free in the task's own ridge fit (as in ``Ridge``), shrunk
    with the coefficients toward the prior's in ``"prior"``, refitted on the
    task's rows after the update in ``"additive"`` and ``"interpolate"``, and
    shared with the sources' rows in ``"instance"``. See each rule's
    documentation in :mod:`sk_metameta.transfer` for its exact formula.

    ``tasks`` is metadata requested by default by ``fit``, ``predict`` and
    ``score``: with ``sklearn.set_config(enable_metadata_routing=True)``,
    :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate` route each split's task
    labels to it. ``predict(X)`` without ``tasks`` after a fit on several tasks
    warns (:class:`TasksMissingWarning`) and uses the pooled model.

    With ``n_neighbors`` set (or ``"auto"``) and many tasks, the sources are found
    without an ``n_tasks x n_tasks`` matrix: a scikit-learn tree index for task
    features of at most 8 columns, and from 20,000 tasks with more columns an
    approximate search (random-projection forest, refined by neighbours of
    neighbours; see :func:`sk_metameta.neighbors.find_task_neighbors`), whose
    neighbours are nearly but not always exactly the nearest. The cost of a fit
    is linear in the rows, plus the neighbour search, plus a few batched
    ``(q, q)`` solves and eigendecompositions per task (``q`` the number of
    features plus one).

    Examples
    --------
    >>> from sk_metameta import TransferRegressor
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=20, n_samples_per_task=15,
    ...                                  random_state=0)
    >>> model = TransferRegressor(n_neighbors=5).fit(X, y, tasks=tasks)
    >>> model.coef_.shape, model.neighbors_.shape
    ((20, 5), (20, 5))
    >>> model.predict(X[:3], tasks=tasks[:3]).shape
    (3,)
    >>> round(model.score(X, y, tasks=tasks), 2) > 0.8
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **TASK_PARAMETER_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(
        self,
        *,
        transfer="hierarchical",
        task_features="moments",
        metric="euclidean",
        n_neighbors="auto",
        kernel="gaussian",
        bandwidth="median",
        alpha=1.0,
        fit_intercept=True,
    ):
        self.transfer = transfer
        self.task_features = task_features
        self.metric = metric
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        return tags

    # -- fit ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    @atomic_fit
    @with_one_blas_thread
    def fit(self, X, y, tasks=None, sample_weight=None):
        """Fit one linear model per task, transferring from similar tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,)
            Targets.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row; ``None`` means one task (plain ridge).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in its task's fit and in every pooled fit.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, y_numeric=True, multi_output=False)
        check_numeric_target(y, type(self).__name__)
        y = np.asarray(y, dtype=float)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=float, ensure_non_negative=True
        )
        rule = resolve_transfer_rule(self.transfer)
        index = self._fit_index(tasks, X.shape[0])
        self.transfer_rule_ = rule
        stats, rows = self._sufficient_statistics(X, y, sample_weight, index)
        # a rule that transfers nothing needs no sources: the search is deferred
        # until a task not seen in fit is predicted
        self._fit_task_space(
            X,
            y,
            index,
            search=rule.transfers != "nothing",
            # a fitted metric learns from each task's own ridge model
            task_models=lambda: linear_task_models(stats, self._penalty, self._scale),
        )
        problem = LinearTransferProblem(
            stats=stats,
            source_stats=stats,
            source_coef=None,
            similarity=self.similarity_,
            penalty=self._penalty,
            scale=self._scale,
            rows=rows,
            fit_intercept=self.fit_intercept,
        )
        own = problem.own_coef()
        problem.source_coef = own
        self._own_coef = own
        with component_errors(rule):
            result = rule.fit_linear(problem)
        result = check_linear_result(
            rule, result, index.n_tasks, own.shape[1], index.n_tasks
        )
        coef = result.coef
        self._coef = coef
        self.coef_, self.intercept_ = self._to_original(coef)
        pooled = problem.ridge(self._pooled_stats)
        pc, pi = self._to_original(pooled)
        self.pooled_coef_, self.pooled_intercept_ = pc[0], float(pi[0])
        self.source_weights_ = sparse.csr_array(result.source_weights, dtype=float)
        self.strength_ = (
            None if result.strength is None else np.asarray(result.strength, float)
        )
        own_weight = result.info.get("own_weight")
        self.own_weights_ = (
            None if own_weight is None else np.asarray(own_weight, dtype=float)
        )
        self.transferability_ = problem._transferability
        self._set_prior_attributes(result.info)
        return self

    def _set_prior_attributes(self, info):
        """The prior the rule built (and learned), in the units of ``X`` and ``y``."""
        learned = info.get("learned_prior")
        self._learned_prior = learned
        if "prior" in info:
            self.prior_coef_, self.prior_intercept_ = self._to_original(
                np.asarray(info["prior"], dtype=float)
            )
        else:
            self.prior_coef_ = self.prior_intercept_ = None
        self.prior_covariance_ = None if learned is None else learned.covariance
        self.noise_variance_ = None if learned is None else learned.noise_variance

    def _sufficient_statistics(self, X, y, sample_weight, index):
        """Per-task statistics in the shared frame (and the penalty and scale)."""
        self._frame = Frame.of(X, sample_weight, self.fit_intercept)
        self._y_mean = (
            float(sample_weight @ y / sample_weight.sum())
            if self.fit_intercept
            else 0.0
        )
        Z = self._design(X)
        rows = RowData(Z, y - self._y_mean, sample_weight, index.codes, index.n_tasks)
        stats = TaskStats.from_rows(rows, index.n_tasks)
        penalty = np.full(Z.shape[1], float(self.alpha))
        if self.fit_intercept:
            penalty[0] = 0.0
        pooled = TaskStats(
            stats.G.sum(axis=0, keepdims=True),
            stats.g.sum(axis=0, keepdims=True),
            stats.h.sum(keepdims=True),
            stats.n.sum(keepdims=True),
        )
        self._penalty, self._scale = penalty, pooled.G[0] / pooled.n[0]
        self._stats, self._pooled_stats = stats, pooled
        return stats, rows

    def _design(self, X):
        return self._frame.design(X)

    def _to_original(self, coef):
        """Coefficients and intercepts in the units of ``X`` and ``y``."""
        return self._frame.to_original(coef, self._y_mean)

    # -- predict -----------------------------------------------------------------------
    def _models_for(self, X, index, codes):
        """Model (in the shared frame) of each task of ``index``."""
        if self._single_task:
            return np.repeat(self._coef, index.n_tasks, axis=0)
        coef = np.empty((index.n_tasks, self._coef.shape[1]))
        seen = codes >= 0
        coef[seen] = self._coef[codes[seen]]
        if not seen.all() and self.tasks_.shape[0] == 1:
            coef[~seen] = self._coef[0]  # a single fitted task is the only source
        elif not seen.all():
            coef[~seen] = self._zero_shot(X, index, np.flatnonzero(~seen))
        return coef

    def _zero_shot(self, X, index, unseen):
        """Models of the tasks ``unseen`` (numbers in ``index``), from their X."""
        S, neighbors = self._locate(X, index, unseen)
        n_new, q = neighbors.indices.shape[0], self._coef.shape[1]
        empty = TaskStats(
            np.zeros((n_new, q, q)),
            np.zeros((n_new, q)),
            np.zeros(n_new),
            np.zeros(n_new),
        )
        problem = LinearTransferProblem(
            stats=empty,
            source_stats=self._stats,
            source_coef=self._own_coef,
            similarity=S,
            penalty=self._penalty,
            scale=self._scale,
            rows=None,
            fit_intercept=self.fit_intercept,
            learned_prior=self._learned_prior,
        )
        rule = self.transfer_rule_
        with component_errors(rule):
            result = rule.zero_shot_linear(problem)
        return check_linear_result(rule, result, n_new, q, self.tasks_.shape[0]).coef

    def _predictive_variance(self, Z, index, codes):
        """Variance of each row's prediction under its task's posterior."""
        prior = self._learned_prior
        if prior is None:
            raise ValueError(
                "return_std=True needs a rule that learns a prior over the task "
                "models (transfer='hierarchical'); the rule "
                f"{self.transfer_rule_.name!r} has none."
            )
        variance = np.empty(Z.shape[0])
        row_codes = codes[index.codes]
        seen = row_codes >= 0
        if seen.any():
            task = row_codes[seen]
            variance[seen] = prior.predictive_variance(
                Z[seen], self._stats.take(task), prior.scale[task]
            )
        if not seen.all():
            variance[~seen] = prior.predictive_variance(
                Z[~seen], None, np.ones((~seen).sum())
            )
        return variance

    @with_one_blas_thread
    def predict(self, X, tasks=None, return_std=False):
        """Predict with each row's task model (zero-shot for tasks not seen in fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row. ``None`` after a fit on several tasks warns
            (:class:`~sk_metameta.TasksMissingWarning`) and predicts with the
            pooled model (``pooled_coef_``, ``pooled_intercept_``).
        return_std : bool, default=False
            Also return the standard deviation of the predictive distribution
            of each row (noise and the uncertainty of its task's model, as
            :class:`~sklearn.linear_model.BayesianRidge` does); needs a rule
            that learns a prior (``"hierarchical"``). A task not seen in fit
            has the prior's covariance.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        y_std : ndarray of shape (n_samples,)
            Standard deviation of each prediction, with ``return_std=True``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        if self._single_task and tasks is None and not return_std:
            return X @ self.coef_[0] + self.intercept_[0]
        index, codes = self._predict_index(
            X, tasks, fallback="predicting with the pooled model of all tasks"
        )
        if index is None:
            if return_std:
                raise ValueError("return_std=True needs the tasks of the rows.")
            return X @ self.pooled_coef_ + self.pooled_intercept_
        coef = self._models_for(X, index, codes)
        Z = self._design(X)
        y_pred = self._y_mean + np.einsum("ij,ij->i", Z, coef[index.codes])
        if not return_std:
            return y_pred
        if self._single_task:
            codes = np.zeros_like(codes)
        return y_pred, np.sqrt(self._predictive_variance(Z, index, codes))

    def score(self, X, y, tasks=None, sample_weight=None):
        """Coefficient of determination of the predictions (see :meth:`predict`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test rows.
        y : array-like of shape (n_samples,)
            True values.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score` of ``predict(X, tasks)``.
        """
        return float(
            r2_score(y, self.predict(X, tasks=tasks), sample_weight=sample_weight)
        )
