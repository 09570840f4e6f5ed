"""One validated representation of task labels, with vectorized per-task reductions.

A *task* is the set of rows of ``X, y`` that share a task label. :class:`TaskIndex`
groups the rows once (a stable sort by task and the segment offsets) and every
per-task statistic of the library is a reduction over those segments.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from . import _task_blocks
from ._labels import as_label_array, is_missing
from ._labels import plain as _plain

__all__ = ["TaskIndex", "check_tasks"]

#: A column whose variance within a task is at most ``(RESOLUTION * mean) ** 2``
#: is constant in that task up to rounding (the rule of ``scipy.stats.skew``).
RESOLUTION = np.finfo(float).resolution


class TaskIndex:
    """Rows grouped by task: labels, codes, a stable order and segment offsets.

    Build it with :func:`check_tasks` (which validates) or
    :meth:`TaskIndex.from_labels`. Tasks are ordered by their sorted labels, so
    ``labels[i]`` is task ``i`` everywhere in the library.

    Parameters
    ----------
    labels : ndarray of shape (n_tasks,)
        Sorted unique task labels.
    codes : ndarray of shape (n_samples,)
        Task number of each row, an index into ``labels``.

    Attributes
    ----------
    labels : ndarray of shape (n_tasks,)
        Sorted unique task labels.
    codes : ndarray of shape (n_samples,)
        Task number of each row.
    order : ndarray of shape (n_samples,)
        Stable permutation that sorts the rows by task.
    offsets : ndarray of shape (n_tasks + 1,)
        Task ``i`` occupies ``order[offsets[i]:offsets[i + 1]]``.
    counts : ndarray of shape (n_tasks,)
        Number of rows of each task.

    Examples
    --------
    >>> from sk_metameta import check_tasks
    >>> index = check_tasks(["b", "a", "b", "a", "a"], n_samples=5)
    >>> index.labels.tolist(), index.counts.tolist()
    (['a', 'b'], [3, 2])
    >>> index.mean([[1.0], [2.0], [3.0], [4.0], [6.0]]).ravel().tolist()
    [4.0, 2.0]
    """

    def __init__(self, labels: np.ndarray, codes: np.ndarray):
        self.labels = labels
        self.codes = np.asarray(codes, dtype=np.intp)
        self.order = np.argsort(self.codes, kind="stable")
        self.counts = np.bincount(self.codes, minlength=labels.shape[0])
        self.offsets = np.concatenate(([0], np.cumsum(self.counts))).astype(np.intp)

    @classmethod
    def from_labels(cls, tasks) -> TaskIndex:
        """Group rows by the labels ``tasks`` without validation beyond encoding."""
        values = as_label_array(tasks)
        try:
            labels, codes = np.unique(values, return_inverse=True)
        except TypeError as exc:
            kinds = sorted({type(v).__name__ for v in values.tolist()})
            raise ValueError(
                "tasks must hold labels of one kind that can be sorted (all int, "
                f"all str or all tuples); found {', '.join(kinds)}."
            ) from exc
        return cls(labels, codes.ravel())

    # -- sizes -----------------------------------------------------------------
    @property
    def n_tasks(self) -> int:
        """Number of tasks."""
        return int(self.labels.shape[0])

    @property
    def n_samples(self) -> int:
        """Number of rows."""
        return int(self.codes.shape[0])

    def __len__(self) -> int:
        return self.n_tasks

    def __repr__(self) -> str:
        return f"TaskIndex(n_tasks={self.n_tasks}, n_samples={self.n_samples})"

    # -- access ----------------------------------------------------------------
    def rows(self, task: int) -> np.ndarray:
        """Row indices of task number ``task`` (in their original order)."""
        return self.order[self.offsets[task] : self.offsets[task + 1]]

    def sort(self, a) -> np.ndarray:
        """Rows of ``a`` in task order (task 0 first, stable within a task)."""
        return np.asarray(a)[self.order]

    def encode(self, tasks, *, allow_unseen: bool = True) -> np.ndarray:
        """Task numbers of the labels ``tasks``; ``-1`` for labels never seen.

        Parameters
        ----------
        tasks : array-like of shape (n,)
            Task labels to look up.
        allow_unseen : bool, default=True
            If False, an unseen label raises a ``ValueError`` naming it.

        Returns
        -------
        codes : ndarray of shape (n,)
            Index into :attr:`labels`, or ``-1``.
        """
        values = as_label_array(tasks)
        if values.shape[0] == 0:
            return np.empty(0, dtype=np.intp)
        fitted_str = self.labels.dtype.kind in "USO"
        try:
            if fitted_str != (values.dtype.kind in "USO"):
                raise TypeError
            pos = np.searchsorted(self.labels, values)
        except TypeError as exc:
            raise ValueError(
                "tasks must be labels of the same kind as at fit time ("
                f"{_kinds(self.labels)}); got {_kinds(values)}."
            ) from exc
        pos = np.clip(pos, 0, max(self.n_tasks - 1, 0))
        found = self.labels[pos] == values
        codes = np.where(found, pos, -1).astype(np.intp)
        if not allow_unseen and not found.all():
            unseen = np.unique(values[~found])[:5].tolist()
            raise ValueError(f"tasks {unseen} were not seen during fit.")
        return codes

    def subset(self, tasks) -> tuple[np.ndarray, TaskIndex]:
        """The rows of some tasks, and their grouping under the same labels.

        Parameters
        ----------
        tasks : array-like of int
            Task numbers (indices into :attr:`labels`); repeats are ignored.

        Returns
        -------
        rows : ndarray of shape (n_rows,)
            Row indices of those tasks, task by task (in the order of
            :attr:`order`).
        index : TaskIndex
            The grouping of ``X[rows]``: labels ``labels[sorted(tasks)]``, so that
            messages about its tasks name the user's labels.
        """
        tasks = np.unique(np.asarray(tasks, dtype=np.intp))
        local, _, rows = _task_blocks.rows_of(self, tasks)
        return rows, TaskIndex(self.labels[tasks], local)

    # -- per-task reductions -------------------------------------------------------
    def _check_rows(self, a, name: str = "a") -> np.ndarray:
        a = np.asarray(a, dtype=float)
        if a.ndim == 0 or a.shape[0] != self.n_samples:
            raise ValueError(
                f"expected {name} with {self.n_samples} rows (one per task label), "
                f"got shape {a.shape}."
            )
        return a

    def _indicator(self, weights=None) -> sparse.csr_array:
        """The ``(n_tasks, n_samples)`` matrix of each row's task (or weight)."""
        if weights is None:
            data = np.ones(self.n_samples)
        else:
            weights = np.asarray(weights, dtype=float)
            if weights.shape != (self.n_samples,):
                raise ValueError(
                    f"expected weights of shape ({self.n_samples},), got "
                    f"{weights.shape}."
                )
            data = weights[self.order]
        shape = (self.n_tasks, self.n_samples)
        return sparse.csr_array((data, self.order, self.offsets), shape=shape)

    def sum(self, a, weights=None) -> np.ndarray:
        """Per-task (weighted) sum of the rows of ``a``.

        Parameters
        ----------
        a : array-like of shape (n_samples, ...)
            Values, one row per sample, in the original order.
        weights : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        sums : ndarray of shape (n_tasks, ...)
            ``0`` for a task without rows.
        """
        a = self._check_rows(a)
        flat = a.reshape(a.shape[0], -1) if a.ndim > 2 else a
        return (self._indicator(weights) @ flat).reshape((self.n_tasks, *a.shape[1:]))

    def total(self, weights=None) -> np.ndarray:
        """Per-task number of rows (``weights=None``) or sum of the weights."""
        if weights is None:
            return self.counts.astype(float)
        return self.sum(weights)

    def mean(self, a, weights=None) -> np.ndarray:
        """Per-task (weighted) mean of the rows of ``a``; ``0`` for an empty task."""
        a = self._check_rows(a)
        total = self.total(weights).reshape((-1,) + (1,) * (a.ndim - 1))
        return self.sum(a, weights) / np.where(total > 0, total, 1.0)

    def var(self, a, ddof: int = 0, weights=None) -> np.ndarray:
        """Per-task (weighted) variance of the rows of ``a`` (two-pass).

        The sum of squared deviations is divided by the number of rows (or the
        sum of the weights) minus ``ddof``, or by 1 where that is not positive.
        """
        a = self._check_rows(a)
        centred = a - self.mean(a, weights)[self.codes]
        denom = self.total(weights).reshape((-1,) + (1,) * (a.ndim - 1)) - ddof
        return self.sum(centred * centred, weights) / np.where(denom > 0, denom, 1.0)

    def min(self, a) -> np.ndarray:
        """Per-task minimum of the rows of ``a``; NaN for an empty task."""
        return self._extreme(np.minimum, a)

    def max(self, a) -> np.ndarray:
        """Per-task maximum of the rows of ``a``; NaN for an empty task."""
        return self._extreme(np.maximum, a)

    def _extreme(self, ufunc, a) -> np.ndarray:
        a = self._check_rows(a)
        out = np.full((self.n_tasks, *a.shape[1:]), np.nan)
        nonempty = self.counts > 0
        if nonempty.any():
            starts = self.offsets[:-1][nonempty]
            out[nonempty] = ufunc.reduceat(a[self.order], starts, axis=0)
        return out

    def centre(self, a) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows of ``a`` minus their task's mean, constant columns exactly 0.

        Returns the centred rows, the per-task means, the per-task (population)
        variances and the mask of (task, column) pairs that are constant within
        the task: variance at most ``(resolution * mean) ** 2``, the rounding
        error of the mean (the rule of :func:`scipy.stats.skew`). There the
        centred values and the variance are set to exactly 0, so that rounding
        noise never passes for a signal.
        """
        a = self._check_rows(a)
        mean = self.mean(a)
        centred = a - mean[self.codes]
        var = self.mean(centred * centred)
        constant = var <= (RESOLUTION * mean) ** 2
        if constant.any():
            var[constant] = 0.0
            centred[constant[self.codes]] = 0.0
        return centred, mean, var, constant

    def broadcast(self, per_task) -> np.ndarray:
        """Expand a per-task array ``(n_tasks, ...)`` back to one row per sample."""
        return np.asarray(per_task)[self.codes]

    # -- reductions in blocks of bounded memory ------------------------------------
    def sum_map(self, func, a, *, chunk_rows: int) -> np.ndarray:
        """Per-task sums of ``func(rows)``, computed ``chunk_rows`` rows at a time.

        Parameters
        ----------
        func : callable
            ``func(rows)`` maps an ``(m, ...)`` chunk of the rows of ``a`` (taken
            in task order) to an ``(m, k)`` array of values.
        a : ndarray of shape (n_samples, ...)
            Rows, in the original order.
        chunk_rows : int
            Rows per call of ``func``.

        Returns
        -------
        sums : ndarray of shape (n_tasks, k)
        """
        return _task_blocks.sum_map(self, func, a, chunk_rows=chunk_rows)

    def padded_blocks(self, arrays, floats_per_task, budget: int | None = None):
        """Tasks in blocks of similar size, each block's rows zero-padded and stacked.

        Tasks are taken by increasing size; a block closes when its padded cost
        ``n_block_tasks * floats_per_task(largest)`` would exceed ``budget``
        (default :data:`BLOCK_FLOATS`) or when its largest task would have more
        than twice the rows of its smallest (so padding is less than half of the
        block). A task too large for the budget on its own forms a block alone.

        Parameters
        ----------
        arrays : list of ndarray of shape (n_samples, ...)
            Rows, in the original order.
        floats_per_task : callable
            Floats a task of ``m`` rows needs (vectorized over an array of ``m``).
        budget : int, default=None
            Floats a block may hold.

        Yields
        ------
        tasks : ndarray of int
            Task numbers of the block, by increasing size.
        padded : list of ndarray of shape (len(tasks), size, ...)
            Each array's rows of those tasks (in the order of :attr:`order`),
            zero-padded to the block's largest task.
        mask : ndarray of bool of shape (len(tasks), size)
            Which padded rows are real.
        """
        yield from _task_blocks.padded_blocks(self, arrays, floats_per_task, budget)

    def pair_sums(
        self,
        func,
        left,
        right=None,
        other=None,
        *,
        block_size: int = 1024,
        diagonal: bool = False,
        n_jobs: int | None = None,
    ) -> np.ndarray:
        r"""Sums of a function of pairs of rows, per pair of tasks, in blocks.

        Computes :math:`S_{ij} = \sum_{r \in i} \sum_{s \in j} k(r, s)` for the
        tasks ``i`` of this index and ``j`` of ``other``. The rows are sorted by
        task; ``func(L, R, out, same)`` receives a block of at most
        ``block_size`` rows of ``left`` and one of ``right`` (task order), writes
        the ``(len(L), len(R))`` values of ``k`` into ``out`` and returns it
        (``same`` is True when both blocks hold the same rows, in the same
        order). Each block is reduced with :func:`numpy.add.reduceat` on both
        axes; memory stays at one ``block_size x block_size`` block per thread.

        Parameters
        ----------
        func : callable
            ``func(L, R, out, same) -> out``, the kernel of a block.
        left : ndarray of shape (n_samples, n_left)
            Row representation read by ``func`` on the left, original order.
        right : ndarray of shape (other.n_samples, n_right), default=None
            Rows of ``other`` read on the right; default ``left``.
        other : TaskIndex, default=None
            Tasks of ``right``. ``None`` compares this index with itself: only
            blocks on or above the diagonal are computed and mirrored, so
            ``func`` must then be symmetric, :math:`k(r, s) = k(s, r)`, and the
            result is exactly symmetric.
        block_size : int, default=1024
            Rows per block.
        diagonal : bool, default=False
            With ``other=None``, compute only the blocks holding pairs of rows
            of one task, and return the vector of the :math:`S_{ii}`.
        n_jobs : int, default=None
            Threads sharing the blocks (numpy releases the GIL in products and
            ufuncs); thread ``w`` takes block rows ``w, w + n_jobs, ...`` and
            the threads' sums are added in a fixed order, so a given ``n_jobs``
            always gives the same result.

        Returns
        -------
        sums : ndarray of shape (n_tasks, other.n_tasks)
            Or of shape (n_tasks,) with ``diagonal``.
        """
        return _task_blocks.pair_sums(
            self,
            func,
            left,
            right,
            other,
            block_size=block_size,
            diagonal=diagonal,
            n_jobs=n_jobs,
        )

    def sorted_within(self, a) -> np.ndarray:
        """Columns of ``a`` in task order, sorted within each task.

        Parameters
        ----------
        a : ndarray of shape (n_samples, k)
            Values, in the original order.

        Returns
        -------
        values : ndarray of shape (k, n_samples)
            Row ``c`` holds column ``c``: task 0's values ascending, then task
            1's, ... (task ``i`` at ``offsets[i]:offsets[i + 1]``).
        """
        return _task_blocks.sorted_within(self, a)

    def midpoint_quantiles(self, a, n_quantiles: int) -> np.ndarray:
        """Every task's empirical quantiles of each column at the cell midpoints.

        The quantile function of ``n`` sorted values is the step function
        ``q -> v[ceil(q n) - 1]`` (numpy's ``"inverted_cdf"``); it is read at
        ``q_k = (2k + 1) / (2 Q)``, ``k < Q``, in exact integer arithmetic.

        Parameters
        ----------
        a : ndarray of shape (n_samples, k)
            Values, in the original order.
        n_quantiles : int
            Number ``Q`` of quantile cells.

        Returns
        -------
        quantiles : ndarray of shape (n_tasks, k, n_quantiles)
        """
        return _task_blocks.midpoint_quantiles(self, a, n_quantiles)


def _kinds(values: np.ndarray) -> str:
    """The Python types of some labels, for messages (``'int'``, ``'tuple'``)."""
    kinds = {type(_plain(v)).__name__ for v in values[:1000].tolist()}
    return ", ".join(sorted(kinds)) or str(values.dtype)


def check_tasks(
    tasks,
    n_samples: int | None = None,
    *,
    min_rows: int = 1,
    min_tasks: int = 1,
    purpose: str | None = None,
) -> TaskIndex:
    """Validate task labels and group the rows by task.

    Parameters
    ----------
    tasks : array-like of shape (n_samples,) or TaskIndex
        One hashable label (int, str, or any hashable value that sorts, such as
        a tuple) per row.
    n_samples : int, default=None
        Number of rows of ``X``; a different number of labels is an error.
    min_rows : int, default=1
        Least number of rows every task must have.
    min_tasks : int, default=1
        Least number of distinct tasks.
    purpose : str, default=None
        What needs the rows, named in the error message (for example
        ``"metric 'mmd'"``).

    Returns
    -------
    index : TaskIndex
        The validated grouping.

    Raises
    ------
    ValueError
        On a length mismatch, empty input, missing labels (None or NaN), labels of
        mixed kinds, too few tasks, or a task with fewer than ``min_rows`` rows.

    Examples
    --------
    >>> from sk_metameta import check_tasks
    >>> check_tasks([1, 1, 2], n_samples=3)
    TaskIndex(n_tasks=2, n_samples=3)
    >>> check_tasks([1, 1, 2], n_samples=4)
    Traceback (most recent call last):
    ...
    ValueError: tasks has 3 labels but X has 4 rows; give one task label per row.
    """
    if isinstance(tasks, TaskIndex):
        index = tasks
    else:
        if tasks is None:
            raise ValueError("tasks is required here: give one task label per row.")
        values = as_label_array(tasks)
        if n_samples is not None and values.shape[0] != n_samples:
            raise ValueError(
                f"tasks has {values.shape[0]} labels but X has {n_samples} rows; "
                "give one task label per row."
            )
        if values.shape[0] == 0:
            raise ValueError("tasks is empty: there must be at least one row.")
        missing = is_missing(values)
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"tasks has {int(missing.sum())} missing labels (None or NaN), the "
                f"first at row {first}; every row needs a task label."
            )
        index = TaskIndex.from_labels(values)
    if n_samples is not None and index.n_samples != n_samples:
        raise ValueError(
            f"tasks has {index.n_samples} labels but X has {n_samples} rows; "
            "give one task label per row."
        )
    why = f" for {purpose}" if purpose else ""
    if index.n_tasks < min_tasks:
        raise ValueError(
            f"found {index.n_tasks} task(s) but at least {min_tasks} are needed{why}."
        )
    if min_rows > 1 and index.counts.min(initial=min_rows) < min_rows:
        small = np.flatnonzero(index.counts < min_rows)
        names = ", ".join(
            f"{_plain(index.labels[i])!r} ({index.counts[i]} "
            f"row{'' if index.counts[i] == 1 else 's'})"
            for i in small[:5]
        )
        more = f" and {small.size - 5} more" if small.size > 5 else ""
        raise ValueError(
            f"every task needs at least {min_rows} rows{why}; task {names}{more} "
            "has fewer."
        )
    return index
