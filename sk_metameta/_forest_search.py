"""Approximate nearest source tasks for many tasks: a random-projection forest.

Used by :func:`sk_metameta.neighbors.find_task_neighbors` with
``algorithm="approximate"``: candidates from the leaves of random-projection trees,
refined by neighbours of neighbours, ranked by exact distances.
"""

from __future__ import annotations

import numpy as np

from .neighbors import (
    _BLOCK_ENTRIES,
    TaskNeighbors,
    _pair_distances,
    _top_k,
    _top_k_pairs,
)

__all__ = ["forest_search"]

#: Neighbours of each neighbour that become candidates in a refinement round.
_EXPAND = 10


def forest_search(F, k, p, random_state, n_trees=4, leaf_size=64, n_rounds=2):
    """Approximate k nearest neighbours of every row of ``F`` among the others."""
    rng = np.random.default_rng(random_state)
    n, d = F.shape
    depth = max(0, int(np.ceil(np.log2(max(n / leaf_size, 1.0)))))
    candidates = []
    for _ in range(n_trees):
        node = np.zeros(n, dtype=np.int64)
        for _ in range(depth):
            # split every node at the median of a random projection
            direction = rng.normal(size=d)
            proj = F @ direction
            order = np.lexsort((proj, node))
            sizes = np.bincount(node)
            starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n) - starts[node[order]]
            node = 2 * node + (rank >= sizes[node] // 2)
            node = np.unique(node, return_inverse=True)[1].ravel()
        # every row's candidates: its k nearest among the rows of its leaf
        order = np.argsort(node, kind="stable")
        sizes = np.bincount(node)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        m = int(sizes.max())
        pos = starts[:, None] + np.arange(m)
        valid = np.arange(m)[None, :] < sizes[:, None]
        members = order[np.where(valid, pos, 0)]  # (n_leaves, m)
        found = np.empty((n, min(k, m)), dtype=np.intp)
        step = max(1, _BLOCK_ENTRIES // (m * m * (1 if p == 2 else d)))
        for start in range(0, members.shape[0], step):
            leaf = members[start : start + step]
            ok = valid[start : start + step]
            P = F[leaf]
            if p == 2:
                sq = np.einsum("lmd,lmd->lm", P, P)
                D = sq[:, :, None] + sq[:, None, :] - 2.0 * (P @ np.swapaxes(P, 1, 2))
            else:
                D = np.linalg.norm(P[:, :, None, :] - P[:, None, :, :], ord=p, axis=-1)
            D[:, np.arange(m), np.arange(m)] = np.inf
            D = np.where(ok[:, None, :], D, np.inf)
            near = np.argpartition(D, found.shape[1] - 1, axis=2)[
                :, :, : found.shape[1]
            ]
            rows = leaf[ok]
            found[rows] = np.take_along_axis(leaf[:, None, :], near, axis=2)[ok]
        candidates.append(found)
    cand = np.hstack(candidates)
    best = _best_candidates(F, cand, k, p)
    # neighbours of neighbours: the nearest few of each neighbour (all k of them
    # would make k^2 candidates per row, the whole cost for large k)
    few = min(k, _EXPAND)
    for _ in range(n_rounds):
        expand = best.indices[best.indices[:, :, None], np.arange(few)]
        cand = np.hstack([best.indices, expand.reshape(n, -1)])
        best = _best_candidates(F, cand, k, p)
    return TaskNeighbors(best.indices, best.distances, n)


def _best_candidates(F, cand, k, p) -> TaskNeighbors:
    """The ``k`` nearest distinct candidates of each row, itself excluded."""
    n = F.shape[0]
    cand = np.sort(cand, axis=1)
    dup = np.zeros(cand.shape, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    dup |= cand == np.arange(n)[:, None]
    dist = _pair_distances(F, F, cand, p)
    dist[dup] = np.inf
    part = np.argpartition(dist, min(k, dist.shape[1] - 1), axis=1)[:, : k + 1]
    idx = np.take_along_axis(cand, part, axis=1)
    dd = np.take_along_axis(dist, part, axis=1)
    best = _top_k_pairs(idx, dd, k)
    if not np.isfinite(best.distances).all():
        # fewer distinct candidates than k (tiny leaves): fill with exact search
        rows = np.flatnonzero(~np.isfinite(best.distances).all(axis=1))
        D = np.linalg.norm(F[rows, None, :] - F[None, :, :], ord=p, axis=-1)
        D[np.arange(rows.size), rows] = np.inf
        exact = _top_k(D, k, n)
        best.indices[rows], best.distances[rows] = exact.indices, exact.distances
    return best
