"""What every task estimator shares.

The parameters that place tasks (``task_features``, ``metric``, ``n_neighbors``,
``kernel``, ``bandwidth``) and choose the transfer rule, the metadata requests for
``tasks``, the task graph fitted on them (:class:`~sk_metameta._task_space.TaskSpace`),
the policy when ``tasks`` is missing at predict time, zero-shot location of new
tasks, an all-or-nothing ``fit``, and ``explain``. Fitted attributes with the same
name mean the same thing, with the same type, in every estimator:

- ``tasks_``: sorted task labels (``[None]`` after a fit with ``tasks=None``);
- ``task_features_``: ``(n_tasks, n_task_features)`` or ``None``;
- ``neighbors_``, ``neighbor_distances_``: ``(n_tasks, n_neighbors)``, nearest
  first;
- ``task_distances_``, ``similarity_``, ``source_weights_``, ``transferability_``:
  :class:`scipy.sparse.csr_array` of shape ``(n_tasks, n_tasks)``, a row per target
  and a column per source, entries on the neighbour graph only;
- ``strength_``, ``own_weights_``: ``(n_tasks,)`` arrays, or ``None`` when the
  rule has none;
- ``bandwidth_``, ``metric_``, ``task_feature_extractor_``, ``transfer_rule_``.
"""

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions
from ._explain import TaskExplanation, explain_task
from ._task_space import TaskSpace, subset_index
from ._tasks import TaskIndex, _plain, check_tasks
from .exceptions import TasksMissingWarning
from .metrics.base import BaseTaskMetric
from .neighbors import KERNELS
from .task_features.base import BaseTaskFeatures
from .transfer.base import BaseTransferRule

__all__ = ["TASK_PARAMETER_CONSTRAINTS", "BaseTaskEstimator", "atomic_fit"]

#: Constraints of the parameters every task estimator has.
TASK_PARAMETER_CONSTRAINTS: dict = {
    "transfer": [str, BaseTransferRule, type],
    "task_features": [str, BaseTaskFeatures, type, callable],
    "metric": [str, BaseTaskMetric, type, callable],
    "n_neighbors": [
        Interval(Integral, 1, None, closed="left"),
        StrOptions({"auto"}),
        None,
    ],
    "kernel": [StrOptions(set(KERNELS)), callable],
    "bandwidth": [
        Interval(Real, 0, None, closed="neither"),
        StrOptions({"median", "mean"}),
    ],
}


def atomic_fit(fit):
    """Decorate ``fit`` so that a failed call leaves the estimator as it was."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        state = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return wrapper


def check_numeric_target(y, estimator_name: str) -> None:
    """A regressor's ``y`` must be numbers: refuse strings with a clear message."""
    y = np.asarray(y)
    if y.dtype.kind not in "biufc":
        first = np.ravel(y)[0]
        raise ValueError(
            f"y must be numeric for a regressor; got {y.dtype} values such as "
            f"{_plain(first)!r}. {estimator_name} is a regressor here; use a "
            "classifier for class labels."
        )


def single_task_index(n_samples: int) -> TaskIndex:
    """All rows as one task, labelled ``None`` (a fit with ``tasks=None``)."""
    return TaskIndex(np.array([None], dtype=object), np.zeros(n_samples, np.intp))


