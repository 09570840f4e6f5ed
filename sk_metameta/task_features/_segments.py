"""Segment helpers shared by the built-in extractors.

Rows stay in the order they were given. A per-task sum is one product with the
sparse ``(n_tasks, n_samples)`` indicator matrix of the tasks, whose rows list
each task's rows in the stable order of ``TaskIndex.order``; per-task statistics
are built from such sums. Computations that need a task's rows as a matrix (Gram
matrices, hat matrices, pairwise distances) work on *blocks*: groups of tasks of
similar size, gathered, zero-padded to the block's largest task and stacked into
one array, so that a few batched calls serve all tasks of a block and memory
stays bounded whatever the number and size of the tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse

from .._tasks import TaskIndex

#: Floats (8 bytes each) a block of tasks may hold in its largest intermediate.
BLOCK_FLOATS = 2**22

#: A column whose variance within a task is at most ``(RESOLUTION * mean) ** 2``
#: is constant in that task up to rounding (the rule of ``scipy.stats.skew``).
RESOLUTION = np.finfo(float).resolution


def check_nonempty(index: TaskIndex, name: str) -> None:
    """Refuse a task without rows (possible only for a hand-built TaskIndex)."""
    if index.counts.min(initial=1) < 1:
        empty = index.labels[np.flatnonzero(index.counts < 1)[:5]].tolist()
        raise ValueError(f"task features {name!r}: tasks {empty} have no rows.")


def indicator(index: TaskIndex) -> sparse.csr_array:
    """The ``(n_tasks, n_samples)`` 0/1 matrix of which row belongs to which task."""
    n = index.n_samples
    return sparse.csr_array(
        (np.ones(n), index.order, index.offsets), shape=(index.n_tasks, n)
    )


def segment_sum(a: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Per-task sums of the rows of ``a`` (1-D or 2-D, rows in the given order)."""
    return indicator(index) @ a


def segment_mean(a: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Per-task means of the rows of ``a``; every task must have a row."""
    counts = index.counts.reshape((-1,) + (1,) * (a.ndim - 1))
    return segment_sum(a, index) / counts


def expand(per_task: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Each row's copy of its task's row of ``per_task``."""
    return per_task[index.codes]


def centre(
    a: np.ndarray, index: TaskIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ``a`` minus their task's mean, constant columns exactly 0.

    Returns the centred rows, the per-task means, the per-task (population)
    variances and the mask of (task, column) pairs that are constant within the
    task (variance below the rounding error of the mean); there the centred
    values and the variance are set to exactly 0, so that rounding noise never
    passes for a signal.
    """
    mean = segment_mean(a, index)
    centred = a - expand(mean, index)
    var = segment_mean(centred * centred, index)
    constant = var <= (RESOLUTION * mean) ** 2
    if constant.any():
        var[constant] = 0.0
        centred[expand(constant, index)] = 0.0
    return centred, mean, var, constant


def chunked_segment_sum(
    func: Callable[[np.ndarray], np.ndarray],
    index: TaskIndex,
    width: int,
    max_rows: int,
) -> np.ndarray:
    """Per-task sums of ``func(rows)``, at most ``max_rows`` rows at a time.

    ``func(rows)`` returns the ``(len(rows), width)`` values of the given rows;
    rows are taken in task order (``index.order``), chunk by chunk.
    """
    n = index.n_samples
    offsets = index.offsets
    out = np.zeros((index.n_tasks, width))
    max_rows = max(int(max_rows), 1)
    for start in range(0, n, max_rows):
        stop = min(start + max_rows, n)
        first = int(np.searchsorted(offsets, start, side="right")) - 1
        last = int(np.searchsorted(offsets, stop - 1, side="right")) - 1
        starts = np.maximum(offsets[first : last + 1], start) - start
        values = func(index.order[start:stop])
        out[first : last + 1] += np.add.reduceat(values, starts, axis=0)
    return out


def task_blocks(
    counts: np.ndarray,
    floats_per_task: Callable[[np.ndarray], np.ndarray],
    budget: int | None = None,
) -> Iterator[tuple[np.ndarray, int]]:
    """Group tasks of similar size into blocks that fit a memory budget.

    Tasks are taken by increasing size; a block closes when its padded cost
    ``n_block_tasks * floats_per_task(largest)`` would exceed ``budget`` or when
    its largest task would be more than twice its smallest (bounding the padding
    to less than half of the block). A task too large for the budget on its own
    forms a block alone. ``budget`` defaults to :data:`BLOCK_FLOATS`.

    Yields
    ------
    tasks : ndarray of int
        Task numbers of the block, by increasing size.
    size : int
        Rows of the block's largest task (the padded size).
    """
    budget = BLOCK_FLOATS if budget is None else budget
    by_size = np.argsort(counts, kind="stable")
    sizes = counts[by_size]
    start = 0
    while start < sizes.shape[0]:
        stop = int(np.searchsorted(sizes, 2 * max(int(sizes[start]), 1), "right"))
        cand = sizes[start:stop]
        cost = np.arange(1, cand.shape[0] + 1) * floats_per_task(cand)
        stop = start + max(int(np.searchsorted(cost, budget, side="right")), 1)
        yield by_size[start:stop], int(sizes[stop - 1])
        start = stop


def pad_block(
    arrays: list[np.ndarray], index: TaskIndex, tasks: np.ndarray, size: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows of ``tasks`` as zero-padded stacks of shape ``(len(tasks), size, ...)``.

    Returns the padded arrays (one per array of ``arrays``, each task's rows in
    the stable order of ``index.order``) and the boolean mask of real rows, of
    shape ``(len(tasks), size)``.
    """
    counts = index.counts[tasks]
    k = tasks.shape[0]
    first = int(tasks[0])
    if np.all(counts == size) and np.array_equal(tasks, np.arange(first, first + k)):
        rows = index.order[index.offsets[first] : index.offsets[first + k]]
        padded = [a[rows].reshape((k, size, *a.shape[1:])) for a in arrays]
        return padded, np.ones((k, size), dtype=bool)
    local = np.repeat(np.arange(k), counts)
    pos = np.arange(local.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = index.order[np.repeat(index.offsets[tasks], counts) + pos]
    padded = []
    for a in arrays:
        out = np.zeros((k, size, *a.shape[1:]))
        out[local, pos] = a[rows]
        padded.append(out)
    mask = np.zeros((k, size), dtype=bool)
    mask[local, pos] = True
    return padded, mask


def check_numeric_y(y, name: str) -> np.ndarray:
    """``y`` as a finite 1-D float array, or a ``ValueError`` naming the extractor."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"task features {name!r}: y must be 1-D (one target per row), got shape "
            f"{y.shape}."
        )
    if y.dtype.kind not in "biuf":
        raise ValueError(
            f"task features {name!r} treat y as a number; got y of dtype {y.dtype}. "
            "Encode class labels as numbers first (for example 0/1)."
        )
    y = y.astype(float)
    if not np.isfinite(y).all():
        raise ValueError(f"task features {name!r}: y contains NaN or infinity.")
    return y
