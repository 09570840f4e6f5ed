"""Few-shot evaluation over tasks: every task in turn a target with ``k`` labelled rows.

:func:`few_shot_evaluation` is the protocol of ``sk-metameta demo``, the benchmarks
and the examples: every task in turn is a *target* with ``k`` labelled rows, the
other tasks are *sources* with all their rows, and the target's remaining rows are
the test set. Scores come from the library's one table of scores
(:mod:`sk_metameta._scores`): over the test rows of all targets together, or task by
task (vectorized over tasks) and averaged.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_X_y

from .._progress import progress_bar
from .._scores import Score, get_score
from .._tasks import check_tasks
from ._result import FewShotResult
from ._split import draw_few_shot, few_shot_folds

__all__ = ["FewShotResult", "check_protocol", "few_shot_evaluation"]

logger = logging.getLogger(__name__)


def _fit_predict(method, X, y, tasks, train, test, score, classes):
    """Fit a clone of ``method`` on the rows ``train``, respond on ``test``.

    Returns the predictions (or class probabilities, columns in the order of
    ``classes``) of the test rows and the seconds spent in ``fit``.
    """
    model = clone(method)
    fit_kw = {"tasks": tasks[train]} if _takes_tasks(model, "fit") else {}
    start = time.perf_counter()
    model.fit(X[train], y[train], **fit_kw)
    seconds = time.perf_counter() - start
    respond = getattr(model, score.response, None)
    if respond is None:
        raise ValueError(
            f"{type(model).__name__} has no {score.response}, needed for the scoring."
        )
    kw = {"tasks": tasks[test]} if _takes_tasks(model, score.response) else {}
    out = np.asarray(respond(X[test], **kw))
    if classes is not None:
        model_classes = getattr(model, "classes_", classes)
        full = np.zeros((out.shape[0], classes.size))
        full[:, np.searchsorted(classes, model_classes)] = out
        out = full
    return out, seconds


def _check_scoring(scoring) -> Score:
    """The table's entry for ``scoring``, or an entry around a score function."""
    if callable(scoring):
        name = getattr(scoring, "__name__", "score")
        return Score(
            name,
            name,
            "predict",
            True,
            "any",
            overall=lambda y, pred, classes, w: scoring(y, pred),
        )
    try:
        return get_score(scoring)
    except ValueError as exc:
        raise ValueError(
            f"{exc} Or a function score(y_true, y_pred) where greater is better."
        ) from None


def _takes_tasks(method, name: str) -> bool:
    """Whether ``method.<name>`` has an explicit ``tasks`` parameter."""
    func = getattr(method, name, None)
    if func is None:
        return False
    try:
        return "tasks" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        return False


def check_protocol(
    index, ks, *, n_folds=5, n_repeats=1, average="rows", min_test_rows=5
) -> tuple[list, np.ndarray]:
    """Validate the parameters of :func:`few_shot_evaluation` for the tasks ``index``.

    Parameters
    ----------
    index : TaskIndex
        The tasks (see :func:`sk_metameta.check_tasks`).
    ks, n_folds, n_repeats, average, min_test_rows
        As in :func:`few_shot_evaluation`.

    Returns
    -------
    ks : list of int
        The numbers of labelled rows.
    eligible : ndarray of bool of shape (n_ks, n_tasks)
        Whether each task has enough rows to be a target at each ``k``.
    """
    ks = [int(k) for k in np.atleast_1d(ks)]
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive numbers of labelled rows, got {ks}.")
    if not 2 <= n_folds <= index.n_tasks:
        raise ValueError(
            f"n_folds must be between 2 and the number of tasks ({index.n_tasks}), "
            f"got {n_folds}."
        )
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be at least 1, got {n_repeats}.")
    if average not in ("rows", "tasks"):
        raise ValueError(f"average must be 'rows' or 'tasks', got {average!r}.")
    if min_test_rows < 1:
        raise ValueError(f"min_test_rows must be at least 1, got {min_test_rows}.")
    eligible = np.array([index.counts >= k + min_test_rows for k in ks])
    if not eligible.any(axis=1).all():
        k = ks[int(np.flatnonzero(~eligible.any(axis=1))[0])]
        raise ValueError(
            f"no task has the k + min_test_rows = {k + min_test_rows} rows needed for"
            f" k={k} (the largest task has {index.counts.max()})."
        )
    return ks, eligible


