"""Base classes of task metrics and the axioms a metric can declare."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from .._components import component_errors
from .._tasks import TaskIndex, check_tasks
from ..plugins import describe_component

__all__ = [
    "AXIOMS",
    "DIVERGENCE",
    "METRIC",
    "PSEUDOMETRIC",
    "SEMIMETRIC",
    "BaseTaskMetric",
    "CallableMetric",
    "FeatureMetric",
    "FittedFeatureMetric",
    "SampleMetric",
    "axiom_class",
]

#: Every axiom a task metric can declare.
#:
#: - ``non_negativity``: ``d(a, b) >= 0``;
#: - ``zero_self_distance``: ``d(a, a) == 0``;
#: - ``identity_of_indiscernibles``: ``d(a, b) == 0`` only if ``a`` and ``b`` are
#:   the same (the same feature vector; for sample metrics, the same empirical
#:   distribution);
#: - ``symmetry``: ``d(a, b) == d(b, a)``;
#: - ``triangle_inequality``: ``d(a, c) <= d(a, b) + d(b, c)``.
AXIOMS = (
    "non_negativity",
    "zero_self_distance",
    "identity_of_indiscernibles",
    "symmetry",
    "triangle_inequality",
)
METRIC = frozenset(AXIOMS)
PSEUDOMETRIC = METRIC - {"identity_of_indiscernibles"}
SEMIMETRIC = METRIC - {"triangle_inequality"}
DIVERGENCE = frozenset(
    {"non_negativity", "zero_self_distance", "identity_of_indiscernibles"}
)


def axiom_class(axioms) -> str:
    """Name the class of a set of axioms: metric, pseudometric, semimetric, ...

    Parameters
    ----------
    axioms : iterable of str
        Declared axioms, from :data:`AXIOMS`.

    Returns
    -------
    name : str

    Examples
    --------
    >>> axiom_class(METRIC), axiom_class(SEMIMETRIC)
    ('metric', 'semimetric')
    """
    axioms = frozenset(axioms)
    for name, required in (
        ("metric", METRIC),
        ("pseudometric", PSEUDOMETRIC),
        ("semimetric", SEMIMETRIC),
        ("divergence", DIVERGENCE),
    ):
        if axioms == required:
            return name
    return "dissimilarity"


class BaseTaskMetric(BaseEstimator):
    """Base of every task metric.

    Subclasses set the class attributes ``name``, ``summary``, ``axioms`` (a
    frozenset of :data:`AXIOMS`, exactly those that hold) and ``space``
    (``"features"`` or ``"samples"``), and implement ``pairwise``. Like scikit-learn
    estimators, ``__init__`` only stores its keyword arguments.

    A metric defined on part of the space only declares it in ``input_bounds``,
    ``(low, high)`` with ``None`` for no bound: ``(0.0, None)`` for a metric of
    non-negative vectors. ``pairwise`` refuses values outside, and the
    conformance kit (:func:`~sk_metameta.testing.check_metric`) draws inside.

    ``pairwise`` validates what the metric returns, in one place for every
    metric: one finite distance per pair of tasks and, if the metric declares
    ``non_negativity``, none negative (values above ``-1e-9`` times the scale
    of the distances and inputs are rounding, set to 0). An error names the
    metric and its plugin, and so does an exception raised inside a metric
    that is not a built-in.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    axioms: ClassVar[frozenset] = frozenset()
    space: ClassVar[str] = ""
    #: Least number of rows per task (sample metrics).
    min_rows: ClassVar[int] = 1
    #: Whether the metric uses ``y`` (sample metrics only).
    requires_y: ClassVar[bool] = False
    #: Values the metric is defined for, ``(low, high)``; ``None``: no bound.
    input_bounds: ClassVar[tuple[float | None, float | None]] = (None, None)

    @property
    def axiom_class(self) -> str:
        """``"metric"``, ``"pseudometric"``, ``"semimetric"``, ``"divergence"``..."""
        return axiom_class(self.axioms)


