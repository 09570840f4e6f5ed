"""Per-task reductions of :class:`~sk_metameta.TaskIndex` in blocks of bounded memory.

The implementations behind ``TaskIndex.sum_map``, ``padded_blocks``, ``pair_sums``,
``sorted_within`` and ``midpoint_quantiles`` (documented there): each takes the
index as its first argument.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

__all__ = [
    "BLOCK_FLOATS",
    "midpoint_quantiles",
    "padded_blocks",
    "pair_sums",
    "rows_of",
    "sorted_within",
    "sum_map",
]

#: Floats (8 bytes each) a block of tasks may hold in its largest intermediate.
BLOCK_FLOATS = 2**22


def sum_map(index, func, a, *, chunk_rows: int) -> np.ndarray:
    """Per-task sums of ``func(rows)``, computed ``chunk_rows`` rows at a time."""
    out = None
    for a0, a1, t0, t1, local in _row_blocks(index.offsets, chunk_rows):
        values = func(a[index.order[a0:a1]])
        if out is None:
            out = np.zeros((index.n_tasks, values.shape[1]))
        part = np.add.reduceat(values, local, axis=0, dtype=float)
        part[index.counts[t0:t1] == 0] = 0.0
        out[t0:t1] += part
    return np.zeros((index.n_tasks, 0)) if out is None else out


def padded_blocks(index, arrays, floats_per_task, budget: int | None = None):
    """Tasks in blocks of similar size, each block's rows zero-padded and stacked."""
    budget = BLOCK_FLOATS if budget is None else budget
    by_size = np.argsort(index.counts, kind="stable")
    sizes = index.counts[by_size]
    start = 0
    while start < sizes.shape[0]:
        stop = int(np.searchsorted(sizes, 2 * max(int(sizes[start]), 1), "right"))
        cost = np.arange(1, stop - start + 1) * floats_per_task(sizes[start:stop])
        stop = start + max(int(np.searchsorted(cost, budget, side="right")), 1)
        tasks = by_size[start:stop]
        yield (tasks, *pad(index, arrays, tasks, int(sizes[stop - 1])))
        start = stop


