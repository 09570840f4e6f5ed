"""The task space: task features and a task metric, and who neighbours whom in it.

Every estimator of the library, and :func:`task_distances`, place tasks the same
way: a task feature extractor describes each task by a vector and a metric on
those vectors (or a metric between the tasks' samples directly) measures how far
apart two tasks are. :class:`TaskSpace` resolves the two components, describes the
fitted tasks once, finds each one's nearest source tasks (a task is never its own
source), turns their distances into similarities with a kernel, and locates tasks
first seen at predict time among the fitted ones (zero-shot).

A metric that is fitted (:class:`~sk_metameta.metrics.FittedFeatureMetric`, such as
``metric="learned"``) is fitted on the task features before the neighbour search,
supervised by each fitted task's model as a vector (*task models*): the estimator
provides them (:class:`~sk_metameta.TransferRegressor`: its own ridge models,
:func:`linear_task_models`), or the task space fits a ridge model per task
(:func:`ridge_task_models`). Both come from the rows of the fit only.
"""

from __future__ import annotations

from numbers import Integral
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ._components import resolve_metric, resolve_task_features
from ._tasks import TaskIndex, _plain, check_tasks
from .metrics.base import FittedFeatureMetric
from .neighbors import (
    TaskNeighbors,
    _check_n_neighbors,
    distance_to_similarity,
    find_task_neighbors,
    nearest_sources,
    resolve_bandwidth,
)

__all__ = [
    "TaskDistances",
    "TaskSpace",
    "fit_task_metric",
    "linear_task_models",
    "ridge_task_models",
    "task_distances",
]

#: With ``n_neighbors="auto"``, every other task is a source up to this many tasks.
AUTO_NEIGHBORS = 50
#: Largest number of tasks for which ``n_neighbors=None`` (every pair) is accepted.
MAX_DENSE_TASKS = 20_000


def resolve_n_neighbors(n_neighbors, n_tasks: int):
    """The number of sources of each task (``None``: every other task).

    Parameters
    ----------
    n_neighbors : int, "auto" or None
        The estimator parameter.
    n_tasks : int
        Number of fitted tasks.

    Returns
    -------
    k : int or None
    """
    if n_neighbors == "auto":
        return None if n_tasks - 1 <= AUTO_NEIGHBORS else AUTO_NEIGHBORS
    if n_neighbors is None and n_tasks > MAX_DENSE_TASKS:
        raise ValueError(
            f"n_neighbors=None compares all {n_tasks} tasks pairwise (a dense "
            f"{n_tasks} x {n_tasks} matrix); set n_neighbors (or 'auto') to use "
            "a neighbour index."
        )
    return n_neighbors


def _empty_neighbors(n_targets: int, n_sources: int) -> TaskNeighbors:
    empty = np.empty((n_targets, 0))
    return TaskNeighbors(empty.astype(np.intp), empty, n_sources)


def _labels_of(index: TaskIndex, tasks) -> list:
    return [_plain(v) for v in index.labels[np.asarray(tasks)][:5]]


def linear_task_models(stats, penalty, scale) -> np.ndarray:
    """Each task's own ridge model, as a vector for a fitted metric to learn from.

    The vectors are the models' parameters ``theta`` (intercept first, in the
    shared frame of :mod:`sk_metameta.transfer._linear`) times a square root of
    ``scale``, the second moments of the design rows: the Euclidean distance
    between two tasks' vectors is the root mean squared difference of their
    models' predictions over the training rows, whatever the units of ``X``.

    Parameters
    ----------
    stats : TaskStats
        Per-task sufficient statistics.
    penalty : ndarray of shape (q,)
        Diagonal ridge penalty.
    scale : ndarray of shape (q, q)
        Second moments of the design rows per training row.

    Returns
    -------
    task_models : ndarray of shape (n_tasks, q)
    """
    from .transfer._linear import solve_psd

    coef = solve_psd(stats.G + np.diag(penalty), stats.g)
    values, vectors = np.linalg.eigh(scale)
    return coef @ (vectors * np.sqrt(np.clip(values, 0.0, None)))


