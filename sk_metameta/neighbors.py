"""From task distances to source similarities: kernels and nearest-neighbour search.

Both estimators of the library turn a task metric into weights in two steps:

1. find each target task's ``n_neighbors`` nearest source tasks (a dense distance
   matrix for few tasks; a :class:`sklearn.neighbors.NearestNeighbors` index when the
   metric is a feature metric scikit-learn knows and tasks are many);
2. map each neighbour distance ``d`` to a similarity ``k(d / h)`` in ``[0, 1]``
   with a kernel ``k`` and a bandwidth ``h``.

Similarities are zero outside a target's neighbours and, when targets and sources
are the same tasks, for the target itself (a task is never its own source).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import sparse

__all__ = [
    "KERNELS",
    "TaskNeighbors",
    "distance_to_similarity",
    "find_task_neighbors",
    "neighbor_similarity",
    "nearest_sources",
    "resolve_bandwidth",
]

#: Kernels mapping a scaled distance ``u = d / h`` to a similarity in ``[0, 1]``.
#:
#: - ``"gaussian"``: ``exp(-u**2 / 2)``;
#: - ``"laplacian"``: ``exp(-u)``;
#: - ``"inverse"``: ``1 / (1 + u)``;
#: - ``"uniform"``: ``1`` (every neighbour counts the same).
KERNELS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "gaussian": lambda u: np.exp(-0.5 * u**2),
    "laplacian": lambda u: np.exp(-u),
    "inverse": lambda u: 1.0 / (1.0 + u),
    "uniform": lambda u: np.ones_like(u),
}

# A k-nearest-neighbour search on task features uses a scikit-learn tree index
# from this many source tasks on, if the task features have at most
# _INDEX_MAX_FEATURES columns (trees do not prune in more dimensions) ...
_INDEX_MIN_SOURCES = 1000
_INDEX_MAX_FEATURES = 8
# ... and an approximate search (random-projection forest) from this many on.
_APPROX_MIN_SOURCES = 20_000
# Largest dense block of distances computed at once (entries).
_BLOCK_ENTRIES = 2**23


class TaskNeighbors(NamedTuple):
    """The nearest source tasks of every target task.

    Attributes
    ----------
    indices : ndarray of shape (n_targets, n_neighbors)
        Source task numbers, nearest first (ties broken by task number).
    distances : ndarray of shape (n_targets, n_neighbors)
        Their distances to the target.
    n_sources : int
        Number of source tasks the indices point into.
    """

    indices: np.ndarray
    distances: np.ndarray
    n_sources: int

    def to_sparse(self, values=None) -> sparse.csr_array:
        """The neighbour graph as a sparse ``(n_targets, n_sources)`` matrix.

        Parameters
        ----------
        values : ndarray of shape (n_targets, n_neighbors), default=None
            Value stored for each neighbour; default the distances.

        Returns
        -------
        graph : scipy.sparse.csr_array of shape (n_targets, n_sources)
        """
        values = self.distances if values is None else np.asarray(values, float)
        n_targets, k = self.indices.shape
        indptr = np.arange(n_targets + 1, dtype=np.int64) * k
        order = np.argsort(self.indices, axis=1, kind="stable")
        cols = np.take_along_axis(self.indices, order, axis=1).ravel()
        data = np.take_along_axis(values, order, axis=1).ravel()
        return sparse.csr_array((data, cols, indptr), shape=(n_targets, self.n_sources))


def _check_distances(distances, name: str = "distances") -> np.ndarray:
    D = np.asarray(distances, dtype=float)
    if D.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {D.shape}.")
    if np.isnan(D).any():
        raise ValueError(f"{name} contains NaN; the task metric returned NaN.")
    # tiny negative values come from rounding (for example in MMD estimates)
    return np.maximum(D, 0.0)


def _check_n_neighbors(n_neighbors, n_sources: int, exclude_self: bool) -> int:
    available = n_sources - 1 if exclude_self else n_sources
    if n_neighbors is None:
        return max(available, 0)
    if not isinstance(n_neighbors, numbers.Integral) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive int, got {n_neighbors!r}.")
    if n_neighbors > available:
        if exclude_self:
            has = (
                f"each target task has only {available} source task(s) "
                f"({n_sources} tasks; a task is never its own source)"
            )
        else:
            has = f"only {available} source task(s) are available"
        raise ValueError(
            f"n_neighbors={n_neighbors} but {has}; use n_neighbors <= "
            f"{available}, or None to draw on every source."
        )
    return int(n_neighbors)


def resolve_bandwidth(bandwidth, distances) -> float:
    """The kernel bandwidth ``h`` for the given neighbour distances.

    Parameters
    ----------
    bandwidth : "median", "mean" or float
        ``"median"`` (or ``"mean"``) of the positive finite distances; a positive
        number is used as is.
    distances : array-like
        Distances from targets to their neighbours (self-distances left out).

    Returns
    -------
    h : float
        Positive bandwidth; ``1.0`` when every distance is zero.

    Examples
    --------
    >>> resolve_bandwidth("median", [0.0, 1.0, 2.0, 4.0])
    2.0
    >>> resolve_bandwidth(0.5, [1.0])
    0.5
    """
    if isinstance(bandwidth, str):
        d = np.asarray(distances, dtype=float).ravel()
        d = d[np.isfinite(d) & (d > 0)]
        if d.size == 0:
            return 1.0
        if bandwidth == "median":
            return float(np.median(d))
        if bandwidth == "mean":
            return float(d.mean())
        raise ValueError(
            "bandwidth must be 'median', 'mean' or a positive float, got "
            f"{bandwidth!r}."
        )
    if (
        isinstance(bandwidth, numbers.Real)
        and not isinstance(bandwidth, bool)
        and np.isfinite(bandwidth)
        and bandwidth > 0
    ):
        return float(bandwidth)
    raise ValueError(
        f"bandwidth must be 'median', 'mean' or a positive float, got {bandwidth!r}."
    )


def distance_to_similarity(distances, kernel="gaussian", bandwidth=1.0) -> np.ndarray:
    """Map distances to similarities in ``[0, 1]`` with a kernel.

    Parameters
    ----------
    distances : array-like
        Non-negative distances (tiny negative rounding errors are clipped to 0).
    kernel : {"gaussian", "laplacian", "inverse", "uniform"} or callable, \
            default="gaussian"
        Kernel of the scaled distance ``u = d / h`` (see :data:`KERNELS`); a
        callable maps an array of ``u`` to similarities of the same shape.
    bandwidth : "median", "mean" or float, default=1.0
        Scale ``h`` (see :func:`resolve_bandwidth`).

    Returns
    -------
    similarity : ndarray of the shape of ``distances``
        One at distance zero, decreasing with the distance.

    Examples
    --------
    >>> distance_to_similarity([0.0, 1.0, 2.0], kernel="laplacian").round(3).tolist()
    [1.0, 0.368, 0.135]
    """
    D = np.maximum(np.asarray(distances, dtype=float), 0.0)
    if np.isnan(D).any():
        raise ValueError("distances contain NaN; the task metric returned NaN.")
    h = resolve_bandwidth(bandwidth, D)
    if callable(kernel):
        func = kernel
    else:
        try:
            func = KERNELS[kernel]
        except (KeyError, TypeError):
            raise ValueError(
                f"kernel must be one of {sorted(KERNELS)} or a callable, got "
                f"{kernel!r}."
            ) from None
    S = np.asarray(func(D / h), dtype=float)
    if S.shape != D.shape:
        raise ValueError(
            f"the kernel returned shape {S.shape} for distances of shape {D.shape}."
        )
    if not np.isfinite(S).all() or (S < 0).any():
        raise ValueError("the kernel must return finite, non-negative similarities.")
    return S


def nearest_sources(distances, n_neighbors=None, *, exclude_self=True) -> TaskNeighbors:
    """The ``n_neighbors`` nearest sources of each target from a distance matrix.

    Parameters
    ----------
    distances : array-like of shape (n_targets, n_sources)
        Distances from every target task to every source task.
    n_neighbors : int, default=None
        Number of sources kept per target; ``None`` keeps all of them.
    exclude_self : bool, default=True
        Targets and sources are the same tasks: target ``i`` never has itself as a
        source (``distances`` must be square).

    Returns
    -------
    neighbors : TaskNeighbors
        Indices and distances, nearest first; ties broken by source number.

    Examples
    --------
    >>> D = [[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]]
    >>> nearest_sources(D, 1).indices.ravel().tolist()
    [1, 0, 1]
    """
    D = _check_distances(distances)
    n_targets, n_sources = D.shape
    if exclude_self and n_targets != n_sources:
        raise ValueError(
            "exclude_self=True needs a square distance matrix (targets are the "
            f"sources); got shape {D.shape}."
        )
    k = _check_n_neighbors(n_neighbors, n_sources, exclude_self)
    if exclude_self:
        D = D.copy()
        np.fill_diagonal(D, np.inf)
    return _top_k(D, k, n_sources)


def _top_k(D: np.ndarray, k: int, n_sources: int) -> TaskNeighbors:
    """Smallest ``k`` entries of each row, sorted, ties by column number."""
    n_targets = D.shape[0]
    if k == 0:
        empty = np.empty((n_targets, 0))
        return TaskNeighbors(empty.astype(np.intp), empty, n_sources)
    if k < D.shape[1]:
        part = np.argpartition(D, k - 1, axis=1)[:, :k]
        # argpartition breaks ties arbitrarily: keep every column tied with the
        # k-th distance, then sort by (distance, column) and cut
        kth = np.take_along_axis(D, part, axis=1).max(axis=1, keepdims=True)
        if np.count_nonzero(D <= kth) > n_targets * k:
            part = np.argsort(D, axis=1, kind="stable")[:, :k]
    else:
        part = np.broadcast_to(np.arange(D.shape[1]), D.shape)
    dist = np.take_along_axis(D, part, axis=1)
    order = np.lexsort((part, dist), axis=1)[:, :k]
    idx = np.take_along_axis(part, order, axis=1).astype(np.intp)
    return TaskNeighbors(idx, np.take_along_axis(dist, order, axis=1), n_sources)


def neighbor_similarity(
    distances,
    n_neighbors=None,
    kernel="gaussian",
    bandwidth="median",
    exclude_self=True,
) -> np.ndarray:
    """Similarity of every target to its nearest sources, zero elsewhere.

    Parameters
    ----------
    distances : array-like of shape (n_targets, n_sources)
        Distances from every target task to every source task.
    n_neighbors : int, default=None
        Number of nearest sources per target; ``None`` means all of them. More
        than the sources available is a ``ValueError``.
    kernel : {"gaussian", "laplacian", "inverse", "uniform"} or callable, \
            default="gaussian"
        Kernel of the scaled distance (see :func:`distance_to_similarity`).
    bandwidth : "median", "mean" or float, default="median"
        Kernel scale; ``"median"`` is the median of the kept neighbour
        distances over all targets.
    exclude_self : bool, default=True
        Targets and sources are the same tasks, and a task is not its own source.

    Returns
    -------
    similarity : ndarray of shape (n_targets, n_sources)
        In ``[0, 1]``; zero outside each target's neighbours.

    Examples
    --------
    >>> D = [[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]]
    >>> neighbor_similarity(D, 1, kernel="uniform").tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    D = _check_distances(distances)
    neighbors = nearest_sources(D, n_neighbors, exclude_self=exclude_self)
    values = distance_to_similarity(neighbors.distances, kernel, bandwidth)
    S = np.zeros(D.shape)
    np.put_along_axis(S, neighbors.indices, values, axis=1)
    return S