def rows_of(index, tasks: np.ndarray):
    """Rows of ``tasks``, task by task: each one's task, rank and row index."""
    counts = index.counts[tasks]
    local = np.repeat(np.arange(tasks.shape[0]), counts)
    pos = np.arange(local.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    return local, pos, index.order[index.offsets[tasks][local] + pos]


def pad(index, arrays, tasks: np.ndarray, size: int):
    """Rows of ``tasks`` zero-padded to ``size``, and the mask of real rows."""
    k, first = tasks.shape[0], int(tasks[0])
    run = np.array_equal(tasks, np.arange(first, first + k))
    if run and np.all(index.counts[tasks] == size):
        rows = index.order[index.offsets[first] : index.offsets[first + k]]
        padded = [a[rows].reshape((k, size, *a.shape[1:])) for a in arrays]
        return padded, np.ones((k, size), dtype=bool)
    local, pos, rows = rows_of(index, tasks)
    padded = []
    for a in arrays:
        out = np.zeros((k, size, *a.shape[1:]))
        out[local, pos] = a[rows]
        padded.append(out)
    mask = np.zeros((k, size), dtype=bool)
    mask[local, pos] = True
    return padded, mask


def pair_sums(
    index,
    func,
    left,
    right=None,
    other=None,
    *,
    block_size: int = 1024,
    diagonal: bool = False,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Sums of a function of pairs of rows, per pair of tasks, in blocks."""
    symmetric = other is None
    if diagonal and not symmetric:
        raise ValueError("diagonal sums need other=None.")
    other = index if symmetric else other
    L = np.asarray(left)[index.order]
    R = L if right is None else np.asarray(right)[other.order]
    blocks_x = _row_blocks(index.offsets, block_size)
    blocks_y = blocks_x if symmetric else _row_blocks(other.offsets, block_size)
    empty_x, empty_y = index.counts == 0, other.counts == 0
    shape = (index.n_tasks,) if diagonal else (index.n_tasks, other.n_tasks)

    def work(first: int, step: int) -> np.ndarray:
        S = np.zeros(shape)
        buffer = np.empty(block_size * block_size)
        for i in range(first, len(blocks_x), step):
            a0, a1, ta0, ta1, local_a = blocks_x[i]
            for j in range(i if symmetric else 0, len(blocks_y)):
                b0, b1, tb0, tb1, local_b = blocks_y[j]
                if diagonal and tb0 >= ta1:
                    break  # later blocks share no task with block i either
                G = buffer[: (a1 - a0) * (b1 - b0)].reshape(a1 - a0, b1 - b0)
                G = func(L[a0:a1], R[b0:b1], G, symmetric and i == j)
                part = np.add.reduceat(
                    np.add.reduceat(G, local_b, axis=1), local_a, axis=0
                )
                part[empty_x[ta0:ta1]] = 0.0
                part[:, empty_y[tb0:tb1]] = 0.0
                mirror = 2.0 if symmetric and j > i else 1.0
                if diagonal:  # tasks in both blocks: tb0 .. ta1 - 1
                    shared = np.arange(tb0, ta1)
                    S[shared] += mirror * part[shared - ta0, shared - tb0]
                    continue
                S[ta0:ta1, tb0:tb1] += part
                if mirror == 2.0:
                    S[tb0:tb1, ta0:ta1] += part.T
        return S

    n_workers = max(1, min(effective_n_jobs(n_jobs), len(blocks_x)))
    if n_workers == 1:
        S = work(0, 1)
    else:
        parts = Parallel(n_jobs=n_workers, require="sharedmem")(
            delayed(work)(w, n_workers) for w in range(n_workers)
        )
        S = parts[0]
        for part in parts[1:]:
            S += part
    if symmetric and not diagonal:
        S = 0.5 * (S + S.T)  # diagonal blocks are symmetric only up to rounding
    return S


def sorted_within(index, a) -> np.ndarray:
    """Columns of ``a`` in task order, sorted within each task."""
    values = np.take(np.asarray(a, dtype=float).T, index.order, axis=1)
    codes = np.repeat(np.arange(index.n_tasks), index.counts)
    if index.n_tasks <= np.iinfo(np.uint16).max:
        codes = codes.astype(np.uint16)  # stable argsort then uses radix sort
    # Sort each column by value, then (stably) by task: each task's values
    # end up sorted within its own segment.
    by_value = np.argsort(values, axis=1)
    values = np.take_along_axis(values, by_value, axis=1)
    by_task = np.argsort(codes[by_value], axis=1, kind="stable")
    return np.take_along_axis(values, by_task, axis=1)


def midpoint_quantiles(index, a, n_quantiles: int) -> np.ndarray:
    """Every task's empirical quantiles of each column at the cell midpoints."""
    if index.counts.min(initial=1) < 1:
        empty = index.labels[np.flatnonzero(index.counts < 1)[:5]].tolist()
        raise ValueError(f"tasks {empty} have no rows: they have no quantiles.")
    n = index.counts[:, None].astype(np.int64)
    k = np.arange(n_quantiles, dtype=np.int64)[None, :]
    within = ((2 * k + 1) * n + 2 * n_quantiles - 1) // (2 * n_quantiles) - 1
    positions = index.offsets[:-1, None] + within
    return index.sorted_within(a)[:, positions].transpose(1, 0, 2)


def _row_blocks(offsets: np.ndarray, block_size: int) -> list[tuple]:
    """Split rows sorted by task into blocks of at most ``block_size`` rows.

    Returns one ``(start, stop, first_task, stop_task, local_starts)`` per block:
    the block holds rows ``start:stop``, touches tasks ``first_task:stop_task``,
    and ``local_starts`` are where those tasks begin inside the block.
    """
    n = int(offsets[-1])
    block_size = max(int(block_size), 1)
    starts = np.arange(0, n, block_size)
    stops = np.minimum(starts + block_size, n)
    first = np.searchsorted(offsets, starts, side="right") - 1
    last = np.searchsorted(offsets, stops - 1, side="right") - 1
    return [
        (a0, a1, t0, t1 + 1, np.maximum(offsets[t0 : t1 + 1], a0) - a0)
        for a0, a1, t0, t1 in zip(
            starts.tolist(), stops.tolist(), first.tolist(), last.tolist(), strict=True
        )
    ]
