"""Hypothesis strategies for multi-task data, task features and similarities.

Every float they draw is bounded: no NaN, no infinity, no subnormal numbers and a
moderate range, so a property that fails does so because of the component, not
because of float overflow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "DEFAULT_BOUNDS",
    "finite_floats",
    "multitask_data",
    "similarity_matrices",
    "task_features_arrays",
    "task_labels",
]

#: Default range of every drawn feature value.
DEFAULT_BOUNDS = (-100.0, 100.0)

_IntSpec = int | tuple[int, int] | st.SearchStrategy


def finite_floats(
    min_value: float = DEFAULT_BOUNDS[0], max_value: float = DEFAULT_BOUNDS[1]
) -> st.SearchStrategy[float]:
    """Bounded float64 values: no NaN, no infinity, no subnormal numbers.

    Parameters
    ----------
    min_value : float, default=-100.0
        Smallest value.
    max_value : float, default=100.0
        Largest value.

    Returns
    -------
    strategy : SearchStrategy of float
        Draws floats in ``[min_value, max_value]``.

    Examples
    --------
    >>> from hypothesis import given
    >>> from sk_metameta.testing import finite_floats
    >>> @given(finite_floats(0.0, 1.0))
    ... def test_in_unit_interval(x):
    ...     assert 0.0 <= x <= 1.0
    >>> test_in_unit_interval()
    """
    return st.floats(
        min_value=min_value,
        max_value=max_value,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
        width=64,
    )


def _int_strategy(spec: _IntSpec, name: str, least: int = 0) -> st.SearchStrategy:
    """An int, an inclusive ``(min, max)`` pair or a strategy, as a strategy."""
    if isinstance(spec, st.SearchStrategy):
        return spec
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if spec < least:
            raise ValueError(f"{name} must be at least {least}, got {spec}.")
        return st.just(int(spec))
    if isinstance(spec, tuple) and len(spec) == 2:
        low, high = (int(v) for v in spec)
        if not least <= low <= high:
            raise ValueError(
                f"{name}=({low}, {high}) must satisfy {least} <= min <= max."
            )
        return st.integers(low, high)
    raise TypeError(
        f"{name} must be an int, an inclusive (min, max) pair or a Hypothesis "
        f"strategy; got {spec!r}."
    )


def task_features_arrays(
    n_tasks: _IntSpec = (1, 6),
    n_features: _IntSpec = (1, 4),
    *,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of task features, one row per task, with bounded finite values.

    Parameters
    ----------
    n_tasks : int, (int, int) or SearchStrategy, default=(1, 6)
        Number of rows (tasks): a fixed number, an inclusive range or a strategy.
    n_features : int, (int, int) or SearchStrategy, default=(1, 4)
        Number of columns (task features).
    bounds : (float, float), default=(-100.0, 100.0)
        Range of the values.

    Returns
    -------
    strategy : SearchStrategy of ndarray of shape (n_tasks, n_features)
        Draws float64 arrays, one row of task features per task.

    Examples
    --------
    >>> from hypothesis import given
    >>> from sk_metameta.testing import task_features_arrays
    >>> @given(task_features_arrays(n_tasks=3, n_features=(1, 2)))
    ... def test_shape(F):
    ...     assert F.shape[0] == 3 and 1 <= F.shape[1] <= 2
    >>> test_shape()
    """
    n_tasks_ = _int_strategy(n_tasks, "n_tasks", least=1)
    n_features_ = _int_strategy(n_features, "n_features", least=1)
    elements = finite_floats(*bounds)

    @st.composite
    def arrays(draw) -> np.ndarray:
        shape = (draw(n_tasks_), draw(n_features_))
        return draw(hnp.arrays(np.float64, shape, elements=elements))

    return arrays()


def task_labels(n_tasks: int) -> st.SearchStrategy[list]:
    """``n_tasks`` distinct task labels, all int or all str.

    Labels of one kind that sort, as :func:`~sk_metameta.check_tasks` requires:
    negative and positive integers, or arbitrary Unicode strings (the empty
    string included; the NUL character excluded, which numpy string arrays drop).

    Parameters
    ----------
    n_tasks : int
        Number of labels.

    Returns
    -------
    strategy : SearchStrategy of list
        Draws lists of ``n_tasks`` distinct labels.

    Examples
    --------
    >>> from hypothesis import given
    >>> from sk_metameta.testing import task_labels
    >>> @given(task_labels(4))
    ... def test_distinct(labels):
    ...     assert len(set(labels)) == 4
    >>> test_distinct()
    """
    ints = st.integers(-(10**9), 10**9)
    strings = st.text(
        st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6
    )
    return st.one_of(
        st.lists(ints, min_size=n_tasks, max_size=n_tasks, unique=True),
        st.lists(strings, min_size=n_tasks, max_size=n_tasks, unique=True),
    )


