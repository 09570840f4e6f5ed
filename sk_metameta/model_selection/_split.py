"""The few-shot protocol as a cross-validation splitter over tasks.

Every split of :class:`FewShotSplit` has *target* tasks (one fold of the tasks)
and *source* tasks (all the others). Training keeps all rows of the sources and
``k`` rows of each target; the test set is the targets' other rows. The same
draws (a random order of the tasks, a random order of the rows within each task)
serve :func:`~sk_metameta.model_selection.few_shot_evaluation`, which runs
several ``k`` on one draw so that the labelled rows are nested, and the
episodes that :class:`~sk_metameta.MetricMetaEstimator` draws from its source
tasks to choose how much to transfer.
"""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import ClassVar, NamedTuple

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state

from .._tasks import TaskIndex, check_tasks

__all__ = ["FewShotDraw", "FewShotSplit", "draw_few_shot", "few_shot_folds"]


class FewShotDraw(NamedTuple):
    """One random draw of the few-shot protocol.

    Attributes
    ----------
    order : ndarray of int of shape (n_tasks,)
        A random permutation: the place of each task in the order in which
        targets are dealt to folds.
    rank : ndarray of int of shape (n_samples,)
        A random order of the rows within each task (0, 1, ... per task); the
        rows of rank below ``k`` are a target's labelled rows.
    """

    order: np.ndarray
    rank: np.ndarray


def ranks_in_tasks(index: TaskIndex, rng) -> np.ndarray:
    """A random order of the rows within each task: rank 0, 1, ... per task."""
    n = index.codes.size
    order = np.lexsort((rng.random_sample(n), index.codes))
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n) - index.offsets[index.codes[order]]
    return rank


def draw_few_shot(index: TaskIndex, rng) -> FewShotDraw:
    """Draw the order of the tasks, then the order of the rows within each task."""
    return FewShotDraw(rng.permutation(index.n_tasks), ranks_in_tasks(index, rng))