# -- neighbour search on task features -------------------------------------------------
def _sklearn_metric(metric):
    """``(name, params)`` of a scikit-learn metric equal to ``metric``, or None."""
    from .metrics.base import FeatureMetric

    if not isinstance(metric, FeatureMetric):
        return None
    params = metric.get_params(deep=False)
    name = metric.name
    if name in ("euclidean", "manhattan", "chebyshev") and not params:
        return name, {}
    if name == "minkowski" and set(params) <= {"p"}:
        return "minkowski", {"p": params.get("p", 2)}
    return None


def _agrees_with_sklearn(metric, sk_name, sk_params, F_targets, F_sources) -> bool:
    """Check on a few rows that scikit-learn computes the same distances."""
    from sklearn.metrics import pairwise_distances

    A, B = F_targets[:5], F_sources[:7]
    ours = metric.pairwise(A, B)
    theirs = pairwise_distances(A, B, metric=sk_name, **sk_params)
    scale = max(float(np.abs(ours).max(initial=0.0)), 1e-300)
    return bool(np.allclose(ours, theirs, rtol=1e-6, atol=1e-6 * scale))


def _order_of(sk_name, sk_params):
    """The ``ord`` of :func:`numpy.linalg.norm` of a Minkowski-family metric."""
    return {"euclidean": 2, "manhattan": 1, "chebyshev": np.inf}.get(
        sk_name, (sk_params or {}).get("p", 2)
    )


