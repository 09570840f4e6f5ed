"""Segment helpers shared by the built-in extractors.

Rows are put in task order once (``TaskIndex.order``); every per-task statistic is
then a reduction over contiguous segments. Computations that need a task's rows as
a matrix (Gram matrices, hat matrices, pairwise distances) work on *blocks*: groups
of tasks of similar size, zero-padded to the block's largest task and stacked into
one array, so that a few batched BLAS calls serve all tasks of a block and memory
stays bounded whatever the number and size of the tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

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


def sort_rows(a: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Rows of ``a`` in task order (no copy when they already are)."""
    codes = index.codes
    if codes.shape[0] < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        return a
    return a[index.order]


def segment_sum(sorted_a: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Per-task sums of rows already in task order; every task must have a row."""
    return np.add.reduceat(sorted_a, index.offsets[:-1], axis=0)


def segment_mean(sorted_a: np.ndarray, index: TaskIndex) -> np.ndarray:
    """Per-task means of rows already in task order."""
    counts = index.counts.reshape((-1,) + (1,) * (sorted_a.ndim - 1))
    return segment_sum(sorted_a, index) / counts


def expand(per_task: np.ndarray, index: TaskIndex) -> np.ndarray:
    """One copy of each task's row per sample, in task order."""
    return np.repeat(per_task, index.counts, axis=0)


def centre(
    sorted_a: np.ndarray, index: TaskIndex, *, overwrite: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows in task order minus their task's mean, constant columns exactly 0.

    Returns the centred rows, the per-task means, the per-task (population)
    variances and the mask of (task, column) pairs that are constant within the
    task (variance below the rounding error of the mean); there the centred
    values and the variance are set to exactly 0, so that rounding noise never
    passes for a signal. With ``overwrite``, ``sorted_a`` is centred in place.
    """
    mean = segment_mean(sorted_a, index)
    if overwrite:
        centred = sorted_a
        centred -= expand(mean, index)
    else:
        centred = sorted_a - expand(mean, index)
    var = segment_mean(centred * centred, index)
    constant = var <= (RESOLUTION * mean) ** 2
    if constant.any():
        var[constant] = 0.0
        centred[expand(constant, index)] = 0.0
    return centred, mean, var, constant


def chunked_segment_sum(
    func: Callable[[int, int], np.ndarray],
    index: TaskIndex,
    width: int,
    max_rows: int,
) -> np.ndarray:
    """Per-task sums of ``func(start, stop)``, rows in task order, chunk by chunk.

    ``func(start, stop)`` returns the ``(stop - start, width)`` values of the sorted
    rows ``start:stop``; at most ``max_rows`` rows are materialised at a time.
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
        out[first : last + 1] += np.add.reduceat(func(start, stop), starts, axis=0)
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
    sorted_arrays: list[np.ndarray], index: TaskIndex, tasks: np.ndarray, size: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Rows of ``tasks`` as zero-padded stacks of shape ``(len(tasks), size, ...)``.

    Returns the padded arrays (one per array of ``sorted_arrays``, rows in task
    order) and the boolean mask of real rows, of shape ``(len(tasks), size)``.
    """
    counts = index.counts[tasks]
    k = tasks.shape[0]
    first = int(tasks[0])
    if np.all(counts == size) and np.array_equal(tasks, np.arange(first, first + k)):
        lo, hi = index.offsets[first], index.offsets[first + k]
        padded = [a[lo:hi].reshape((k, size, *a.shape[1:])) for a in sorted_arrays]
        return padded, np.ones((k, size), dtype=bool)
    local = np.repeat(np.arange(k), counts)
    pos = np.arange(local.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = np.repeat(index.offsets[tasks], counts) + pos
    padded = []
    for a in sorted_arrays:
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