def deal_folds(order: np.ndarray, eligible: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold of each eligible task (``-1`` for the others), dealt in turn by ``order``.

    The eligible tasks, taken in the order ``order``, go to folds 0, 1, ...,
    ``n_folds - 1``, 0, 1, ...: folds differ in size by one at most. When every
    task is eligible the fold of a task is ``order % n_folds``.
    """
    fold = np.full(order.shape[0], -1, dtype=np.intp)
    tasks = np.flatnonzero(eligible)
    dealt = tasks[np.argsort(order[tasks], kind="stable")]
    fold[dealt] = np.arange(dealt.size) % n_folds
    return fold


def few_shot_folds(
    index: TaskIndex, draw: FewShotDraw, k: int, n_folds: int, min_test_rows: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(train, test, targets)`` boolean masks of each fold that has targets.

    A task is a target if it has at least ``k + min_test_rows`` rows; the targets
    are dealt to ``n_folds`` folds (:func:`deal_folds`). ``train`` holds every row
    of the other tasks and the rows of rank below ``k`` of the fold's targets;
    ``test`` the targets' other rows; ``targets`` marks the fold's tasks.
    """
    eligible = index.counts >= k + min_test_rows
    fold = deal_folds(draw.order, eligible, n_folds)
    for f in range(n_folds):
        targets = fold == f
        if not targets.any():
            continue
        target_row = targets[index.codes]
        labelled = draw.rank < k
        yield ~target_row | labelled, target_row & ~labelled, targets


def _check_positive_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


class FewShotSplit(BaseCrossValidator):
    """Few-shot cross-validation: target tasks keep ``k`` labelled rows.

    The tasks (``groups``) with at least ``k + min_test_rows`` rows are shuffled
    and dealt into ``n_splits`` folds. In each split the tasks of one fold are
    the *targets*: ``k`` of each target's rows, drawn at random, are in the
    training set, and its other rows are the test set. Every other task is a
    *source* with all its rows in the training set, and so is every task with
    too few rows (it is never a target). A target's labelled rows are the same
    in every split that could use them, and each eligible task is a target in
    exactly one split.

    This is the protocol of
    :func:`~sk_metameta.model_selection.few_shot_evaluation` as a scikit-learn
    splitter: with ``cv=FewShotSplit(k=5)``, a
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate` scores transfer settings on
    tasks that have ``k`` labelled rows, which is what they are for (with
    :class:`~sklearn.model_selection.GroupKFold` every test task is unseen and
    only the zero-shot predictions are compared). Pass ``groups=tasks`` to the
    search (with metadata routing on, the splitter requests ``groups``) and
    ``tasks=tasks`` for the estimator and a scorer from
    :func:`~sk_metameta.get_task_scorer`.

    Parameters
    ----------
    k : int, default=5
        Number of labelled rows of each target task in the training set.
    n_splits : int, default=5
        Number of folds of target tasks (at least 2); the number of eligible
        tasks gives leave-one-task-out.
    min_test_rows : int, default=5
        Least number of test rows of a target: tasks with fewer than
        ``k + min_test_rows`` rows are always sources.
    random_state : int, RandomState instance or None, default=None
        Seed of the folds and of the labelled rows. Pass an int for the same
        splits on every call of :meth:`split`.

    See Also
    --------
    sk_metameta.model_selection.few_shot_evaluation : The protocol for several
        ``k`` and methods at once, with a table of the scores.
    sklearn.model_selection.GroupKFold : Splits tasks whole (zero-shot).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta.model_selection import FewShotSplit
    >>> tasks = np.repeat(["a", "b", "c", "d"], 8)
    >>> X = np.zeros((32, 1))
    >>> cv = FewShotSplit(k=3, n_splits=2, random_state=0)
    >>> cv.get_n_splits(X, groups=tasks)
    2
    >>> for train, test in cv.split(X, groups=tasks):
    ...     print(np.unique(tasks[test]).tolist(), len(train), len(test))
    ['a', 'd'] 22 10
    ['b', 'c'] 22 10

    In a search, with ``tasks`` routed to the estimator and the scorer:

    >>> import sklearn
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sk_metameta import MetricMetaEstimator, get_task_scorer
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=10, n_samples_per_task=20,
    ...                                  random_state=0)
    >>> search = GridSearchCV(
    ...     MetricMetaEstimator(Ridge()), {"n_neighbors": [2, 5]},
    ...     cv=FewShotSplit(k=5, n_splits=3, random_state=0),
    ...     scoring=get_task_scorer("r2"))
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = search.fit(X, y, tasks=tasks, groups=tasks)
    >>> sorted(search.best_params_)
    ['n_neighbors']
    """

    __metadata_request__split: ClassVar[dict] = {"groups": True}

    def __init__(self, k=5, *, n_splits=5, min_test_rows=5, random_state=None):
        self.k = k
        self.n_splits = n_splits
        self.min_test_rows = min_test_rows
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits: ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return _check_positive_int(self.n_splits, "n_splits", 2)

    def split(self, X, y=None, groups=None):
        """Generate the training and test rows of each split.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks (only their number is used).
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,)
            Task label of each row.

        Yields
        ------
        train : ndarray of int
            Rows of the training set: every row of the sources, ``k`` rows of
            each target.
        test : ndarray of int
            The targets' other rows.
        """
        k = _check_positive_int(self.k, "k", 1)
        n_splits = self.get_n_splits()
        min_test = _check_positive_int(self.min_test_rows, "min_test_rows", 1)
        if groups is None:
            raise ValueError(
                "FewShotSplit needs the task of each row: pass groups=tasks (with "
                "metadata routing, to the search's fit as well as tasks=tasks)."
            )
        n_samples = len(X) if hasattr(X, "__len__") else np.shape(X)[0]
        index = check_tasks(groups, n_samples, purpose="FewShotSplit")
        n_eligible = int(np.sum(index.counts >= k + min_test))
        if n_eligible < n_splits:
            raise ValueError(
                f"FewShotSplit(k={k}, n_splits={n_splits}) needs at least {n_splits} "
                f"tasks with k + min_test_rows = {k + min_test} rows or more; "
                f"{n_eligible} of the {index.n_tasks} tasks have them."
            )
        draw = draw_few_shot(index, check_random_state(self.random_state))
        for train, test, _ in few_shot_folds(index, draw, k, n_splits, min_test):
            yield np.flatnonzero(train), np.flatnonzero(test)