def _mean_of_tasks(task_scores: np.ndarray) -> np.ndarray:
    """Mean over the last axis of the finite scores (NaN where there is none)."""
    finite = np.isfinite(task_scores)
    count = finite.sum(axis=-1)
    total = np.where(finite, task_scores, 0.0).sum(axis=-1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _scores_of_tasks(score: Score, y, response, index, tested, eligible, classes):
    """Score of each target task on its tested rows (NaN for the other tasks).

    ``response`` holds the responses of the rows ``tested``. The table's scores are
    computed for all tasks at once; a user's function is called task by task.
    """
    y, codes = y[tested], index.codes[tested]
    if score.per_task is not None:
        out = score.task_scores(y, response, codes, index.n_tasks, classes=classes)
    else:
        out = np.full(index.n_tasks, np.nan)
        order = np.argsort(codes, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
        for rows in np.split(order, starts[1:]):
            out[codes[rows[0]]] = score.score(y[rows], response[rows], classes=classes)
    return np.where(eligible, out, np.nan)


class _Setup(NamedTuple):
    """What every fit of one evaluation shares."""

    estimators: list
    X: np.ndarray
    y: np.ndarray
    tasks: np.ndarray
    index: object
    score: Score
    classes: np.ndarray | None
    bar: object


def _predict_targets(setup: _Setup, draw, k, n_folds, min_test_rows, fit_times):
    """Every method's responses for the test rows of every target at ``k``.

    Fold by fold (:func:`~sk_metameta.model_selection._split.few_shot_folds`, the
    splits of :class:`~sk_metameta.model_selection.FewShotSplit`), the targets
    of the fold have their ``k`` first rows (by ``draw.rank``) labelled; each
    method is fitted once on the other tasks' rows and the labelled rows, and
    responds on the targets' other rows. Returns the responses
    ``(n_methods, n_samples, ...)`` (NaN outside the test rows) and the mask of
    the test rows.
    """
    y, n_m = setup.y, len(setup.estimators)
    shape = y.shape if setup.classes is None else (y.shape[0], setup.classes.size)
    # predicted labels of a classifier may be str; everything else is a number
    numeric = setup.classes is not None or y.dtype.kind in "fiub"
    preds = np.full((n_m, *shape), np.nan, dtype=float if numeric else object)
    tested = np.zeros(y.shape[0], dtype=bool)
    n_done = 0
    for train, test, _ in few_shot_folds(setup.index, draw, k, n_folds, min_test_rows):
        n_done += 1
        tested |= test
        for i, method in enumerate(setup.estimators):
            preds[i, test], seconds = _fit_predict(
                method,
                setup.X,
                y,
                setup.tasks,
                train,
                test,
                setup.score,
                setup.classes,
            )
            fit_times[i] += seconds
            setup.bar.update(1)
    setup.bar.update(n_m * (n_folds - n_done))  # folds without targets
    return preds, tested


def few_shot_evaluation(
    X,
    y,
    tasks,
    methods: Mapping[str, object],
    ks: Sequence[int] = (5, 10, 20),
    *,
    n_folds: int = 5,
    n_repeats: int = 1,
    scoring="explained_variance",
    average: str = "rows",
    min_test_rows: int = 5,
    random_state=None,
    progress: bool = True,
) -> FewShotResult:
    """Few-shot evaluation: every task in turn is a target with ``k`` labelled rows.

    For each ``k``, the tasks with at least ``k + min_test_rows`` rows are dealt
    at random into ``n_folds`` folds, and every task of a fold is a *target*:
    ``k`` of its rows, drawn at random, are labelled and join the training set,
    and its other rows are the test set; every other task is a *source* with all
    its rows (a task with fewer rows is never a target at that ``k``). These are
    the splits of :class:`~sk_metameta.model_selection.FewShotSplit`. Each method
    is cloned and fitted once per fold and ``k`` on that training set, and
    predicts the targets' test rows. One draw serves every ``k`` of a repeat: the
    tasks are dealt in the same order and the labelled rows are nested (those at
    ``k = 5`` are among those at ``k = 10``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Rows of all tasks.
    y : array-like of shape (n_samples,)
        Targets.
    tasks : array-like of shape (n_samples,)
        Task label of each row.
    methods : mapping of str to estimator
        Estimators to compare, by name. They are cloned for every fit, and get
        ``tasks=`` in ``fit`` and ``predict`` (``predict_proba``) when those
        methods take a ``tasks`` parameter; plain scikit-learn estimators are
        fitted on the pooled rows.
    ks : sequence of int, default=(5, 10, 20)
        Numbers of labelled rows per target.
    n_folds : int, default=5
        Number of folds of target tasks (``n_tasks`` gives leave-one-task-out;
        a fold without targets, when fewer tasks than folds are eligible at some
        ``k``, is skipped).
    n_repeats : int, default=1
        Number of repeats with new folds and new labelled rows.
    scoring : str or callable, default="explained_variance"
        ``"explained_variance"``, ``"r2"``, ``"mse"``, ``"rmse"``, ``"mae"``,
        ``"accuracy"``, ``"log_loss"`` (from ``predict_proba``), ``"roc_auc"``
        (binary), scikit-learn's name of one of them
        (``"neg_mean_squared_error"`` is ``"mse"``: the score is reported as the
        error itself, lower is better), or a function ``score(y_true, y_pred)``
        where greater is better.
    average : {"rows", "tasks"}, default="rows"
        ``"rows"`` scores the test rows of all targets together (so the score
        counts how well the differences between tasks are predicted, too);
        ``"tasks"`` averages the scores of the target tasks.
    min_test_rows : int, default=5
        Least number of test rows of a target.
    random_state : int, RandomState instance or None, default=None
        Seed of the folds and of the labelled rows.
    progress : bool, default=True
        Show a progress bar on stderr while stderr is a terminal (never in a
        file, a pipe or a log); ``False`` silences it.

    Returns
    -------
    result : FewShotResult
        Scores and fit times, with :meth:`FewShotResult.table`.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sk_metameta.model_selection import (
    ...     PerTaskModel, PooledModel, few_shot_evaluation)
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=12, n_samples_per_task=30,
    ...                                  n_clusters=1, random_state=0)
    >>> methods = {"target-only": PerTaskModel(Ridge()), "pooled": Ridge()}
    >>> result = few_shot_evaluation(X, y, tasks, methods, ks=[5, 10],
    ...                              n_folds=3, random_state=0)
    >>> result.scores.shape
    (2, 2, 1)
    >>> result.best()
    ['pooled', 'pooled']
    """
    X, y = check_X_y(X, y, dtype=float)
    index = check_tasks(tasks, X.shape[0], min_tasks=2, purpose="few-shot evaluation")
    tasks = np.asarray(tasks)
    if not isinstance(methods, Mapping) or not methods:
        raise ValueError("methods must be a non-empty mapping of name to estimator.")
    score = _check_scoring(scoring)
    ks, eligible = check_protocol(
        index,
        ks,
        n_folds=n_folds,
        n_repeats=n_repeats,
        average=average,
        min_test_rows=min_test_rows,
    )
    classes = np.unique(y) if score.response == "predict_proba" else None
    names = list(methods)
    n_m, n_k = len(names), len(ks)
    scores = np.empty((n_m, n_k, n_repeats))
    fit_times = np.zeros((n_m, n_k, n_repeats))
    task_scores = np.full((n_m, n_k, n_repeats, index.n_tasks), np.nan)
    rng = check_random_state(random_state)
    start = time.perf_counter()
    bar = progress_bar(
        n_repeats * n_folds * n_k * n_m, "few-shot fits", enabled=progress, unit="fit"
    )
    setup = _Setup(list(methods.values()), X, y, tasks, index, score, classes, bar)
    try:
        for r in range(n_repeats):
            draw = draw_few_shot(index, rng)
            for j, k in enumerate(ks):
                preds, tested = _predict_targets(
                    setup, draw, k, n_folds, min_test_rows, fit_times[:, j, r]
                )
                for i in range(n_m):
                    response = preds[i, tested]
                    scores[i, j, r] = score.score(y[tested], response, classes=classes)
                    if average == "tasks":
                        task_scores[i, j, r] = _scores_of_tasks(
                            score, y, response, index, tested, eligible[j], classes
                        )
            logger.debug("few-shot evaluation: repeat %d of %d done", r + 1, n_repeats)
    finally:
        bar.close()
    logger.info(
        "few-shot evaluation: %d method(s), k=%s, %d fold(s), %d repeat(s) of %d "
        "tasks in %.1f s",
        n_m,
        ks,
        n_folds,
        n_repeats,
        index.n_tasks,
        time.perf_counter() - start,
    )
    if average == "tasks":
        scores = _mean_of_tasks(task_scores)
    return FewShotResult(
        methods=names,
        ks=ks,
        scoring=score.name,
        label=score.label,
        greater_is_better=score.greater_is_better,
        average=average,
        scores=scores,
        fit_times=fit_times,
        n_targets=eligible.sum(axis=1),
        n_tasks=index.n_tasks,
        n_folds=n_folds,
        task_labels=index.labels,
        task_scores=task_scores if average == "tasks" else None,
    )