def multitask_data(
    n_tasks: _IntSpec = (1, 5),
    rows_per_task: _IntSpec = (1, 6),
    n_features: _IntSpec = (1, 3),
    *,
    with_y: bool = False,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
    y_elements: st.SearchStrategy | None = None,
    labels: Callable[[int], st.SearchStrategy[list]] = task_labels,
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
    """Multi-task datasets ``(X, y, tasks)`` with the rows of the tasks interleaved.

    Parameters
    ----------
    n_tasks : int, (int, int) or SearchStrategy, default=(1, 5)
        Number of distinct tasks.
    rows_per_task : int, (int, int) or SearchStrategy, default=(1, 6)
        Number of rows of each task, drawn once per task.
    n_features : int, (int, int) or SearchStrategy, default=(1, 3)
        Number of columns of ``X``.
    with_y : bool, default=False
        Draw a target ``y``; otherwise ``y`` is ``None``.
    bounds : (float, float), default=(-100.0, 100.0)
        Range of the values of ``X``.
    y_elements : SearchStrategy, default=None
        Values of ``y``; default bounded floats in ``bounds`` (a regression
        target). Pass ``st.integers(0, 1)`` for a binary target.
    labels : callable, default=task_labels
        ``labels(n)`` is a strategy of ``n`` distinct hashable task labels.

    Returns
    -------
    strategy : SearchStrategy of tuple
        ``(X, y, tasks)``: ``X`` of shape ``(n_samples, n_features)``, ``y`` of
        shape ``(n_samples,)`` or ``None``, ``tasks`` of shape ``(n_samples,)``
        holding the task label of each row, in shuffled order.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given
    >>> from sk_metameta.testing import multitask_data
    >>> @given(multitask_data(n_tasks=3, rows_per_task=(2, 4), with_y=True))
    ... def test_every_task_has_rows(data):
    ...     X, y, tasks = data
    ...     _, counts = np.unique(tasks, return_counts=True)
    ...     assert counts.size == 3 and counts.min() >= 2 and y.shape == tasks.shape
    >>> test_every_task_has_rows()
    """
    n_tasks_ = _int_strategy(n_tasks, "n_tasks", least=1)
    rows_ = _int_strategy(rows_per_task, "rows_per_task", least=1)
    n_features_ = _int_strategy(n_features, "n_features", least=1)
    elements = finite_floats(*bounds)
    y_elements = finite_floats(*bounds) if y_elements is None else y_elements

    @st.composite
    def datasets(draw):
        n = draw(n_tasks_)
        counts = [draw(rows_) for _ in range(n)]
        names = draw(labels(n))
        n_samples = int(sum(counts))
        X = draw(
            hnp.arrays(np.float64, (n_samples, draw(n_features_)), elements=elements)
        )
        y = None
        if with_y:
            y = np.asarray(
                draw(st.lists(y_elements, min_size=n_samples, max_size=n_samples))
            )
        # task numbers in blocks, then shuffled: the rows of the tasks interleave
        codes = np.repeat(np.arange(n), counts)
        codes = codes[np.asarray(draw(st.permutations(range(n_samples))), int)]
        tasks = np.asarray(names)[codes]
        return X, y, tasks

    return datasets()


def similarity_matrices(
    n_targets: _IntSpec = (1, 5),
    n_sources: _IntSpec = (1, 6),
    *,
    max_value: float = 1.0,
) -> st.SearchStrategy[np.ndarray]:
    """Non-negative similarity matrices with exact zeros (no neighbour).

    Parameters
    ----------
    n_targets : int, (int, int) or SearchStrategy, default=(1, 5)
        Number of rows (target tasks).
    n_sources : int, (int, int) or SearchStrategy, default=(1, 6)
        Number of columns (source tasks).
    max_value : float, default=1.0
        Largest similarity.

    Returns
    -------
    strategy : SearchStrategy of ndarray of shape (n_targets, n_sources)
        Draws similarities in ``[0, max_value]``, many of them exactly zero.

    Examples
    --------
    >>> from hypothesis import given
    >>> from sk_metameta.testing import similarity_matrices
    >>> @given(similarity_matrices(n_targets=2, n_sources=3))
    ... def test_non_negative(S):
    ...     assert S.shape == (2, 3) and (S >= 0).all()
    >>> test_non_negative()
    """
    n_targets_ = _int_strategy(n_targets, "n_targets", least=1)
    n_sources_ = _int_strategy(n_sources, "n_sources", least=1)
    elements = st.one_of(st.just(0.0), finite_floats(0.0, max_value))

    @st.composite
    def matrices(draw) -> np.ndarray:
        shape = (draw(n_targets_), draw(n_sources_))
        return draw(hnp.arrays(np.float64, shape, elements=elements))

    return matrices()
