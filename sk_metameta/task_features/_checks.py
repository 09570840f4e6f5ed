"""Input checks shared by the built-in extractors, naming the extractor."""

from __future__ import annotations

import numpy as np

from .._tasks import TaskIndex


def check_nonempty(index: TaskIndex, name: str) -> None:
    """Refuse a task without rows (possible only for a hand-built TaskIndex)."""
    if index.counts.min(initial=1) < 1:
        empty = index.labels[np.flatnonzero(index.counts < 1)[:5]].tolist()
        raise ValueError(f"task features {name!r}: tasks {empty} have no rows.")


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
