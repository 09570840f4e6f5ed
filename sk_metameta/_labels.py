"""Task labels as a validated 1-D array, one hashable label per row."""

from __future__ import annotations

import numbers
from collections.abc import Hashable

import numpy as np

__all__ = ["as_label_array", "is_missing", "plain"]


def is_missing(values: np.ndarray) -> np.ndarray:
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


def as_label_array(tasks, name: str = "tasks") -> np.ndarray:
    """Convert a 1-D array-like of hashable labels to a numpy array.

    Labels are ints, floats, strs or any hashable value that sorts against the
    others, tuples included: a list of tuples is one label per row (an object
    array holding the tuples), not a 2-D array.
    """
    if hasattr(tasks, "to_numpy"):  # pandas Series / Index
        tasks = tasks.to_numpy()
    if not isinstance(tasks, np.ndarray):
        items = tasks if isinstance(tasks, list | tuple) else list(tasks)
        if any(isinstance(v, tuple) for v in items):
            # tuples are labels, not rows: numpy would make them a 2-D array
            tasks = np.fromiter(items, dtype=object, count=len(items))
        else:
            # np.asarray(["a", 1]) silently gives ["a", "1"]: check kinds first
            tasks = np.asarray(items, dtype=object)
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
            if not _hashable(v):
                raise ValueError(
                    f"{name} must hold hashable labels; found a {type(v).__name__}"
                    + (f" {v!r}." if isinstance(v, tuple) else ".")
                )
    return values


def _hashable(value) -> bool:
    if not isinstance(value, tuple):
        return isinstance(value, Hashable)
    try:  # a tuple is hashable only if all its items are
        hash(value)
    except TypeError:
        return False
    return True


def plain(label):
    """A label as a plain Python value (``'a'``, not ``np.str_('a')``)."""
    return label.item() if isinstance(label, np.generic) else label