def ridge_task_models(X, y, index: TaskIndex, *, alpha: float = 1.0) -> np.ndarray:
    """A ridge model of ``y`` on ``X`` per task, as vectors for a fitted metric.

    The supervision of a fitted metric when the estimator gives none: the
    columns of ``X`` are standardised over all rows, every task gets a ridge fit
    with an intercept (``alpha`` on the coefficients), one per column of ``y``,
    and the models of a task are put side by side.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows of all tasks.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Numeric targets.
    index : TaskIndex
        The tasks.
    alpha : float, default=1.0
        Ridge penalty.

    Returns
    -------
    task_models : ndarray of shape (n_tasks, n_outputs * (n_features + 1))
    """
    from .transfer._linear import RowData, TaskStats

    X = np.asarray(X, dtype=float)
    Y = np.asarray(y, dtype=float).reshape(X.shape[0], -1)
    std = X.std(axis=0)
    Z = np.hstack(
        [np.ones((X.shape[0], 1)), (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)]
    )
    penalty = np.r_[0.0, np.full(X.shape[1], float(alpha))]
    scale = Z.T @ Z / Z.shape[0]
    ones = np.ones(X.shape[0])
    models = [
        linear_task_models(
            TaskStats.from_rows(
                RowData(Z, r - r.mean(), ones, index.codes, index.n_tasks),
                index.n_tasks,
            ),
            penalty,
            scale,
        )
        for r in Y.T  # one fit per output (a few), batched over tasks
    ]
    return np.hstack(models)


def fit_task_metric(
    metric,
    F,
    extractor,
    X,
    y,
    index: TaskIndex,
    *,
    task_models=None,
    input_features=None,
) -> None:
    """Fit a fitted metric on task features, supervised by the tasks' models.

    Does nothing for a metric that is not fitted, or for a single task.

    Parameters
    ----------
    metric : FeatureMetric
        The resolved metric, fitted in place if it is a
        :class:`~sk_metameta.metrics.FittedFeatureMetric`.
    F : ndarray of shape (n_tasks, n_task_features)
        Task features of the tasks of ``index``.
    extractor : BaseTaskFeatures
        The fitted extractor of ``F`` (for the names of the task features).
    X, y : ndarray
        The rows and targets of the tasks.
    index : TaskIndex
        The tasks.
    task_models : callable, ndarray or None, default=None
        The tasks' models as vectors, or a function of no argument returning
        them; ``None``: :func:`ridge_task_models` of ``X`` and ``y``.
    input_features : array-like of str, default=None
        Names of the columns of ``X``.
    """
    if not isinstance(metric, FittedFeatureMetric) or index.n_tasks < 2:
        return
    if task_models is None:
        if y is None:
            raise ValueError(
                f"metric {metric.name!r} is learned from the tasks' models, which "
                "need y; pass y, or choose a fixed metric."
            )
        task_models = ridge_task_models(X, y, index)
    elif callable(task_models):
        task_models = task_models()
    if input_features is not None:
        input_features = [str(name) for name in input_features]
    names = extractor.get_feature_names_out(input_features)
    metric.fit(F, task_models, feature_names=names)