class BaseTaskEstimator(BaseEstimator):
    """Base of the task estimators (see the module docstring for the attributes).

    Subclasses call :meth:`_fit_task_space` in ``fit``, and
    :meth:`_predict_index` and :meth:`_locate` in their prediction methods; they
    implement :meth:`_explain_values`.
    """

    __metadata_request__fit: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict: ClassVar[dict] = {"tasks": True}
    __metadata_request__score: ClassVar[dict] = {"tasks": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # task features are computed from X: dense and finite
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags

    # -- fit ---------------------------------------------------------------------------
    @staticmethod
    def _fit_index(tasks, n_samples: int) -> TaskIndex:
        """The tasks of the rows in fit (one task labelled ``None`` for ``None``)."""
        if tasks is None:
            return single_task_index(n_samples)
        return check_tasks(tasks, n_samples)

    def _fit_task_space(
        self, X, y, index: TaskIndex, *, search=True, task_models=None
    ) -> TaskSpace:
        """Describe the tasks, find their sources, set the task-graph attributes.

        ``task_models`` (a function of no argument, called only for a fitted
        metric such as ``"learned"``) gives each task's model as a vector, the
        supervision of the metric; see :meth:`TaskSpace.fit`.
        """
        space = TaskSpace(
            self.task_features,
            self.metric,
            n_neighbors=self.n_neighbors,
            kernel=self.kernel,
            bandwidth=self.bandwidth,
        ).fit(
            X,
            y,
            index,
            search=search,
            task_models=task_models,
            input_features=getattr(self, "feature_names_in_", None),
        )
        self._index, self._space = index, space
        self.tasks_ = index.labels
        self.metric_ = space.metric_
        self.task_feature_extractor_ = space.extractor_
        self.task_features_ = space.features_
        self.neighbors_ = space.neighbors_.indices
        self.neighbor_distances_ = space.neighbors_.distances
        self.n_neighbors_ = space.n_neighbors_
        self.bandwidth_ = space._bandwidth
        self.similarity_ = space.similarity()
        self.task_distances_ = space.distances()
        return space

    @property
    def _single_task(self) -> bool:
        """Fitted with ``tasks=None``: every row belongs to the one task."""
        return self.tasks_.shape[0] == 1 and self.tasks_[0] is None

    # -- predict -----------------------------------------------------------------------
    def _predict_index(self, X, tasks, *, fallback: str):
        """The tasks of the rows to predict, with their numbers among the fitted.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like or None
            Their task labels.
        fallback : str
            What the estimator does with ``tasks=None`` after a multi-task fit
            (said in the warning).

        Returns
        -------
        index : TaskIndex or None
            ``None`` when ``tasks`` is missing after a fit on several tasks.
        codes : ndarray of shape (index.n_tasks,) or None
            Number of each task in ``tasks_``, ``-1`` for tasks not seen in fit.
        """
        T = self.tasks_.shape[0]
        if self._single_task:
            index = (
                single_task_index(X.shape[0])
                if tasks is None
                else (check_tasks(tasks, X.shape[0]))
            )
            return index, np.zeros(index.n_tasks, dtype=np.intp)
        if tasks is None:
            warnings.warn(
                f"{type(self).__name__} was fitted on {T} tasks but predict got "
                f"tasks=None; {fallback}. Pass tasks=... (with metadata routing in "
                "GridSearchCV, Pipeline and cross_validate, and a scorer from "
                "get_task_scorer).",
                TasksMissingWarning,
                stacklevel=3,
            )
            return None, None
        index = check_tasks(tasks, X.shape[0])
        return index, self._index.encode(index.labels)

    def _locate(self, X, index: TaskIndex, unseen):
        """Similarity of the tasks ``unseen`` of ``index`` to the fitted tasks.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Rows of the tasks of ``index``.
        index : TaskIndex
            Tasks of the rows.
        unseen : ndarray of int
            Numbers (in ``index``) of the tasks not seen in fit.

        Returns
        -------
        similarity : scipy.sparse.csr_array of shape (n_unseen, n_tasks)
            Kernel similarity of each new task to its nearest fitted tasks.
        neighbors : TaskNeighbors
            Those fitted tasks and their distances.
        """
        sub, rows = subset_index(index, unseen)
        neighbors = self._space.locate(X[rows], sub)
        return self._space.similarity(neighbors), neighbors

    # -- explanation -------------------------------------------------------------------
    def _task_number(self, task) -> int:
        """Number of the fitted task ``task``, or a ValueError naming it."""
        if self._single_task:
            t = 0 if task is None else -1
        else:
            try:
                t = int(self._index.encode([task])[0])
            except ValueError:
                t = -1
        if t < 0:
            known = [_plain(v) for v in self.tasks_[:10]]
            more = " ..." if self.tasks_.shape[0] > 10 else ""
            raise ValueError(
                f"task {task!r} was not seen in fit; known tasks: {known}{more}."
            )
        return t

    def _explain_values(self, t: int) -> tuple:
        """``(strength, own_weight)`` of task ``t`` for :meth:`explain`."""
        strength = None if self.strength_ is None else self.strength_[t]
        own = None if self.own_weights_ is None else self.own_weights_[t]
        return strength, own

    def explain(self, task) -> TaskExplanation:
        """Which sources a fitted task's model drew on, with what weight.

        Parameters
        ----------
        task : hashable
            Label of a task seen in fit (``None`` after a fit with
            ``tasks=None``).

        Returns
        -------
        explanation : TaskExplanation
            The task, its number of rows, the rule, its strength and own weight,
            and the sources with a positive weight, heaviest first (each with
            its weight, similarity, distance and transferability);
            :meth:`~sk_metameta.TaskExplanation.to_frame` gives the sources as a
            table.

        Examples
        --------
        >>> import numpy as np
        >>> from sk_metameta import TransferRegressor
        >>> X = np.array([[0.0], [1.0], [0.1], [1.1], [5.0], [6.0]])
        >>> y = np.array([0.0, 1.0, 0.1, 1.1, 5.0, 6.0])
        >>> model = TransferRegressor(n_neighbors=1)
        >>> model = model.fit(X, y, tasks=["a", "a", "b", "b", "c", "c"])
        >>> info = model.explain("a")
        >>> [(source.task, source.weight) for source in info.sources]
        [('b', 1.0)]
        >>> info.transfer, info.transfers
        ('hierarchical', 'parameters')
        """
        check_is_fitted(self)
        t = self._task_number(task)
        strength, own = self._explain_values(t)
        return explain_task(self, t, strength=strength, own_weight=own)
