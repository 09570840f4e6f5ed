"""One validated representation of task labels, with vectorized per-task reductions.

A *task* is the set of rows of ``X, y`` that share a task label. :class:`TaskIndex`
groups the rows once (a stable sort by task and the segment offsets) and every
per-task statistic of the library is a reduction over those segments.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable

import numpy as np

__all__ = ["TaskIndex", "check_tasks"]


def _is_missing(values: np.ndarray) -> np.ndarray:
    """Boolean mask of missing labels (``None`` or a float NaN)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.fromiter(
            (
                v is None or (isinstance(v, numbers.Real) and v != v)
                for v in values.tolist()
            ),
            dtype=bool,
            count=values.shape[0],
        )
    return np.zeros(values.shape[0], dtype=bool)


def _as_label_array(tasks, name: str = "tasks") -> np.ndarray:
    """Convert a 1-D array-like of hashable labels to a numpy array."""
    if hasattr(tasks, "to_numpy"):  # pandas Series / Index
        tasks = tasks.to_numpy()
    if not isinstance(tasks, np.ndarray):
        # np.asarray(["a", 1]) silently gives ["a", "1"]: check the kinds first
        tasks = np.asarray(tasks, dtype=object)
        if tasks.ndim == 1:
            kinds = set(map(type, tasks.tolist()))
            if kinds and kinds <= {str, np.str_}:
                tasks = tasks.astype(str)
            elif kinds and all(issubclass(k, numbers.Integral) for k in kinds):
                tasks = tasks.astype(np.int64)
            elif kinds and all(issubclass(k, numbers.Real) for k in kinds):
                tasks = tasks.astype(float)
    values = np.asarray(tasks)
    if values.ndim == 2 and 1 in values.shape:
        values = values.ravel()
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array-like of task labels, one per row; "
            f"got an array of shape {values.shape}."
        )
    if values.dtype.kind == "c":
        raise ValueError(f"{name} must hold int or str labels, not complex numbers.")
    if values.dtype.kind == "O":
        for v in values.tolist():
            if not isinstance(v, Hashable):
                raise ValueError(
                    f"{name} must hold hashable labels; found a {type(v).__name__}."
                )
    return values


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
        values = _as_label_array(tasks)
        try:
            labels, codes = np.unique(values, return_inverse=True)
        except TypeError as exc:
            kinds = sorted({type(v).__name__ for v in values.tolist()})
            raise ValueError(
                "tasks must hold labels of one kind that can be sorted (all int or "
                f"all str); found {', '.join(kinds)}."
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
        values = _as_label_array(tasks)
        if values.shape[0] == 0:
            return np.empty(0, dtype=np.intp)
        fitted_str = self.labels.dtype.kind in "USO"
        if fitted_str != (values.dtype.kind in "USO"):
            raise ValueError(
                "tasks must be labels of the same kind as at fit time "
                f"({self.labels.dtype}); got {values.dtype}."
            )
        try:
            pos = np.searchsorted(self.labels, values)
        except TypeError as exc:
            raise ValueError(
                "tasks must be labels of the same kind as at fit time "
                f"({self.labels.dtype}); got {values.dtype}."
            ) from exc
        pos = np.clip(pos, 0, max(self.n_tasks - 1, 0))
        found = self.labels[pos] == values
        codes = np.where(found, pos, -1).astype(np.intp)
        if not allow_unseen and not found.all():
            unseen = np.unique(values[~found])[:5].tolist()
            raise ValueError(f"tasks {unseen} were not seen during fit.")
        return codes

    # -- vectorized reductions over segments ---------------------------------------
    def _segments(self, a) -> tuple[np.ndarray, np.ndarray]:
        a = np.asarray(a, dtype=float)
        if a.shape[0] != self.n_samples:
            raise ValueError(
                f"expected {self.n_samples} rows (one per task label), "
                f"got {a.shape[0]}."
            )
        return a[self.order], self.offsets[:-1]

    def sum(self, a) -> np.ndarray:
        """Per-task sum of the rows of ``a``, shape ``(n_tasks, *a.shape[1:])``."""
        sorted_a, starts = self._segments(a)
        out = np.zeros((self.n_tasks, *sorted_a.shape[1:]))
        nonempty = self.counts > 0
        if sorted_a.shape[0]:
            out[nonempty] = np.add.reduceat(sorted_a, starts[nonempty], axis=0)
        return out

    def mean(self, a) -> np.ndarray:
        """Per-task mean of the rows of ``a``."""
        counts = self.counts.reshape((-1,) + (1,) * (np.ndim(a) - 1))
        return self.sum(a) / np.maximum(counts, 1)

    def var(self, a, ddof: int = 0) -> np.ndarray:
        """Per-task variance of the rows of ``a`` (two-pass, numerically stable)."""
        a = np.asarray(a, dtype=float)
        mean = self.mean(a)
        centred = a - mean[self.codes]
        counts = self.counts.reshape((-1,) + (1,) * (a.ndim - 1))
        return self.sum(centred**2) / np.maximum(counts - ddof, 1)

    def broadcast(self, per_task) -> np.ndarray:
        """Expand a per-task array ``(n_tasks, ...)`` back to one row per sample."""
        return np.asarray(per_task)[self.codes]


def _plain(label):
    """A label as a plain Python value (``'a'``, not ``np.str_('a')``)."""
    return label.item() if isinstance(label, np.generic) else label


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
        One hashable label (int or str) per row.
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
        values = _as_label_array(tasks)
        if n_samples is not None and values.shape[0] != n_samples:
            raise ValueError(
                f"tasks has {values.shape[0]} labels but X has {n_samples} rows; "
                "give one task label per row."
            )
        if values.shape[0] == 0:
            raise ValueError("tasks is empty: there must be at least one row.")
        missing = _is_missing(values)
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
