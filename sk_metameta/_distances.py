"""The task distance matrix of a multi-task dataset."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._components import resolve_metric, resolve_task_features
from ._tasks import check_tasks

__all__ = ["TaskDistances", "task_distances"]


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
        Registered name, metric instance or ``func(u, v) -> float``.

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
    return TaskDistances(metric_.pairwise(F), index.labels, F)
