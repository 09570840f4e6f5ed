"""Synthetic multi-task data with a known cluster structure."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_related_tasks"]

_TASK_TYPES = ("regression", "classification")


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}.")
    return int(value)


def _check_nonneg(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
    return float(value)


def make_related_tasks(
    n_tasks=50,
    n_samples_per_task=20,
    n_features=5,
    *,
    n_clusters=3,
    task_type="regression",
    noise=0.5,
    cluster_std=0.3,
    feature_shift=1.0,
    random_state=None,
    return_structure=False,
):
    """Generate related linear tasks whose parameters cluster around known centres.

    Every task belongs to one of ``n_clusters`` clusters (balanced sizes, random
    assignment). Each cluster ``c`` has a centre ``(b_c, w_c)`` of intercept and
    coefficients, drawn from a standard normal, and a feature mean ``m_c`` drawn
    from a normal with standard deviation ``feature_shift``. Task ``t`` of
    cluster ``c`` has its own parameters ``b_t = b_c + cluster_std * e`` and
    ``w_t = w_c + cluster_std * e'`` (``e``, ``e'`` standard normal) and its rows
    ``x ~ N(m_c, I)``. The target is ``y = x @ w_t + b_t + noise * e''`` for
    regression, and ``y = 1`` if ``x @ w_t + b_t + noise * e'' > 0`` (else 0) for
    classification.

    Tasks of one cluster are therefore similar both in their parameters (what
    transfers) and in the distribution of their features (what X-only task
    features can see).

    Parameters
    ----------
    n_tasks : int, default=50
        Number of tasks, labelled ``0, ..., n_tasks - 1``.
    n_samples_per_task : int or array-like of shape (n_tasks,), default=20
        Rows of every task, or of each task.
    n_features : int, default=5
        Number of features.
    n_clusters : int, default=3
        Number of clusters of tasks, at most ``n_tasks``.
    task_type : {"regression", "classification"}, default="regression"
        Real-valued targets, or binary labels 0 and 1.
    noise : float, default=0.5
        Standard deviation of the Gaussian noise added to the linear response.
    cluster_std : float, default=0.3
        Standard deviation of the tasks' parameters around their cluster centre;
        0 makes every task of a cluster identical in its parameters.
    feature_shift : float, default=1.0
        Standard deviation of the clusters' feature means; 0 gives every task the
        same feature distribution.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    return_structure : bool, default=False
        If True, also return the true structure (see Returns).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Rows of all tasks, task by task.
    y : ndarray of shape (n_samples,)
        Targets: float for regression, int (0 or 1) for classification.
    tasks : ndarray of shape (n_samples,)
        Task label (int) of each row.
    structure : :class:`~sklearn.utils.Bunch`
        Only if ``return_structure`` is True, with the attributes

        clusters : ndarray of shape (n_tasks,)
            Cluster of each task.
        coef : ndarray of shape (n_tasks, n_features)
            True coefficients of each task.
        intercept : ndarray of shape (n_tasks,)
            True intercept of each task.
        cluster_coef : ndarray of shape (n_clusters, n_features)
            Coefficient centres of the clusters.
        cluster_intercept : ndarray of shape (n_clusters,)
            Intercept centres of the clusters.
        feature_means : ndarray of shape (n_clusters, n_features)
            Mean of the features of each cluster's tasks.

    See Also
    --------
    load_hsb : A real multi-task regression dataset.
    load_contraception : A real multi-task classification dataset.

    Examples
    --------
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks, truth = make_related_tasks(
    ...     n_tasks=6, n_samples_per_task=10, n_features=2, n_clusters=2,
    ...     random_state=0, return_structure=True)
    >>> X.shape, y.shape, tasks[:3].tolist()
    ((60, 2), (60,), [0, 0, 0])
    >>> truth.clusters.shape, truth.coef.shape
    ((6,), (6, 2))
    """
    n_tasks = _check_int(n_tasks, "n_tasks", 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_clusters = _check_int(n_clusters, "n_clusters", 1)
    if n_clusters > n_tasks:
        raise ValueError(
            f"n_clusters={n_clusters} is more than n_tasks={n_tasks}; every cluster "
            "needs at least one task."
        )
    if task_type not in _TASK_TYPES:
        raise ValueError(f"task_type must be one of {_TASK_TYPES}, got {task_type!r}.")
    noise = _check_nonneg(noise, "noise")
    cluster_std = _check_nonneg(cluster_std, "cluster_std")
    feature_shift = _check_nonneg(feature_shift, "feature_shift")
    if isinstance(n_samples_per_task, numbers.Integral) and not isinstance(
        n_samples_per_task, bool
    ):
        sizes = np.full(
            n_tasks, _check_int(n_samples_per_task, "n_samples_per_task", 1)
        )
    else:
        sizes = np.asarray(n_samples_per_task)
        if sizes.shape != (n_tasks,) or sizes.dtype.kind not in "iu":
            raise ValueError(
                "n_samples_per_task must be an int or an array of n_tasks="
                f"{n_tasks} ints; got {n_samples_per_task!r}."
            )
        if sizes.min() < 1:
            raise ValueError(
                "every task needs at least one row; n_samples_per_task has "
                f"{int(sizes.min())} for task {int(np.argmin(sizes))}."
            )
    rng = check_random_state(random_state)

    cluster_coef = rng.standard_normal((n_clusters, n_features))
    cluster_intercept = rng.standard_normal(n_clusters)
    feature_means = feature_shift * rng.standard_normal((n_clusters, n_features))
    clusters = rng.permutation(np.arange(n_tasks) % n_clusters)
    coef = cluster_coef[clusters] + cluster_std * rng.standard_normal(
        (n_tasks, n_features)
    )
    intercept = cluster_intercept[clusters] + cluster_std * rng.standard_normal(n_tasks)

    tasks = np.repeat(np.arange(n_tasks), sizes)
    X = (
        rng.standard_normal((tasks.shape[0], n_features))
        + feature_means[clusters[tasks]]
    )
    response = np.einsum("ij,ij->i", X, coef[tasks]) + intercept[tasks]
    response += noise * rng.standard_normal(tasks.shape[0])
    y = response if task_type == "regression" else (response > 0).astype(int)

    if not return_structure:
        return X, y, tasks
    structure = Bunch(
        clusters=clusters,
        coef=coef,
        intercept=intercept,
        cluster_coef=cluster_coef,
        cluster_intercept=cluster_intercept,
        feature_means=feature_means,
    )
    return X, y, tasks, structure
