"""Base classes of task metrics and the axioms a metric can declare."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from .._tasks import TaskIndex, check_tasks

__all__ = [
    "AXIOMS",
    "DIVERGENCE",
    "METRIC",
    "PSEUDOMETRIC",
    "SEMIMETRIC",
    "BaseTaskMetric",
    "CallableMetric",
    "FeatureMetric",
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
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    axioms: ClassVar[frozenset] = frozenset()
    space: ClassVar[str] = ""
    #: Least number of rows per task (sample metrics).
    min_rows: ClassVar[int] = 1
    #: Whether the metric uses ``y`` (sample metrics only).
    requires_y: ClassVar[bool] = False

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
        A = _check_features(A, "A", self.name)
        B = A if B is None else _check_features(B, "B", self.name)
        if A.shape[1] != B.shape[1]:
            raise ValueError(
                f"metric {self.name!r}: A has {A.shape[1]} task features but B has "
                f"{B.shape[1]}."
            )
        return self._pairwise(A, B)

    def _pairwise(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
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
        X = _check_features(X, "X", self.name)
        purpose = f"metric {self.name!r}"
        index = check_tasks(tasks, X.shape[0], min_rows=self.min_rows, purpose=purpose)
        if X_other is None:
            X_other, index_other, y_other = X, index, y
        else:
            X_other = _check_features(X_other, "X_other", self.name)
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
        return self._pairwise(X, index, X_other, index_other, y, y_other)

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