class TaskSpace:
    """Task features and a task metric, fitted on tasks, with their neighbour graph.

    Parameters
    ----------
    task_features : str, BaseTaskFeatures, type or callable
        Task feature extractor (unused with a metric on samples).
    metric : str, BaseTaskMetric, type or callable
        Task metric.
    n_neighbors : int, "auto" or None, default="auto"
        Number of nearest sources of each task.
    kernel : str or callable, default="gaussian"
        Kernel from distances to similarities.
    bandwidth : float or {"median", "mean"}, default="median"
        Kernel scale.

    Attributes
    ----------
    metric_ : BaseTaskMetric
        The resolved metric (fitted, for a
        :class:`~sk_metameta.metrics.FittedFeatureMetric`).
    extractor_ : BaseTaskFeatures or None
        The fitted extractor (``None`` with a metric on samples).
    features_ : ndarray of shape (n_tasks, n_task_features) or None
        Task features of the fitted tasks.
    neighbors_ : TaskNeighbors
        Each fitted task's nearest sources (empty when the search was deferred).
    n_neighbors_ : int or None
        Number of sources of each task (``None``: every other task).
    """

    def __init__(
        self,
        task_features,
        metric,
        *,
        n_neighbors="auto",
        kernel="gaussian",
        bandwidth="median",
    ):
        self.task_features = task_features
        self.metric = metric
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.bandwidth = bandwidth

    # -- fit ---------------------------------------------------------------------------
    def fit(
        self,
        X,
        y,
        index: TaskIndex,
        *,
        search: bool = True,
        task_models=None,
        input_features=None,
    ) -> TaskSpace:
        """Describe the tasks of ``index`` and find each one's nearest sources.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows of all tasks.
        y : ndarray of shape (n_samples,) or None
            Numeric targets, for components that need them.
        index : TaskIndex
            The tasks.
        search : bool, default=True
            Find the neighbours now; ``False`` defers the search (for a rule that
            transfers nothing) until a task not seen in fit is located.
        task_models : callable, ndarray of shape (n_tasks, n_model_dims) or None, \
                default=None
            Supervision of a fitted metric (unused by any other): each task's
            model as a vector (see
            :class:`~sk_metameta.metrics.FittedFeatureMetric`), or a function of
            no argument returning them (called only when the metric is fitted);
            ``None``: :func:`ridge_task_models` of ``X`` and ``y``.
        input_features : array-like of str, default=None
            Names of the columns of ``X``, for the names of the task features.

        Returns
        -------
        self : TaskSpace
        """
        T = index.n_tasks
        self.metric_ = resolve_metric(self.metric)
        self.extractor_ = None
        self.features_ = None
        self._X = self._index = None
        self._bandwidth = None
        self.n_neighbors_ = resolve_n_neighbors(self.n_neighbors, T)
        if T == 1:
            if isinstance(self.n_neighbors, Integral):
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} but there is only one task and "
                    "so no source task; use n_neighbors=None or 'auto'."
                )
            self.neighbors_ = _empty_neighbors(1, 1)
            self._bandwidth = resolve_bandwidth(self.bandwidth, [])
            return self
        # checked now even when the search is deferred
        _check_n_neighbors(self.n_neighbors_, T, exclude_self=True)
        if self.metric_.space == "samples":
            D = self.metric_.pairwise(X, index, y=y, y_other=y)
            if not self.metric_.requires_y:
                self._X, self._index = X, index
            self.neighbors_ = nearest_sources(D, self.n_neighbors_, exclude_self=True)
        else:
            extractor = resolve_task_features(self.task_features)
            F = np.asarray(extractor.fit_transform(X, y, tasks=index), dtype=float)
            if F.shape[0] != T or F.ndim != 2 or not np.isfinite(F).all():
                raise ValueError(
                    f"task features {extractor.name!r} returned an array of shape "
                    f"{F.shape} with non-finite values or not one row per task ({T})."
                )
            self.extractor_, self.features_ = extractor, F
            fit_task_metric(
                self.metric_,
                F,
                extractor,
                X,
                y,
                index,
                task_models=task_models,
                input_features=input_features,
            )
            self.neighbors_ = (
                self._search(F, None, self.n_neighbors_)
                if search
                else _empty_neighbors(T, T)
            )
        if search or self.features_ is None or not isinstance(self.bandwidth, str):
            self._bandwidth = resolve_bandwidth(
                self.bandwidth, self.neighbors_.distances
            )
        return self

    def _search(self, F_targets, F_sources, k, *, exclude_self=None) -> TaskNeighbors:
        """Nearest sources by the metric; in its embedding when it has one.

        A fitted metric with ``transform`` (such as ``"learned"``) is the
        Euclidean distance between transformed task features: the search runs
        there, with every search Euclidean distances have (tree index,
        approximate search for many tasks).
        """
        metric = self.metric_
        fitted = isinstance(metric, FittedFeatureMetric) and hasattr(
            metric, "n_features_in_"
        )
        if fitted and hasattr(metric, "transform"):
            F_targets = metric.transform(F_targets)
            F_sources = None if F_sources is None else metric.transform(F_sources)
            metric = "euclidean"
        return find_task_neighbors(
            F_targets,
            F_sources,
            metric=metric,
            n_neighbors=k,
            exclude_self=exclude_self,
        )

    @property
    def n_tasks(self) -> int:
        """Number of fitted tasks."""
        return int(self.neighbors_.indices.shape[0])

    @property
    def searched(self) -> bool:
        """Whether the neighbours of the fitted tasks were searched in fit."""
        return self._bandwidth is not None and (
            self.n_tasks == 1 or self.neighbors_.indices.shape[1] > 0
        )

    @property
    def bandwidth_(self) -> float:
        """Kernel bandwidth of fit (searched now if fit deferred the search)."""
        if self._bandwidth is None:
            found = self._search(self.features_, None, self.n_neighbors_)
            self._bandwidth = resolve_bandwidth(self.bandwidth, found.distances)
        return self._bandwidth

    # -- graphs ------------------------------------------------------------------------
    def similarity(self, neighbors: TaskNeighbors | None = None) -> sparse.csr_array:
        """Kernel similarity of each target to its neighbours, as a sparse graph.

        Parameters
        ----------
        neighbors : TaskNeighbors, default=None
            Neighbours to weigh; default the fitted tasks' own.

        Returns
        -------
        similarity : scipy.sparse.csr_array of shape (n_targets, n_tasks)
            One stored entry per neighbour (zero similarity included).
        """
        neighbors = self.neighbors_ if neighbors is None else neighbors
        if neighbors.indices.shape[1] == 0:
            return neighbors.to_sparse()
        values = distance_to_similarity(
            neighbors.distances, self.kernel, self.bandwidth_
        )
        return neighbors.to_sparse(values)

    def distances(self, neighbors: TaskNeighbors | None = None) -> sparse.csr_array:
        """Distance of each target to its neighbours, as a sparse graph.

        Parameters
        ----------
        neighbors : TaskNeighbors, default=None
            Neighbours; default the fitted tasks' own.

        Returns
        -------
        distances : scipy.sparse.csr_array of shape (n_targets, n_tasks)
        """
        neighbors = self.neighbors_ if neighbors is None else neighbors
        return neighbors.to_sparse()

    def locate(self, X, index: TaskIndex) -> TaskNeighbors:
        """Nearest fitted tasks of new tasks, from their rows (zero-shot).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows of the new tasks.
        index : TaskIndex
            The new tasks, labelled as the user labels them.

        Returns
        -------
        neighbors : TaskNeighbors
            Indices into the fitted tasks, nearest first.
        """
        names = _labels_of(index, np.arange(min(index.n_tasks, 5)))
        k = self.n_neighbors_
        k = None if k is None else min(k, self.n_tasks)
        if self.extractor_ is not None:
            if self.extractor_.requires_y:
                raise ValueError(
                    f"task(s) {names} were not seen in fit, and the task features "
                    f"{self.extractor_.name!r} need y to describe a task; use an "
                    "X-only extractor (such as 'moments') to predict for new tasks "
                    "zero-shot."
                )
            F_new = self.extractor_.transform(X, tasks=index)
            return self._search(F_new, self.features_, k, exclude_self=False)
        if self._X is None:
            raise ValueError(
                f"task(s) {names} were not seen in fit, and the metric "
                f"{self.metric_.name!r} needs y to compare tasks; use a metric on "
                "X-only task features to predict for new tasks zero-shot."
            )
        D = self.metric_.pairwise(X, index, self._X, self._index)
        return nearest_sources(D, k, exclude_self=False)


