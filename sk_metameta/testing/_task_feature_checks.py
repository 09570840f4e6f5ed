"""Conformance check of task feature extractors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import hypothesis
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from .._components import resolve_task_features
from ..task_features.base import BaseTaskFeatures
from ._common import (
    assert_close,
    call,
    check_clone,
    describe,
    fail,
    fmt,
    fresh,
    hypothesis_settings,
    resolve,
)
from ._strategies import DEFAULT_BOUNDS, multitask_data

__all__ = ["check_task_features"]


def check_task_features(
    extractor: Any,
    *,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
    y_elements: st.SearchStrategy | None = None,
    min_rows: int | None = None,
) -> None:
    """Check that a task feature extractor returns one finite row per task.

    On random multi-task data (arbitrary task labels, rows of the tasks
    interleaved, at least ``extractor.min_rows`` rows per task), the check
    verifies that

    - ``fit_transform`` returns a finite float array of shape
      ``(n_tasks, n_task_features)``, rows in the order of the sorted labels, and
      ``get_feature_names_out()`` gives ``n_task_features`` distinct str names;
    - ``fit(...).transform(...)`` equals ``fit_transform(...)``;
    - the features do not depend on the order of the rows within a task, nor on
      the order of the tasks (the labels are permuted and renamed);
    - ``transform`` of some of the tasks equals their rows of the transform of
      all tasks (a task is described by its own rows, so an unseen task can be
      described alone);
    - an X-only extractor (``requires_y = False``) works with ``y=None`` and
      gives the same features when ``y`` is passed; one with
      ``requires_y = True`` raises a ``ValueError`` that names ``y`` when it
      is missing.

    Floats are compared with the tolerance ``atol + rtol * |expected|``.

    Parameters
    ----------
    extractor : str, BaseTaskFeatures, type or callable
        The extractor: a registered name, an instance, a class or a function of
        one task's rows.
    max_examples : int, default=None
        Number of Hypothesis examples; ``None`` uses the active settings profile.
    settings : hypothesis.settings, default=None
        Settings to start from instead of the active profile (for example
        ``settings(phases=[Phase.generate])`` to skip shrinking).
    atol : float, default=1e-6
        Absolute tolerance of the comparisons.
    rtol : float, default=1e-5
        Relative tolerance of the comparisons (model-based features come from
        solvers whose results depend slightly on the order of the rows).
    bounds : (float, float), default=(-100.0, 100.0)
        Range of the values of ``X``.
    y_elements : SearchStrategy, default=None
        Values of ``y``; default bounded floats (a regression target). Pass
        ``hypothesis.strategies.integers(0, 1)`` for a classification target.
    min_rows : int, default=None
        Least number of rows per task; default ``extractor.min_rows``.

    Raises
    ------
    AssertionError
        Naming the extractor, the property it breaks and the counter-example.

    See Also
    --------
    check_metric : The check of task metrics.
    check_plugin : Every check, over the components of a plugin.

    Examples
    --------
    >>> from sk_metameta.task_features import MomentFeatures
    >>> from sk_metameta.testing import check_task_features
    >>> check_task_features(MomentFeatures(), max_examples=5)
    """
    extractor = resolve(
        extractor, resolve_task_features, BaseTaskFeatures, "task features"
    )
    who = describe(extractor, "task features")
    _check_attributes(extractor, who)
    check_clone(extractor, who)
    rows = extractor.min_rows if min_rows is None else int(min_rows)
    data = multitask_data(
        n_tasks=(1, 5),
        rows_per_task=(max(rows, 1), max(rows, 1) + 5),
        n_features=(1, 3),
        with_y=True,
        bounds=bounds,
        y_elements=y_elements,
    )

    @given(data, st.data())
    def conforms(dataset, draw):
        _check_example(extractor, dataset, draw, float(atol), float(rtol), who)

    hypothesis_settings(max_examples, settings)(conforms)()


def _check_attributes(extractor: Any, who: str) -> None:
    if not isinstance(extractor, BaseTaskFeatures):
        fail(who, "type", "a task feature extractor must derive from BaseTaskFeatures")
    for attribute in ("name", "summary"):
        value = getattr(extractor, attribute, None)
        if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
            fail(who, attribute, f"must be a non-empty one-line str, got {value!r}")
    if not isinstance(extractor.requires_y, (bool, np.bool_)):
        fail(who, "requires_y", f"must be a bool, got {extractor.requires_y!r}")
    if not isinstance(extractor.min_rows, (int, np.integer)) or extractor.min_rows < 1:
        fail(who, "min_rows", f"must be an int >= 1, got {extractor.min_rows!r}")


def _check_features(F: Any, n_tasks: int, who: str, call_text: str) -> None:
    if not isinstance(F, np.ndarray):
        fail(who, "output", f"{call_text} returned a {type(F).__name__}, not ndarray")
    if F.ndim != 2 or F.shape[0] != n_tasks:
        fail(
            who,
            "output",
            f"{call_text} returned shape {F.shape}; expected one row per task, "
            f"({n_tasks}, n_task_features)",
        )
    if F.dtype.kind != "f":
        fail(who, "output", f"{call_text} returned dtype {F.dtype}, expected float")
    if not np.isfinite(F).all():
        bad = sorted({int(i) for i in np.argwhere(~np.isfinite(F))[:, 0]})
        fail(
            who,
            "output",
            f"{call_text} returned non-finite task features for the tasks at rows "
            f"{bad}: {fmt(F)}",
        )


def _shuffled(draw, n: int) -> np.ndarray:
    """A permutation of ``range(n)`` that moves something whenever ``n > 1``."""
    order = np.asarray(draw.draw(st.permutations(range(n))), dtype=int)
    return order[::-1].copy() if (order == np.arange(n)).all() else order


@dataclass
class _Example:
    """One drawn dataset, its task features, and how messages describe it."""

    X: np.ndarray
    y: np.ndarray
    y_fit: np.ndarray | None  # y when the extractor requires it
    tasks: np.ndarray
    labels: np.ndarray
    where: str
    tol: dict
    F: np.ndarray | None = None  # fit_transform's task features
    fitted: Any = None  # an extractor fitted on the whole dataset


def _check_example(extractor, dataset, draw, atol, rtol, who) -> None:
    X, y, tasks = dataset
    y_fit = y if extractor.requires_y else None
    ex = _Example(
        X,
        y,
        y_fit,
        tasks,
        np.unique(tasks),
        f" on X = {fmt(X)}, y = {fmt(y_fit)}, tasks = {tasks.tolist()!r}",
        {"atol": atol, "rtol": rtol, "who": who},
    )
    _check_fit_transform(extractor, ex, who)
    _check_row_order(extractor, ex, draw)
    _check_task_order(extractor, ex, draw, who)
    _check_tasks_alone(extractor, ex, draw, who)
    if extractor.requires_y:
        _check_refuses_missing_y(extractor, ex, who)
    else:
        _check_ignores_y(extractor, ex, who)


def _check_fit_transform(extractor, ex: _Example, who: str) -> None:
    """fit_transform, its feature names, and fit(...).transform(...) agree."""
    n_tasks = ex.labels.shape[0]
    ext = fresh(extractor)
    F = call(who, "fit_transform", ext.fit_transform, ex.X, ex.y_fit, tasks=ex.tasks)
    _check_features(F, n_tasks, who, "fit_transform" + ex.where)
    names = call(who, "get_feature_names_out", ext.get_feature_names_out)
    names = list(np.asarray(names, dtype=object).ravel())
    if len(names) != F.shape[1]:
        fail(
            who,
            "get_feature_names_out",
            f"gives {len(names)} names {names!r} for {F.shape[1]} task features"
            + ex.where,
        )
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        fail(who, "get_feature_names_out", f"names must be distinct str: {names!r}")

    fitted = call(who, "fit", fresh(extractor).fit, ex.X, ex.y_fit, tasks=ex.tasks)
    F_fit = call(who, "transform", fitted.transform, ex.X, ex.y_fit, tasks=ex.tasks)
    _check_features(F_fit, n_tasks, who, "transform" + ex.where)
    assert_close(
        F_fit,
        F,
        what="fit(...).transform(...) differs from fit_transform(...)",
        context=ex.where,
        **ex.tol,
    )
    ex.F, ex.fitted = F, fitted


def _check_row_order(extractor, ex: _Example, draw) -> None:
    order = _shuffled(draw, ex.X.shape[0])
    F_rows = call(
        ex.tol["who"],
        "fit_transform",
        fresh(extractor).fit_transform,
        ex.X[order],
        None if ex.y_fit is None else ex.y_fit[order],
        tasks=ex.tasks[order],
    )
    assert_close(
        F_rows,
        ex.F,
        what="task features depend on the order of the rows",
        context=f"{ex.where}; rows reordered by {order.tolist()}",
        **ex.tol,
    )


def _check_task_order(extractor, ex: _Example, draw, who: str) -> None:
    """The order (and the kind) of the task labels changes nothing."""
    n_tasks = ex.labels.shape[0]
    new_rank = _shuffled(draw, n_tasks)
    if ex.labels.dtype.kind in "iu":
        new_names = np.asarray([f"task{k:03d}" for k in range(n_tasks)])
    else:
        new_names = np.arange(n_tasks) * 7 - 3
    renamed = new_names[new_rank[np.searchsorted(ex.labels, ex.tasks)]]
    fit_transform = fresh(extractor).fit_transform
    F_renamed = call(who, "fit_transform", fit_transform, ex.X, ex.y_fit, tasks=renamed)
    _check_features(F_renamed, n_tasks, who, "fit_transform" + ex.where)
    assert_close(
        F_renamed[new_rank],
        ex.F,
        what="task features depend on the order of the tasks",
        context=f"{ex.where}; tasks renamed to {renamed.tolist()!r}",
        **ex.tol,
    )


def _check_tasks_alone(extractor, ex: _Example, draw, who: str) -> None:
    """A task is described by its own rows: transform some tasks alone."""
    n_tasks = ex.labels.shape[0]
    subset = sorted(
        draw.draw(st.sets(st.integers(0, n_tasks - 1), min_size=1, max_size=n_tasks))
    )
    rows = np.isin(ex.tasks, ex.labels[subset])
    F_sub = call(
        who,
        "transform of some tasks",
        ex.fitted.transform,
        ex.X[rows],
        None if ex.y_fit is None else ex.y_fit[rows],
        tasks=ex.tasks[rows],
    )
    _check_features(F_sub, len(subset), who, "transform of some tasks" + ex.where)
    assert_close(
        F_sub,
        ex.F[subset],
        what="the task features of a task depend on the other tasks passed to "
        "transform",
        context=f"{ex.where}; transform of the tasks "
        f"{ex.labels[subset].tolist()!r} alone",
        **ex.tol,
    )


def _check_refuses_missing_y(extractor, ex: _Example, who: str) -> None:
    try:
        fresh(extractor).fit_transform(ex.X, None, tasks=ex.tasks)
    except ValueError as exc:
        if not re.search(r"\by\b", str(exc)):
            fail(
                who,
                "requires_y",
                f"the ValueError for a missing y does not name y: {exc}",
            )
    except Exception as exc:
        fail(
            who,
            "requires_y",
            f"a missing y must raise a ValueError naming y, not "
            f"{type(exc).__name__}: {exc}",
        )
    else:
        fail(who, "requires_y", "declares requires_y but accepted y=None")


def _check_ignores_y(extractor, ex: _Example, who: str) -> None:
    F_y = call(
        who,
        "fit_transform with y",
        fresh(extractor).fit_transform,
        ex.X,
        ex.y,
        tasks=ex.tasks,
    )
    assert_close(
        F_y,
        ex.F,
        what="an X-only extractor (requires_y=False) must not use y, but y "
        "changes its task features",
        context=f"{ex.where}; y = {fmt(ex.y)}",
        **ex.tol,
    )
