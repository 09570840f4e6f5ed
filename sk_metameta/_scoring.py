"""Task-aware scorers: scorers that pass ``tasks`` to the estimator's predictions.

scikit-learn's string scorers call ``estimator.predict(X)`` with no metadata, so a
task-aware estimator scored inside :class:`~sklearn.model_selection.GridSearchCV` or
:func:`~sklearn.model_selection.cross_validate` would not know which task each row
belongs to. A :class:`TaskScorer` declares through the public metadata-routing API
that it consumes ``tasks`` and forwards them to ``predict``, ``predict_proba`` or
``decision_function``; everything else (signs, positive labels, thresholds) is the
wrapped scikit-learn scorer's own logic.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sklearn import get_config
from sklearn.metrics import get_scorer, make_scorer
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import MetadataRequest, get_routing_for_object

__all__ = ["TaskScorer", "get_task_scorer", "make_task_scorer"]

_RESPONSE_METHODS = frozenset(
    {"predict", "predict_proba", "predict_log_proba", "decision_function"}
)


class _TasksBound:
    """An estimator whose response methods receive ``tasks=...``.

    Any other attribute (``classes_``, tags) is the estimator's own, so a
    scikit-learn scorer treats the proxy exactly like the estimator.
    """

    def __init__(self, estimator, tasks):
        self._estimator = estimator
        self._tasks = tasks

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_estimator", "_tasks"):
            raise AttributeError(name)
        attr = getattr(self._estimator, name)
        if name not in _RESPONSE_METHODS:
            return attr
        tasks = self._tasks

        @functools.wraps(attr)  # keeps __name__, which sklearn's scorers read
        def with_tasks(X, *args, **kwargs):
            return attr(X, *args, tasks=tasks, **kwargs)

        return with_tasks

    def __sklearn_tags__(self):
        return get_tags(self._estimator)


class TaskScorer:
    """A scorer that passes ``tasks`` to the estimator it scores.

    Called as ``scorer(estimator, X, y_true, tasks=None, sample_weight=None)``, it
    evaluates the wrapped scikit-learn ``scorer`` on ``estimator`` with ``tasks``
    given to every response method (``predict``, ``predict_proba``,
    ``decision_function``). It declares that its ``score`` consumes ``tasks``, so
    with ``sklearn.set_config(enable_metadata_routing=True)``,
    :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate` route each split's task labels
    to it. Build one with :func:`make_task_scorer` or :func:`get_task_scorer`.

    Parameters
    ----------
    scorer : callable
        A scikit-learn scorer ``scorer(estimator, X, y_true, **kwargs)``, for example
        from :func:`sklearn.metrics.get_scorer` or :func:`sklearn.metrics.make_scorer`.

    See Also
    --------
    make_task_scorer : Build a task-aware scorer from a metric function.
    get_task_scorer : Task-aware version of a named scikit-learn scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.metrics import get_scorer
    >>> from sk_metameta._scoring import TaskScorer
    >>> class TaskMean(LinearRegression):
    ...     def predict(self, X, tasks=None):
    ...         return super().predict(X) + np.asarray(tasks)
    >>> X, y = np.arange(4.0).reshape(-1, 1), np.arange(4.0)
    >>> scorer = TaskScorer(get_scorer("neg_mean_absolute_error"))
    >>> scorer(TaskMean().fit(X, y), X, y, tasks=[1, 1, 1, 1])
    -1.0
    """

    def __init__(self, scorer: Callable[..., float]):
        if not callable(scorer):
            raise TypeError(f"scorer must be callable, got {scorer!r}.")
        self.scorer = scorer
        self._score_requests: dict[str, Any] = {}

    def __call__(
        self, estimator, X, y_true, *, tasks=None, sample_weight=None, **kwargs
    ) -> float:
        """Score ``estimator`` on ``X, y_true`` with ``tasks`` given to it.

        Parameters
        ----------
        estimator : object
            Fitted estimator whose response methods accept ``tasks``.
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row; ``None`` calls the estimator without tasks.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the wrapped scorer.
        **kwargs : dict
            Other metadata for the wrapped scorer (metadata routing only).

        Returns
        -------
        score : float
            The wrapped scorer's score (greater is better).
        """
        target = estimator if tasks is None else _TasksBound(estimator, tasks)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self.scorer(target, X, y_true, **kwargs)

    def __repr__(self) -> str:
        inner = repr(self.scorer)
        if inner.startswith("make_scorer("):
            return "make_task_scorer(" + inner[len("make_scorer(") :]
        return f"TaskScorer({inner})"

    def _routing_repr(self) -> str:
        return repr(self)

    def set_score_request(self, **kwargs) -> TaskScorer:
        """Request metadata for ``score``; ``tasks`` is requested by default.

        Only available when metadata routing is enabled.

        Parameters
        ----------
        **kwargs : dict
            ``param=alias`` with ``alias`` one of True, False, None or a str, as for
            the ``set_score_request`` of scikit-learn's scorers.

        Returns
        -------
        self : TaskScorer
            The scorer, with the updated requests.
        """
        if not get_config().get("enable_metadata_routing", False):
            raise RuntimeError(
                "set_score_request is only available when metadata routing is "
                "enabled; use sklearn.set_config(enable_metadata_routing=True) or "
                "sklearn.config_context(enable_metadata_routing=True)."
            )
        # validate the aliases now, with scikit-learn's own rules
        probe = MetadataRequest(owner=self)
        for param, alias in kwargs.items():
            probe.score.add_request(param=param, alias=alias)
        self._score_requests.update(kwargs)
        return self

    def get_metadata_routing(self) -> MetadataRequest:
        """Metadata this scorer consumes: ``tasks``, and what the wrapped one does.

        Returns
        -------
        routing : MetadataRequest
            The requests of the ``score`` method.
        """
        request = MetadataRequest(owner=self)
        inner = get_routing_for_object(self.scorer)
        for param, alias in inner.score.requests.items():
            request.score.add_request(param=param, alias=alias)
        request.score.add_request(param="tasks", alias=True)
        for param, alias in self._score_requests.items():
            request.score.add_request(param=param, alias=alias)
        return request


def make_task_scorer(
    score_func: Callable[..., float],
    *,
    greater_is_better: bool = True,
    response_method: str | tuple[str, ...] = "predict",
    **kwargs,
) -> TaskScorer:
    """Make a scorer that passes ``tasks`` to the estimator's predictions.

    The task-aware counterpart of :func:`sklearn.metrics.make_scorer`: the scorer
    consumes the ``tasks`` metadata and forwards it to the response method.

    Parameters
    ----------
    score_func : callable
        Metric ``score_func(y_true, y_pred, **kwargs)``.
    greater_is_better : bool, default=True
        Whether ``score_func`` is a score (True) or a loss (False, the scorer then
        returns its negative).
    response_method : {"predict", "predict_proba", "decision_function"} or tuple, \
            default="predict"
        Estimator method whose output ``score_func`` compares with ``y_true``; a
        tuple gives the methods in order of preference.
    **kwargs : dict
        Extra keyword arguments for ``score_func``.

    Returns
    -------
    scorer : TaskScorer
        Call it as ``scorer(estimator, X, y, tasks=tasks)``.

    See Also
    --------
    get_task_scorer : Task-aware version of a named scikit-learn scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.metrics import mean_absolute_error
    >>> from sk_metameta import MetricMetaEstimator, make_task_scorer
    >>> X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 5.0, 6.0, 7.0])
    >>> tasks = np.array([0, 0, 0, 1, 1, 1])
    >>> model = MetricMetaEstimator(Ridge(alpha=1e-6), transfer="none")
    >>> model = model.fit(X, y, tasks=tasks)
    >>> mae = make_task_scorer(mean_absolute_error, greater_is_better=False)
    >>> round(abs(mae(model, X, y, tasks=tasks)), 6)
    0.0
    """
    return TaskScorer(
        make_scorer(
            score_func,
            greater_is_better=greater_is_better,
            response_method=response_method,
            **kwargs,
        )
    )


def get_task_scorer(scoring: str | Callable[..., float]) -> TaskScorer:
    """Task-aware version of a scikit-learn scorer, by name or object.

    Parameters
    ----------
    scoring : str or callable
        A name from :func:`sklearn.metrics.get_scorer_names` (``"r2"``,
        ``"neg_mean_squared_error"``, ``"accuracy"``, ``"neg_log_loss"``, ...) or a
        scorer ``scorer(estimator, X, y_true, **kwargs)``. A :class:`TaskScorer` is
        returned unchanged.

    Returns
    -------
    scorer : TaskScorer
        Consumes ``tasks`` and passes them to the estimator's response method.

    Raises
    ------
    ValueError
        If ``scoring`` is not a known scorer name.

    See Also
    --------
    make_task_scorer : Build a task-aware scorer from a metric function.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import GridSearchCV, GroupKFold
    >>> from sk_metameta import MetricMetaEstimator, get_task_scorer
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=8,
    ...                                  random_state=0)
    >>> search = GridSearchCV(
    ...     MetricMetaEstimator(Ridge()), {"transfer": ["none", "ensemble"]},
    ...     scoring=get_task_scorer("r2"), cv=GroupKFold(n_splits=3))
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     search = search.fit(X, y, tasks=tasks, groups=tasks)
    >>> search.best_params_["transfer"] in ("none", "ensemble")
    True
    """
    if isinstance(scoring, TaskScorer):
        return scoring
    if isinstance(scoring, str):
        return TaskScorer(get_scorer(scoring))
    if callable(scoring):
        return TaskScorer(scoring)
    raise TypeError(
        f"scoring must be a scorer name or a callable scorer, got {scoring!r}."
    )