class FeatureMetric(BaseTaskMetric):
    """A metric between task-feature vectors.

    Implement ``_pairwise(A, B)`` returning the ``(len(A), len(B))`` distances;
    :meth:`pairwise` validates the input first.
    """

    space: ClassVar[str] = "features"

    def pairwise(self, A, B=None) -> np.ndarray:
        """Distances between the rows of ``A`` and the rows of ``B``.

        Parameters
        ----------
        A : array-like of shape (n_tasks_a, n_task_features)
            Task features of the first tasks.
        B : array-like of shape (n_tasks_b, n_task_features), default=None
            Task features of the second tasks; ``None`` means ``A``.

        Returns
        -------
        distances : ndarray of shape (n_tasks_a, n_tasks_b)
        """
        A = _check_input(A, "A", self)
        B = A if B is None else _check_input(B, "B", self)
        if A.shape[1] != B.shape[1]:
            raise ValueError(
                f"metric {self.name!r}: A has {A.shape[1]} task features but B has "
                f"{B.shape[1]}."
            )
        fitted = getattr(self, "n_features_in_", None)
        if fitted is not None and A.shape[1] != fitted:
            raise ValueError(
                f"metric {self.name!r} was fitted on {fitted} task features; A and "
                f"B have {A.shape[1]}."
            )
        with component_errors(self):
            D = self._pairwise(A, B)
        return _checked_distances(
            self,
            D,
            (A, B),
            (A.shape[0], B.shape[0]),
            lambda i: f"row {i} of A",
            lambda j: f"row {j} of B" if B is not A else f"row {j} of A",
        )

    def _pairwise(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class FittedFeatureMetric(FeatureMetric):
    """A metric between task-feature vectors that is fitted on the fitted tasks.

    Every task estimator fits such a metric before it searches each task's
    nearest sources: :meth:`fit` gets the task features of the fitted tasks and
    one vector per task, its *task model*, such that the Euclidean distance
    between two tasks' model vectors says how differently their fitted models
    predict (for a linear model: the root mean squared difference of the two
    models' predictions over the training rows; see :ref:`learned-metric`). A
    fitted metric learns from them which task features tell tasks with similar
    models apart, so that tasks close in it are tasks whose models transfer.
    The supervision comes from the rows the estimator is fitted on only,
    never from rows held out for evaluation.

    Subclasses implement ``_fit(F, Y)`` (``F`` the task features, ``Y`` the task
    models, both validated 2-D finite arrays with one row per task) and
    ``_pairwise(A, B)``, which must also work before ``fit`` (a documented
    default, for example every task feature weighted alike). :meth:`fit` sets
    ``n_features_in_`` (and :meth:`pairwise` then refuses another number of
    task features) and ``feature_names_in_``. A fitted metric is registered like
    any other (:class:`~sk_metameta.hookspecs.MetricRecord`); the conformance kit
    checks its axioms both before and after a fit.
    """

    def fit(self, task_features, task_models, *, feature_names=None):
        """Learn the metric from the tasks' features and their models.

        Parameters
        ----------
        task_features : array-like of shape (n_tasks, n_task_features)
            Task features of the fitted tasks.
        task_models : array-like of shape (n_tasks, n_model_dims)
            Each task's fitted model as a vector: the Euclidean distance between
            two rows says how far apart the two tasks' models are.
        feature_names : array-like of str of shape (n_task_features,), \
                default=None
            Names of the task features (default ``f0, f1, ...``).

        Returns
        -------
        self : object
            The fitted metric.
        """
        F = _check_features(task_features, "task_features", self.name)
        Y = _check_features(task_models, "task_models", self.name)
        if Y.shape[0] != F.shape[0]:
            raise ValueError(
                f"metric {self.name!r}: task_models has {Y.shape[0]} rows but "
                f"task_features has {F.shape[0]} (one row per task in both)."
            )
        if feature_names is None:
            feature_names = [f"f{i}" for i in range(F.shape[1])]
        names = np.asarray(feature_names, dtype=object)
        if names.shape != (F.shape[1],):
            raise ValueError(
                f"metric {self.name!r}: {names.size} feature names for "
                f"{F.shape[1]} task features."
            )
        self.__dict__.pop("n_features_in_", None)
        with component_errors(self):
            self._fit(F, Y)
        self.n_features_in_ = F.shape[1]
        self.feature_names_in_ = names
        return self

    def _fit(self, F: np.ndarray, Y: np.ndarray) -> None:
        raise NotImplementedError


class SampleMetric(BaseTaskMetric):
    """A metric between the tasks' samples (their empirical distributions).

    Implement ``_pairwise(X, index, X_other, index_other, y, y_other)``;
    :meth:`pairwise` validates the input first.
    """

    space: ClassVar[str] = "samples"

    def pairwise(
        self, X, tasks, X_other=None, tasks_other=None, *, y=None, y_other=None
    ) -> np.ndarray:
        """Distances between every task of ``X`` and every task of ``X_other``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of the first tasks.
        tasks : array-like of shape (n_samples,) or TaskIndex
            Task label of each row of ``X``.
        X_other : array-like of shape (n_samples_other, n_features), default=None
            Rows of the second tasks; ``None`` means ``X``.
        tasks_other : array-like of shape (n_samples_other,), default=None
            Task labels of ``X_other``.
        y : array-like of shape (n_samples,), default=None
            Targets of ``X``, for metrics that declare ``requires_y``.
        y_other : array-like of shape (n_samples_other,), default=None
            Targets of ``X_other``.

        Returns
        -------
        distances : ndarray of shape (n_tasks, n_tasks_other)
            Tasks in the order of their sorted labels.
        """
        X = _check_input(X, "X", self)
        purpose = f"metric {self.name!r}"
        index = check_tasks(tasks, X.shape[0], min_rows=self.min_rows, purpose=purpose)
        if X_other is None:
            X_other, index_other, y_other = X, index, y
        else:
            X_other = _check_input(X_other, "X_other", self)
            index_other = check_tasks(
                tasks_other, X_other.shape[0], min_rows=self.min_rows, purpose=purpose
            )
            if X_other.shape[1] != X.shape[1]:
                raise ValueError(
                    f"metric {self.name!r}: X has {X.shape[1]} features but X_other "
                    f"has {X_other.shape[1]}."
                )
        if self.requires_y and (y is None or y_other is None):
            raise ValueError(f"metric {self.name!r} needs y for every task.")
        with component_errors(self):
            D = self._pairwise(X, index, X_other, index_other, y, y_other)
        return _checked_distances(
            self,
            D,
            (X, X_other),
            (index.n_tasks, index_other.n_tasks),
            lambda i: f"task {_label(index.labels[i])!r}",
            lambda j: f"task {_label(index_other.labels[j])!r}",
        )

    def _pairwise(
        self,
        X: np.ndarray,
        index: TaskIndex,
        X_other: np.ndarray,
        index_other: TaskIndex,
        y,
        y_other,
    ) -> np.ndarray:
        raise NotImplementedError


def _check_features(A, name: str, metric: str) -> np.ndarray:
    A = np.asarray(A, dtype=float)
    if A.ndim == 1:
        A = A.reshape(-1, 1)
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(
            f"metric {metric!r}: {name} must be a non-empty 2-D array, got shape "
            f"{A.shape}."
        )
    if not np.isfinite(A).all():
        raise ValueError(f"metric {metric!r}: {name} contains NaN or infinity.")
    return A


def _check_input(A, name: str, metric: BaseTaskMetric) -> np.ndarray:
    """:func:`_check_features`, then the metric's ``input_bounds``."""
    A = _check_features(A, name, metric.name)
    low, high = metric.input_bounds
    if (low is not None and A.min() < low) or (high is not None and A.max() > high):
        value = A.min() if low is not None and A.min() < low else A.max()
        raise ValueError(
            f"metric {metric.name!r} is defined for values in "
            f"{_interval(low, high)} (its input_bounds); {name} has {float(value)!r}."
        )
    return A


def _label(label):
    """A task label as the user wrote it (a Python int or str, not a NumPy one)."""
    return label.item() if isinstance(label, np.generic) else label


def _interval(low, high) -> str:
    left = "(-inf" if low is None else f"[{low!r}"
    right = "inf)" if high is None else f"{high!r}]"
    return f"{left}, {right}"


def _refuse(metric: BaseTaskMetric, what: str) -> ValueError:
    return ValueError(f"{describe_component(metric)} {what}")


def _checked_distances(metric, D, inputs, shape, row_name, col_name) -> np.ndarray:
    """The distances ``D`` a metric returned, validated; errors name the metric.

    ``D`` must be a finite float array of ``shape`` (one row per task or vector of
    the first inputs, one column per task of the second). When the metric
    declares ``non_negativity``, no distance may be below ``-1e-9`` times the
    scale of the distances and of the inputs; smaller negative values are
    rounding errors, set to 0.
    """
    try:
        D = np.asarray(D, dtype=float)
    except (TypeError, ValueError):
        what = f"{type(D).__name__} {D!r:.80}"
        raise _refuse(metric, f"returned {what}, not an array of distances.") from None
    if D.shape != shape:
        raise _refuse(
            metric,
            f"returned shape {D.shape}, expected {shape} (one distance per pair).",
        )
    finite = np.isfinite(D)
    if not finite.all():
        i, j = np.argwhere(~finite)[0]
        raise _refuse(
            metric,
            f"returned non-finite distances ({float(D[i, j])!r} between "
            f"{row_name(i)} and {col_name(j)}).",
        )
    if "non_negativity" in metric.axioms and D.size and D.min() < 0.0:
        i, j = np.unravel_index(int(np.argmin(D)), D.shape)
        scale = max(np.abs(D).max(), *(np.abs(x).max() for x in inputs))
        if D[i, j] < -1e-9 * scale:
            raise _refuse(
                metric,
                f"returned a negative distance, {float(D[i, j])!r} between "
                f"{row_name(i)} and {col_name(j)}; task distances must be >= 0 "
                "(non_negativity).",
            )
        D = np.maximum(D, 0.0)
    return D


class CallableMetric(FeatureMetric):
    """A task metric from a plain function ``func(u, v) -> float`` of two vectors.

    The function is called once per pair, as with
    :func:`sklearn.metrics.pairwise_distances`; it declares no axioms.

    Parameters
    ----------
    func : callable
        ``func(u, v)`` for two 1-D task-feature vectors.

    Examples
    --------
    >>> import numpy as np
    >>> metric = CallableMetric(lambda u, v: float(np.abs(u - v).max()))
    >>> metric.pairwise([[0.0, 0.0], [1.0, 3.0]]).tolist()
    [[0.0, 3.0], [3.0, 0.0]]
    """

    name: ClassVar[str] = "callable"
    summary: ClassVar[str] = "A user function of two task-feature vectors."

    def __init__(self, func=None):
        self.func = func

    def _pairwise(self, A, B):
        from sklearn.metrics import pairwise_distances

        if not callable(self.func):
            raise ValueError(f"CallableMetric needs a callable, got {self.func!r}.")
        return pairwise_distances(A, B, metric=self.func)