def _pair_distances(F_targets, F_sources, idx, p) -> np.ndarray:
    """Exact distances from each target to the sources ``idx[target]``."""
    out = np.empty(idx.shape)
    block = max(1, _BLOCK_ENTRIES // max(idx.shape[1] * F_targets.shape[1], 1))
    for start in range(0, idx.shape[0], block):
        sl = slice(start, start + block)
        diff = F_sources[idx[sl]] - F_targets[sl, None, :]
        if p == 2:
            out[sl] = np.sqrt(np.einsum("ncd,ncd->nc", diff, diff))
        elif p == 1:
            out[sl] = np.abs(diff).sum(axis=-1)
        else:
            out[sl] = np.linalg.norm(diff, ord=p, axis=-1)
    return out


def _sorted_neighbors(idx, dist, n_sources) -> TaskNeighbors:
    """Nearest first, ties broken by source number."""
    order = np.lexsort((idx, dist), axis=1)
    return TaskNeighbors(
        np.take_along_axis(idx, order, axis=1).astype(np.intp),
        np.take_along_axis(dist, order, axis=1),
        n_sources,
    )


def find_task_neighbors(
    F_targets,
    F_sources=None,
    *,
    metric="euclidean",
    n_neighbors=None,
    exclude_self=None,
    algorithm="auto",
    random_state=0,
) -> TaskNeighbors:
    """Nearest source tasks of every target task, by a metric on task features.

    Three searches, chosen by ``algorithm="auto"``:

    - ``"brute"``: the metric's distances, computed in blocks of targets and
      reduced to the nearest sources at once (exact; for the Euclidean,
      Manhattan, Chebyshev and Minkowski metrics the candidates come from one
      matrix product and are re-ranked by exact distances);
    - ``"index"``: a :class:`sklearn.neighbors.NearestNeighbors` tree (exact),
      chosen when ``n_neighbors`` is set, sources are many (1,000 or more),
      task features have at most 8 columns and scikit-learn computes the
      metric itself (Euclidean, Manhattan, Chebyshev, Minkowski);
    - ``"approximate"``: for many tasks (20,000 or more) with more task
      features, where exact search costs ``O(n_tasks^2)``: candidates from a
      forest of random-projection trees, refined by neighbours of neighbours
      and ranked by exact distances (chosen when targets are the sources and
      scikit-learn computes the metric). The neighbours found are nearly but
      not always exactly the nearest.

    None of them builds the ``n_targets x n_sources`` matrix at once.

    Parameters
    ----------
    F_targets : array-like of shape (n_targets, n_task_features)
        Task features of the target tasks.
    F_sources : array-like of shape (n_sources, n_task_features), default=None
        Task features of the source tasks; ``None`` means ``F_targets``.
    metric : str, FeatureMetric or callable, default="euclidean"
        Task metric on task features. An instance is used as it is, not
        cloned, so a fitted metric keeps what it learned.
    n_neighbors : int, default=None
        Number of nearest sources per target; ``None`` keeps all of them.
    exclude_self : bool, default=None
        Whether target ``i`` is source ``i`` and must be left out; default True
        when ``F_sources`` is None.
    algorithm : {"auto", "brute", "index", "approximate"}, default="auto"
        The search (see above).
    random_state : int, default=0
        Seed of the random projections of ``"approximate"``.

    Returns
    -------
    neighbors : TaskNeighbors
        Indices and distances of the nearest sources, nearest first.

    Examples
    --------
    >>> F = [[0.0], [1.0], [5.0], [6.0]]
    >>> find_task_neighbors(F, n_neighbors=1).indices.ravel().tolist()
    [1, 0, 3, 2]
    >>> find_task_neighbors([[4.8]], F, n_neighbors=2).indices.tolist()
    [[2, 3]]
    """
    from ._components import resolve_metric
    from .metrics.base import BaseTaskMetric

    # an instance is used as it is: it may be fitted (a FittedFeatureMetric)
    metric_ = metric if isinstance(metric, BaseTaskMetric) else resolve_metric(metric)
    if metric_.space != "features":
        raise ValueError(
            f"metric {metric_.name!r} compares samples, not task features; compute "
            "its distances and use nearest_sources."
        )
    F_targets = np.asarray(F_targets, dtype=float)
    if exclude_self is None:
        exclude_self = F_sources is None
    F_sources = F_targets if F_sources is None else np.asarray(F_sources, float)
    if exclude_self and F_sources.shape[0] != F_targets.shape[0]:
        raise ValueError("exclude_self=True needs the same targets and sources.")
    n_targets, n_sources = F_targets.shape[0], F_sources.shape[0]
    k = _check_n_neighbors(n_neighbors, n_sources, exclude_self)
    if algorithm not in ("auto", "brute", "index", "approximate"):
        raise ValueError(
            "algorithm must be 'auto', 'brute', 'index' or 'approximate', got "
            f"{algorithm!r}."
        )
    sk = _sklearn_metric(metric_)
    if sk is not None and not _agrees_with_sklearn(metric_, *sk, F_targets, F_sources):
        sk = None
    if algorithm in ("index", "approximate") and sk is None:
        raise ValueError(
            f"metric {metric_.name!r} has no scikit-learn equivalent for a "
            f"neighbour search with algorithm={algorithm!r}; use 'brute'."
        )
    if algorithm == "auto":
        algorithm = "brute"
        if sk is not None and n_neighbors is not None and k > 0:
            if F_sources.shape[1] <= _INDEX_MAX_FEATURES:
                if n_sources >= _INDEX_MIN_SOURCES:
                    algorithm = "index"
            elif exclude_self and n_sources >= _APPROX_MIN_SOURCES:
                algorithm = "approximate"
    if k == 0:
        empty = np.empty((n_targets, 0))
        return TaskNeighbors(empty.astype(np.intp), empty, n_sources)
    if algorithm == "index":
        return _index_search(F_targets, F_sources, k, exclude_self, *sk)
    if algorithm == "approximate":
        if not exclude_self:
            raise ValueError(
                "algorithm='approximate' searches the neighbours of the sources "
                "among themselves (exclude_self=True)."
            )
        from ._forest_search import forest_search

        return forest_search(F_targets, k, _order_of(*sk), random_state)
    return _brute_search(metric_, sk, F_targets, F_sources, k, exclude_self)


def _brute_search(metric_, sk, F_targets, F_sources, k, exclude_self):
    """Exact search in blocks of targets."""
    n_targets, n_sources = F_targets.shape[0], F_sources.shape[0]
    indices = np.empty((n_targets, k), dtype=np.intp)
    distances = np.empty((n_targets, k))
    block = max(1, _BLOCK_ENTRIES // max(n_sources, 1))
    euclid = sk is not None and _order_of(*sk) == 2
    if euclid:
        sq_sources = np.einsum("ij,ij->i", F_sources, F_sources)
        extra = min(n_sources, k + 8 + int(exclude_self))
    for start in range(0, n_targets, block):
        stop = min(start + block, n_targets)
        own = np.arange(stop - start), np.arange(start, stop)
        A = F_targets[start:stop]
        if euclid:
            # squared distances by one matrix product, then exact re-ranking of
            # a few more candidates than needed (the product rounds)
            D2 = sq_sources[None, :] - 2.0 * (A @ F_sources.T)
            if exclude_self:
                D2[own] = np.inf
            cand = _top_k(D2, extra - int(exclude_self), n_sources).indices
            dist = _pair_distances(A, F_sources, cand, 2)
            part = _top_k_pairs(cand, dist, k)
        else:
            D = _check_distances(metric_.pairwise(A, F_sources))
            if exclude_self:
                D[own] = np.inf
            part = _top_k(D, k, n_sources)
        indices[start:stop], distances[start:stop] = part.indices, part.distances
    return TaskNeighbors(indices, distances, n_sources)


def _top_k_pairs(idx, dist, k) -> TaskNeighbors:
    """The ``k`` nearest of candidate pairs (duplicates and inf dropped last)."""
    order = np.lexsort((idx, dist), axis=1)[:, :k]
    return TaskNeighbors(
        np.take_along_axis(idx, order, axis=1).astype(np.intp),
        np.take_along_axis(dist, order, axis=1),
        -1,
    )


def _index_search(F_targets, F_sources, k, exclude_self, sk_name, sk_params):
    from sklearn.neighbors import NearestNeighbors

    extra = 1 if exclude_self else 0
    index = NearestNeighbors(
        n_neighbors=k + extra, metric=sk_name, metric_params=sk_params or None
    ).fit(F_sources)
    _, idx = index.kneighbors(F_targets)
    if exclude_self:
        # drop the target itself; with duplicate task features it may not come
        # first, and if it is missing (more than k exact duplicates) drop the last
        own = idx == np.arange(F_targets.shape[0])[:, None]
        own[~own.any(axis=1), -1] = True
        idx = idx[~own].reshape(-1, k)
    # exact distances of the pairs found (the index computes Euclidean distances
    # through dot products), then nearest first, ties broken by source number
    dist = _pair_distances(F_targets, F_sources, idx, _order_of(sk_name, sk_params))
    return _sorted_neighbors(idx, dist, F_sources.shape[0])