def subset_index(index: TaskIndex, tasks) -> tuple[TaskIndex, np.ndarray]:
    """The rows of the tasks ``tasks`` of ``index`` as an index of their own.

    Parameters
    ----------
    index : TaskIndex
        All tasks.
    tasks : array-like of int
        Task numbers in ``index``, sorted.

    Returns
    -------
    sub : TaskIndex
        The tasks ``tasks``, keeping their labels.
    rows : ndarray of int
        Their rows in ``index``'s row order, grouped by task.
    """
    tasks = np.asarray(tasks, dtype=np.intp)
    rows = np.concatenate([index.rows(t) for t in tasks]) if tasks.size else tasks
    codes = np.repeat(np.arange(tasks.size), index.counts[tasks])
    return TaskIndex(index.labels[tasks], codes), rows


class TaskDistances(NamedTuple):
    """Task distance matrix with its task labels.

    Attributes
    ----------
    distances : ndarray of shape (n_tasks, n_tasks)
        ``distances[i, j]`` is the distance from task ``labels[i]`` to ``labels[j]``.
    labels : ndarray of shape (n_tasks,)
        Task labels, sorted.
    task_features : ndarray of shape (n_tasks, n_task_features) or None
        The task features the metric compared (``None`` for sample metrics).
    """

    distances: np.ndarray
    labels: np.ndarray
    task_features: np.ndarray | None = None

    def to_frame(self):
        """The distances as a :class:`pandas.DataFrame` labelled by task.

        Returns
        -------
        frame : pandas.DataFrame of shape (n_tasks, n_tasks)
            Rows and columns are the task labels (``frame.loc[a, b]`` is the
            distance from task ``a`` to task ``b``).

        Examples
        --------
        >>> import numpy as np
        >>> from sk_metameta import task_distances
        >>> X = np.array([[0.0], [2.0], [10.0], [12.0]])
        >>> task_distances(X, tasks=["a", "a", "b", "b"]).to_frame()
        source     a     b
        task
        a        0.0  10.0
        b       10.0   0.0
        """
        import pandas as pd

        labels = pd.Index([_plain(v) for v in self.labels], name="task")
        return pd.DataFrame(
            self.distances, index=labels, columns=labels.rename("source")
        )


