"""TransferRegressor: one linear model per task, transferred from similar tasks.

All tasks are fitted at once from per-task sufficient statistics: one batched
``(n_tasks, q, q)`` solve (or eigendecomposition) instead of a loop of per-task
fits (see :mod:`sk_metameta.transfer._linear`).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import Interval, StrOptions, _check_sample_weight, _fit_context
from ._components import resolve_metric, resolve_task_features, resolve_transfer_rule
from ._tasks import TaskIndex, check_tasks
from ._threads import with_one_blas_thread
from .exceptions import TasksMissingWarning
from .metrics.base import BaseTaskMetric
from .neighbors import (
    KERNELS,
    TaskNeighbors,
    _check_n_neighbors,
    distance_to_similarity,
    find_task_neighbors,
    nearest_sources,
    resolve_bandwidth,
)
from .task_features.base import BaseTaskFeatures
from .transfer._linear import LinearTransferProblem, RowData, TaskStats
from .transfer.base import BaseTransferRule

__all__ = ["TransferRegressor"]

# With n_neighbors="auto", every other task is a source up to this many tasks.
_AUTO_NEIGHBORS = 50
# Largest number of tasks for which n_neighbors=None (every pair) is accepted.
_MAX_DENSE_TASKS = 20_000


def _label(value):
    return value.item() if isinstance(value, np.generic) else value


class TransferRegressor(RegressorMixin, BaseEstimator):
    """Linear regression per task, with parameters transferred from similar tasks.

    Every task (the rows sharing a ``tasks`` label) gets its own linear model.
    Tasks are described by task features (``task_features``) and compared with a
    task metric (``metric``); each task draws on its ``n_neighbors`` nearest other
    tasks (its *sources*), weighted by the similarity ``k(d / h)`` of a kernel
    ``k`` (``kernel``) of their distance ``d`` and bandwidth ``h``
    (``bandwidth``). The transfer rule (``transfer``) builds the models; the
    default, ``"prior"``, pulls each task's ridge fit toward a ridge fit on its
    sources' rows pooled (the sources weighted by similarity and by how well
    their own models predict the task's rows), with a strength chosen per task
    by closed-form cross-validation (see
    :class:`~sk_metameta.transfer.PriorTransfer`). Every rule is closed form
    from per-task sufficient statistics and batched over all tasks.

    With ``tasks=None`` all rows are one task and the estimator is
    :class:`~sklearn.linear_model.Ridge` with the same ``alpha`` and
    ``fit_intercept``. A task not seen in fit is predicted *zero-shot*: its
    nearest fitted tasks are found from the task features of its rows (which
    must not need ``y``) and the rule's zero-shot model (for ``"prior"``, the
    prior) is used.

    Parameters
    ----------
    transfer : str, BaseTransferRule or type, default="prior"
        Transfer rule: ``"prior"``, ``"none"``, ``"additive"``,
        ``"interpolate"``, ``"ensemble"``, ``"instance"``, ``"select"`` (or one a
        plugin registers), a rule instance (for its parameters, for example
        ``PriorTransfer(strength=10.0)``) or a rule class.
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
        is not penalised).
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
    similarity_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Similarity of each task (row) to each of its sources (column).
    source_weights_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Weight of each source (column) in each task's model (row), as the rule
        reports it (for ``"prior"``: the normalised weights of the prior's
        pooled fit).
    strength_ : ndarray of shape (n_tasks,) or None
        Transfer strength each task got, for rules that choose one per task
        (``"prior"``: in rows, 0 for no transfer).
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
    sk_metameta.transfer.PriorTransfer : The default rule and its parameters.
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

    __metadata_request__fit: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict: ClassVar[dict] = {"tasks": True}
    __metadata_request__score: ClassVar[dict] = {"tasks": True}

    _parameter_constraints: ClassVar[dict] = {
        "transfer": [str, BaseTransferRule, type],
        "task_features": [str, BaseTaskFeatures, type, callable],
        "metric": [str, BaseTaskMetric, type, callable],
        "n_neighbors": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "kernel": [StrOptions(set(KERNELS)), callable],
        "bandwidth": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"median", "mean"}),
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(
        self,
        *,
        transfer="prior",
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
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        return tags

    # -- fit ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
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
        if np.asarray(y).dtype.kind not in "biufc":
            raise ValueError(
                f"y must be numeric; got {np.asarray(y).dtype} values such as "
                f"{np.ravel(y)[0].item()!r}. TransferRegressor is a regressor."
            )
        y = np.asarray(y, dtype=float)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=float, ensure_non_negative=True
        )
        rule = resolve_transfer_rule(self.transfer)
        if tasks is None:
            index = TaskIndex(np.array([None], dtype=object), np.zeros(X.shape[0]))
        else:
            index = check_tasks(tasks, X.shape[0])
        T = index.n_tasks
        self._index = index
        self.tasks_ = index.labels
        self.transfer_rule_ = rule

        # -- the shared frame and the per-task statistics
        total = sample_weight.sum()
        if total <= 0:
            raise ValueError("sample_weight must have a positive sum.")
        if self.fit_intercept:
            self._x_mean = sample_weight @ X / total
            self._y_mean = float(sample_weight @ y / total)
        else:
            self._x_mean = np.zeros(X.shape[1])
            self._y_mean = 0.0
        Z = self._design(X)
        r = y - self._y_mean
        rows = RowData(Z, r, sample_weight, index.codes, T)
        stats = TaskStats.from_rows(rows, T)
        q = Z.shape[1]
        penalty = np.full(q, float(self.alpha))
        if self.fit_intercept:
            penalty[0] = 0.0
        pooled_stats = TaskStats(
            stats.G.sum(axis=0, keepdims=True),
            stats.g.sum(axis=0, keepdims=True),
            stats.h.sum(keepdims=True),
            stats.n.sum(keepdims=True),
        )
        scale = pooled_stats.G[0] / pooled_stats.n[0]
        self._penalty, self._scale = penalty, scale
        self._stats = stats

        # -- sources
        # a rule that transfers nothing needs no sources: the search is deferred
        # until a task not seen in fit is predicted
        search = rule.transfers != "nothing"
        neighbors = self._fit_neighbors(X, y, index, search=search)
        self.neighbors_ = neighbors.indices
        self.neighbor_distances_ = neighbors.distances
        searched = search or neighbors.indices.shape[1] > 0 or T == 1
        self.bandwidth_ = (
            resolve_bandwidth(self.bandwidth, neighbors.distances)
            if searched or not isinstance(self.bandwidth, str)
            else None
        )
        similarity = neighbors.to_sparse(
            distance_to_similarity(
                neighbors.distances, self.kernel, self.bandwidth_ or 1.0
            )
        )
        self.similarity_ = similarity

        # -- the rule
        problem = LinearTransferProblem(
            stats=stats,
            source_stats=stats,
            source_coef=None,
            similarity=similarity,
            penalty=penalty,
            scale=scale,
            rows=rows,
            fit_intercept=self.fit_intercept,
        )
        own = problem.own_coef()
        problem.source_coef = own
        self._own_coef = own
        result = rule.fit_linear(problem)
        coef = np.asarray(result.coef, dtype=float)
        if coef.shape != (T, q) or not np.isfinite(coef).all():
            raise ValueError(
                f"transfer rule {rule.name!r} returned models of shape {coef.shape} "
                f"(expected {(T, q)}) that are not all finite."
            )
        self._coef = coef
        self.coef_, self.intercept_ = self._to_original(coef)
        pooled = problem.ridge(pooled_stats)
        pc, pi = self._to_original(pooled)
        self.pooled_coef_, self.pooled_intercept_ = pc[0], float(pi[0])
        self.source_weights_ = sparse.csr_array(result.source_weights, dtype=float)
        self.strength_ = (
            None if result.strength is None else np.asarray(result.strength, float)
        )
        self._own_weight = result.info.get("own_weight")
        self._transferability = problem._transferability
        return self

    def _design(self, X):
        Xc = X - self._x_mean
        if self.fit_intercept:
            return np.hstack([np.ones((X.shape[0], 1)), Xc])
        return Xc

    def _to_original(self, coef):
        """Coefficients and intercepts in the units of ``X`` and ``y``."""
        if self.fit_intercept:
            w = coef[:, 1:]
            return w.copy(), self._y_mean + coef[:, 0] - w @ self._x_mean
        return coef.copy(), np.zeros(coef.shape[0])

    def _n_neighbors(self, n_tasks: int):
        if self.n_neighbors == "auto":
            return None if n_tasks - 1 <= _AUTO_NEIGHBORS else _AUTO_NEIGHBORS
        if self.n_neighbors is None and n_tasks > _MAX_DENSE_TASKS:
            raise ValueError(
                f"n_neighbors=None compares all {n_tasks} tasks pairwise (a dense "
                f"{n_tasks} x {n_tasks} matrix); set n_neighbors (or 'auto') to use "
                "a neighbour index."
            )
        return self.n_neighbors

    def _fit_neighbors(self, X, y, index, *, search=True) -> TaskNeighbors:
        T = index.n_tasks
        metric = resolve_metric(self.metric)
        self.metric_ = metric
        self.task_feature_extractor_ = None
        self.task_features_ = None
        k = self._n_neighbors(T)
        if T == 1:
            if isinstance(self.n_neighbors, Integral):
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} but there is only one task and "
                    "so no source task; use n_neighbors=None or 'auto'."
                )
            empty = np.empty((1, 0))
            return TaskNeighbors(empty.astype(np.intp), empty, 1)
        # checked now even when the search is deferred (a rule without sources)
        _check_n_neighbors(k, T, exclude_self=True)
        if metric.space == "samples":
            D = metric.pairwise(X, index, y=y, y_other=y)
            if metric.requires_y:
                self._X_fit = None
            else:
                self._X_fit = X
            return nearest_sources(D, k, exclude_self=True)
        extractor = resolve_task_features(self.task_features)
        F = np.asarray(extractor.fit_transform(X, y, tasks=index), dtype=float)
        if F.shape[0] != T or not np.isfinite(F).all():
            raise ValueError(
                f"task features {extractor.name!r} returned an array of shape "
                f"{F.shape} with non-finite values or not one row per task ({T})."
            )
        self.task_feature_extractor_ = extractor
        self.task_features_ = F
        if not search:
            empty = np.empty((T, 0))
            return TaskNeighbors(empty.astype(np.intp), empty, T)
        return find_task_neighbors(F, metric=metric, n_neighbors=k, exclude_self=True)

    def _zero_shot_bandwidth(self) -> float:
        """Kernel bandwidth for new tasks (searched now if fit deferred it)."""
        if self.bandwidth_ is not None:
            return self.bandwidth_
        neighbors = find_task_neighbors(
            self.task_features_,
            metric=self.metric_,
            n_neighbors=self._n_neighbors(self.tasks_.shape[0]),
            exclude_self=True,
        )
        return resolve_bandwidth(self.bandwidth, neighbors.distances)

    # -- predict -----------------------------------------------------------------------
    def _models_for(self, X, index: TaskIndex):
        """Model (in the shared frame) of each task of ``index``."""
        T = self.tasks_.shape[0]
        if T == 1 and self.tasks_[0] is None:
            return np.repeat(self._coef, index.n_tasks, axis=0)
        codes = self._index.encode(index.labels)
        coef = np.empty((index.n_tasks, self._coef.shape[1]))
        seen = codes >= 0
        coef[seen] = self._coef[codes[seen]]
        if not seen.all() and T == 1:
            coef[~seen] = self._coef[0]  # a single fitted task is the only source
        elif not seen.all():
            coef[~seen] = self._zero_shot(X, index, np.flatnonzero(~seen))
        return coef

    def _zero_shot(self, X, index, unseen):
        """Models of the tasks ``unseen`` (numbers in ``index``), from their X."""
        rows = np.concatenate([index.rows(u) for u in unseen])
        new_index = check_tasks(index.codes[rows], rows.shape[0])
        names = [_label(v) for v in index.labels[unseen][:5]]
        T = self.tasks_.shape[0]
        k = self._n_neighbors(T)
        k = None if k is None else min(k, T)
        if self.task_feature_extractor_ is not None:
            extractor = self.task_feature_extractor_
            if extractor.requires_y:
                raise ValueError(
                    f"task(s) {names} were not seen in fit, and the task features "
                    f"{extractor.name!r} need y to describe a task; use an X-only "
                    "extractor (such as 'moments') to predict for new tasks "
                    "zero-shot."
                )
            F_new = extractor.transform(X[rows], tasks=new_index)
            neighbors = find_task_neighbors(
                F_new,
                self.task_features_,
                metric=self.metric_,
                n_neighbors=k,
                exclude_self=False,
            )
        else:
            if self.metric_.requires_y or getattr(self, "_X_fit", None) is None:
                raise ValueError(
                    f"task(s) {names} were not seen in fit, and the metric "
                    f"{self.metric_.name!r} needs y to compare tasks; use a metric "
                    "on X-only task features to predict for new tasks zero-shot."
                )
            D = self.metric_.pairwise(X[rows], new_index, self._X_fit, self._index)
            neighbors = nearest_sources(D, k, exclude_self=False)
        S = neighbors.to_sparse(
            distance_to_similarity(
                neighbors.distances, self.kernel, self._zero_shot_bandwidth()
            )
        )
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
        )
        coef = np.asarray(self.transfer_rule_.zero_shot_linear(problem).coef, float)
        if coef.shape != (n_new, q) or not np.isfinite(coef).all():
            raise ValueError(
                f"transfer rule {self.transfer_rule_.name!r} returned zero-shot "
                f"models of shape {coef.shape} (expected {(n_new, q)}) that are "
                "not all finite."
            )
        return coef

    @with_one_blas_thread
    def predict(self, X, tasks=None):
        """Predict with each row's task model (zero-shot for tasks not seen in fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row. ``None`` after a fit on several tasks warns
            (:class:`TasksMissingWarning`) and predicts with the pooled model
            (``pooled_coef_``, ``pooled_intercept_``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        if self.tasks_.shape[0] == 1 and self.tasks_[0] is None:
            return X @ self.coef_[0] + self.intercept_[0]
        if tasks is None:
            warnings.warn(
                f"{type(self).__name__} was fitted on {self.tasks_.shape[0]} tasks "
                "but got tasks=None; predicting with the pooled model of all tasks. "
                "Pass tasks=... (with metadata routing in GridSearchCV, Pipeline "
                "and cross_validate, and a scorer from get_task_scorer).",
                TasksMissingWarning,
                stacklevel=2,
            )
            return X @ self.pooled_coef_ + self.pooled_intercept_
        index = check_tasks(tasks, X.shape[0])
        coef = self._models_for(X, index)
        Z = self._design(X)
        return self._y_mean + np.einsum("ij,ij->i", Z, coef[index.codes])

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

    # -- explanation -------------------------------------------------------------------
    def explain(self, task) -> dict:
        """Which sources a fitted task's model drew on, with what weight.

        Parameters
        ----------
        task : hashable
            Label of a task seen in fit.

        Returns
        -------
        explanation : dict
            ``task``, ``n_rows``, ``transfer`` (the rule's name), ``strength``
            (the task's transfer strength, or None), ``own_weight`` (weight of the
            task's own model, for the ensemble and select rules, else None) and
            ``sources``: one dict per source with a positive weight, heaviest
            first, with its ``task``, ``weight`` (in ``source_weights_``),
            ``similarity`` and ``distance``.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_metameta import TransferRegressor
        >>> X = np.array([[0.0], [1.0], [0.1], [1.1], [5.0], [6.0]])
        >>> y = np.array([0.0, 1.0, 0.1, 1.1, 5.0, 6.0])
        >>> model = TransferRegressor(n_neighbors=1)
        >>> model = model.fit(X, y, tasks=["a", "a", "b", "b", "c", "c"])
        >>> [(s["task"], s["weight"]) for s in model.explain("a")["sources"]]
        [('b', 1.0)]
        """
        check_is_fitted(self)
        if self.tasks_[0] is None:
            t = 0 if task is None else -1
        else:
            try:
                t = int(self._index.encode([task])[0])
            except ValueError:
                t = -1
        if t < 0:
            raise ValueError(
                f"task {task!r} was not seen in fit; known tasks: "
                f"{[_label(v) for v in self.tasks_[:10]]}"
                f"{' ...' if self.tasks_.shape[0] > 10 else ''}."
            )
        W = self.source_weights_
        start, stop = W.indptr[t], W.indptr[t + 1]
        cols, weights = W.indices[start:stop], W.data[start:stop]
        order = np.lexsort((cols, -weights))
        nb = self.neighbors_[t]
        sources = []
        for j in order:
            s, w = int(cols[j]), float(weights[j])
            if w <= 0:
                continue
            pos = np.flatnonzero(nb == s)
            sources.append(
                {
                    "task": _label(self.tasks_[s]),
                    "weight": w,
                    "similarity": float(self.similarity_[t, s]),
                    "distance": (
                        float(self.neighbor_distances_[t, pos[0]])
                        if pos.size
                        else float("nan")
                    ),
                }
            )
        return {
            "task": _label(self.tasks_[t]),
            "n_rows": int(self._index.counts[t]),
            "transfer": self.transfer_rule_.name,
            "strength": None if self.strength_ is None else float(self.strength_[t]),
            "own_weight": (
                None if self._own_weight is None else float(self._own_weight[t])
            ),
            "sources": sources,
        }