def task_distances(
    X,
    y=None,
    *,
    tasks,
    task_features=None,
    metric="euclidean",
) -> TaskDistances:
    """Distances between all tasks of a multi-task dataset.

    A metric on task features (``space == "features"``) compares the vectors that
    ``task_features`` extracts from each task; a metric on samples (``"mmd"``,
    ``"energy"``, ``"sliced_wasserstein"``, ...) compares the tasks' rows directly.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Rows of all tasks.
    y : array-like of shape (n_samples,), default=None
        Targets, for extractors or metrics that need them.
    tasks : array-like of shape (n_samples,)
        Task label of each row.
    task_features : str, BaseTaskFeatures or callable, default=None
        Extractor for feature metrics; ``None`` means ``"moments"``. Must be
        ``None`` with a sample metric.
    metric : str, BaseTaskMetric or callable, default="euclidean"
        Registered name, metric instance or ``func(u, v) -> float``. A fitted
        metric (``"learned"``) is fitted first on the tasks' ridge models of
        ``y`` on ``X`` (:func:`ridge_task_models`), so it needs ``y``.

    Returns
    -------
    result : TaskDistances
        Named tuple ``(distances, labels, task_features)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta import task_distances
    >>> X = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> D, labels, _ = task_distances(X, tasks=["a", "a", "b", "b"])
    >>> labels.tolist(), D.round(3).tolist()
    (['a', 'b'], [[0.0, 10.0], [10.0, 0.0]])
    """
    metric_ = resolve_metric(metric)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {X.shape}.")
    index = check_tasks(tasks, X.shape[0])
    if metric_.space == "samples":
        if task_features is not None:
            raise ValueError(
                f"metric {metric_.name!r} compares the tasks' samples directly; "
                "task_features must be None with it."
            )
        D = metric_.pairwise(X, index, y=y, y_other=y)
        return TaskDistances(D, index.labels, None)
    extractor = resolve_task_features(
        "moments" if task_features is None else task_features
    )
    F = extractor.fit_transform(X, y, tasks=index)
    fit_task_metric(metric_, F, extractor, X, y, index)
    return TaskDistances(metric_.pairwise(F), index.labels, F)
