"""MetricMetaEstimator: one model of any kind per task, with transfer between tasks.

The estimator wraps any scikit-learn classifier or regressor. It fits one clone per
task (through joblib), measures how similar the tasks are (task features and a task
metric), scores every source task's model on every target task's labelled rows (the
*transferability*), and lets a transfer rule decide how much each source contributes
to each target: by adding the sources' rows, weighted, to the target's fit
(``"instances"``) or by mixing the sources' predictions with the target's own
(``"predictions"``).
"""

from __future__ import annotations

import warnings
from copy import deepcopy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, get_scorer, r2_score
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from ._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from ._components import resolve_metric, resolve_task_features, resolve_transfer_rule
from ._tasks import TaskIndex, _plain, check_tasks
from ._transfer_regressor import _AUTO_NEIGHBORS
from .exceptions import TasksMissingWarning
from .metrics.base import BaseTaskMetric
from .neighbors import (
    KERNELS,
    nearest_sources,
    neighbor_similarity,
    resolve_bandwidth,
)
from .task_features.base import BaseTaskFeatures
from .transfer.base import BaseTransferRule

__all__ = ["MetricMetaEstimator"]

_KINDS = ("nothing", "instances", "predictions")

#: Strengths (weight of a source row relative to a target row) that an instances
#: rule chooses from with ``strength="auto"``.
_INSTANCE_STRENGTHS = np.array(
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
)

#: At most this many target tasks take part in choosing ``strength="auto"`` for an
#: instances rule (one value for all tasks; its cost grows with the tasks used).
_STRENGTH_TASKS = 50

#: Scorers computed for all targets at once by segment reductions, by estimator type.
_VECTORIZED_SCORERS = {
    "regressor": {
        "r2",
        "neg_mean_squared_error",
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",
    },
    "classifier": {"accuracy", "neg_log_loss"},
}


def _check_numeric_target(y):
    """A regressor's y must be numbers: refuse strings with a clear message."""
    if np.asarray(y).dtype.kind not in "biufc":
        first = np.ravel(y)[0]
        raise ValueError(
            f"y must be numeric for a regressor; got {np.asarray(y).dtype} values "
            f"such as {_plain(first)!r}. Use a classifier for class labels."
        )


# -- work done per task, in joblib workers ---------------------------------------------
def _fit_one(estimator, X, y, sample_weight, task=None):
    """Fit one per-task clone; an error of the estimator names the task."""
    try:
        if sample_weight is None:
            return estimator.fit(X, y)
        return estimator.fit(X, y, sample_weight=sample_weight)
    except Exception as exc:
        if task is None:
            raise
        message = (
            f"fitting {type(estimator).__name__} on task {task!r} ({X.shape[0]} "
            f"{'row' if X.shape[0] == 1 else 'rows'}) failed: {exc}"
        )
        try:
            error = type(exc)(message)
        except Exception:  # an exception type that needs other arguments
            raise exc from None
        raise error from exc


def _outputs(model, X, classes, *, labels=True, response=True):
    """Predicted labels and the response of one per-task model.

    The response is the prediction for a regressor, of shape ``(n, n_outputs)``,
    and for a classifier the probabilities of the global ``classes`` (one-hot
    votes when the model has no ``predict_proba``), of shape ``(n, n_classes)``.
    """
    if classes is None:
        pred = np.asarray(model.predict(X), dtype=float)
        return pred, pred.reshape(pred.shape[0], -1)
    pred = model.predict(X) if labels or not hasattr(model, "predict_proba") else None
    resp = None
    if response:
        resp = np.zeros((X.shape[0], classes.shape[0]))
        if hasattr(model, "predict_proba"):
            resp[:, _class_columns(classes, model.classes_)] = model.predict_proba(X)
        else:
            resp[np.arange(X.shape[0]), _class_columns(classes, pred)] = 1.0
    return pred, resp


def _out_of_fold(estimator, X, y, sample_weight, X_test, classes):
    """Response on ``X_test`` of a clone fitted on one cross-fitting fold."""
    if classes is not None and np.unique(y).shape[0] < 2:
        resp = np.zeros((X_test.shape[0], classes.shape[0]))
        resp[:, _class_columns(classes, y[:1])] = 1.0
        return resp
    model = _fit_one(clone(estimator), X, y, sample_weight)
    return _outputs(model, X_test, classes, labels=False)[1]


def _strength_path(estimator, own, sources, X_test, classes, strengths):
    """Responses on ``X_test`` of fits on a target's rows plus weighted source rows.

    ``own`` and ``sources`` are ``(X, y, row_weights)`` triples (``row_weights``
    of ``own`` may be None); the source rows' weights are multiplied by each of
    ``strengths`` in turn. Returns an array of shape
    ``(len(strengths), n_test, n_responses)``.
    """
    X_own, y_own, w_own = own
    X_src, y_src, w_src = sources
    w_own = np.ones(X_own.shape[0]) if w_own is None else w_own
    X_all = np.concatenate([X_own, X_src])
    y_all = np.concatenate([y_own, y_src])
    out = []
    for strength in strengths:
        if strength == 0:
            out.append(_out_of_fold(estimator, X_own, y_own, w_own, X_test, classes))
            continue
        w_all = np.concatenate([w_own, strength * w_src])
        out.append(_out_of_fold(estimator, X_all, y_all, w_all, X_test, classes))
    return np.stack(out)


def _class_columns(classes, labels):
    """Columns of ``labels`` in the sorted global ``classes``."""
    labels = np.asarray(labels)
    cols = np.clip(np.searchsorted(classes, labels), 0, classes.shape[0] - 1)
    if not np.array_equal(classes[cols], labels):
        raise ValueError(
            f"a per-task model predicts labels {labels[classes[cols] != labels][:3]} "
            f"that are not among the classes seen in fit {classes.tolist()}."
        )
    return cols


class _Responses:
    """A per-task model seen through the predictions it already made.

    Scorers call ``predict`` / ``predict_proba`` on the rows of one target task;
    the answers are the source model's outputs on those rows, computed once, with
    probabilities aligned to the global classes. Any other attribute is the
    model's own.
    """

    def __init__(self, model, labels, proba, classes):
        self._model = model
        self._labels = labels
        self._proba = proba
        self._classes = classes

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_model", "_labels", "_proba"):
            raise AttributeError(name)
        if name == "classes_" and self._classes is not None:
            return self._classes
        if name == "predict":
            answer = self._labels
        elif name == "predict_proba":
            self._model.predict_proba  # noqa: B018 (AttributeError if it has none)
            answer = self._proba
        else:
            return getattr(self._model, name)

        def method(X):
            return answer

        method.__name__ = name  # scorers pick the response handling by name
        return method

    def __sklearn_tags__(self):
        return get_tags(self._model)


def _segment_scores(name, y, resp, labels, codes, weights, n_tasks, classes):
    """Score one source model on every target at once (vectorized scorers).

    ``y``, ``resp``, ``labels``, ``codes`` and ``weights`` hold the rows of the
    targets; ``codes`` names each row's target task.
    """
    w = np.ones(codes.shape[0]) if weights is None else weights
    total = np.bincount(codes, weights=w, minlength=n_tasks)
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "accuracy":
            hit = (labels == y).astype(float)
            return np.bincount(codes, weights=w * hit, minlength=n_tasks) / total
        if name == "neg_log_loss":
            eps = np.finfo(resp.dtype).eps
            p = np.clip(resp[np.arange(resp.shape[0]), y], eps, 1 - eps)
            loss = np.bincount(codes, weights=-w * np.log(p), minlength=n_tasks)
            return -loss / total
        Y = y.reshape(y.shape[0], -1)
        err = Y - resp

        def seg_sum(a):  # per-task sums of the columns of a, (n_tasks, n_outputs)
            return np.stack(
                [np.bincount(codes, weights=col, minlength=n_tasks) for col in a.T],
                axis=1,
            )

        if name == "neg_mean_absolute_error":
            return -(seg_sum(w[:, None] * np.abs(err)) / total[:, None]).mean(axis=1)
        mse = seg_sum(w[:, None] * err**2) / total[:, None]
        if name == "neg_mean_squared_error":
            return -mse.mean(axis=1)
        if name == "neg_root_mean_squared_error":
            return -np.sqrt(mse).mean(axis=1)
        # r2, as sklearn.metrics.r2_score with force_finite=True
        mean = seg_sum(w[:, None] * Y) / total[:, None]
        sst = seg_sum(w[:, None] * (Y - mean[codes]) ** 2)
        sse = mse * total[:, None]
        r2 = np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1), 0.0)
        r2 = np.where((sst <= 0) & (sse <= 0), 1.0, r2)
        r2 = r2.mean(axis=1)
        r2[np.bincount(codes, minlength=n_tasks) < 2] = np.nan
        return r2


def _fill_unscored(transferability):
    """Copy of the transferability for the rule: NaN become the row's worst score."""
    T = transferability.copy()
    finite = np.isfinite(T)
    worst = np.where(finite, T, np.inf).min(axis=1)
    worst = np.where(np.isfinite(worst), worst, 0.0)
    return np.where(finite, T, worst[:, None])


def _label(value):
    """A task or class label as a plain Python value (for messages and output)."""
    return value.item() if isinstance(value, np.generic) else value


def _base_has(attr):
    """``available_if`` check: the wrapped estimator has the method ``attr``."""

    def check(self):
        getattr(self.estimator, attr)
        return True

    return check


class MetricMetaEstimator(BaseEstimator):
    """Any scikit-learn estimator, one per task, with transfer between similar tasks.

    For every task (the rows that share a ``tasks`` label) the estimator fits a
    clone of ``estimator``. Tasks are described by task features and compared with
    a task metric; the similarity of each target task to its nearest source tasks,
    and the score of each source model on the target's labelled rows (the
    *transferability*, measured with ``scoring``), go to a transfer rule that
    decides how much every source contributes to every target:

    - ``"nothing"`` rules (``"none"``): every task alone, the baseline;
    - ``"instances"`` rules (``"instance"``): the target's model is fitted on its
      own rows plus the sources' rows, weighted (``estimator.fit`` must accept
      ``sample_weight``);
    - ``"predictions"`` rules (``"ensemble"``, ``"select"``): the target's
      prediction mixes its own model's with the sources' models', weighted.

    Rules that transfer parameters belong to linear models: use
    :class:`~sk_metameta.TransferRegressor` for them.

    A classifier task whose rows are all of one class (common with a few labelled
    rows) cannot have a classifier of its own. With a rule that transfers it still
    works: under a predictions rule it has no own model (``estimators_[t]`` is
    ``None``, ``own_weights_[t]`` is 0) and predicts from its sources' models,
    weighted as usual by similarity and by their transferability on its rows
    (which needs only its labels); under an instances rule its fit includes its
    sources' rows. With ``"none"`` (or no source to draw on) it is an error
    naming the tasks.

    The estimator is a classifier or a regressor as ``estimator`` is: its tags,
    ``predict_proba`` (only if ``estimator`` has one) and ``score`` follow the
    wrapped estimator, as a :class:`~sklearn.pipeline.Pipeline`'s follow its last
    step. With ``tasks=None`` all rows are one task and the estimator behaves as
    ``estimator``. A task not seen in fit is predicted zero-shot by the
    similarity-weighted ensemble of its nearest fitted tasks, found from X-only
    task features.

    Parameters
    ----------
    estimator : estimator object
        A scikit-learn classifier or regressor, cloned once per task.
    transfer : str, BaseTransferRule or type, default="ensemble"
        Transfer rule: a registered name (``"none"``, ``"ensemble"``,
        ``"instance"``, ``"select"``, or one a plugin adds), a rule instance or
        class. Rules that transfer ``"parameters"`` are refused.
    task_features : str, BaseTaskFeatures or callable, default="moments"
        Task feature extractor: registered name, instance, class, or a function of
        one task's ``X`` returning a 1-D vector. Unused with a metric that compares
        the tasks' samples. Zero-shot prediction needs an extractor that does not
        require ``y``.
    metric : str, BaseTaskMetric or callable, default="euclidean"
        Task metric: registered name, instance, class or ``func(u, v) -> float``
        on task features.
    n_neighbors : int, "auto" or None, default="auto"
        Number of nearest source tasks each target may draw on: an int (at most
        the number of tasks in fit minus one), ``None`` for every other task, or
        ``"auto"``: every other task up to 51 tasks, the 50 nearest beyond (as
        :class:`~sk_metameta.TransferRegressor`).
    kernel : {"gaussian", "laplacian", "inverse", "uniform"} or callable, \
            default="gaussian"
        Kernel mapping a task distance ``d`` to a similarity ``k(d / h)`` in
        ``[0, 1]``; a callable maps an array of scaled distances to similarities.
    bandwidth : float or {"median", "mean"}, default="median"
        Kernel scale ``h``: a positive number, or the median (mean) of the
        distances from every task to its neighbours, fixed at fit.
    strength : float >= 0 or "auto", default="auto"
        How much the sources count against the target's own data.

        - predictions rules: the target's own model gets the weight
          ``n_rows / (n_rows + strength)`` and the sources' ensemble the rest;
          ``"auto"`` chooses ``strength`` from data, one value for all tasks (a
          per-task choice on a few rows is too noisy): the one whose mixtures of
          each task's cross-fitted own predictions (``n_folds`` folds of its rows)
          with its sources' predictions on the same rows have the least squared
          error over all tasks' rows, on a grid from 0 (own model alone) to
          infinity (sources alone);
        - instances rules: a source row weighs ``strength * w / mean(w)``
          relative to a target row, where ``w`` is its task's source weight and
          the mean is over the target's sources (0: the target's rows alone; 1:
          a source row of average weight counts as much as a target row);
          ``"auto"`` chooses ``strength`` from data, one value for all tasks,
          among 0.001, 0.002, 0.005, ..., 0.5, 1: fits on each target's rows
          (``n_folds`` folds, held out in turn) plus its sources' rows predict
          its held-out rows, on up to 50 targets (evenly spaced in
          ``tasks_``); each target's mean squared error (the Brier score for a
          classifier) is averaged over the targets, and, walking up the grid
          from the best strength, the largest one such that it and every
          strength between are within one standard error of the best is chosen
          (the one-standard-error rule). The rule's own ``strength`` parameter is
          :class:`~sk_metameta.TransferRegressor`'s and is not used here;
        - ``"nothing"`` rules: unused.
    scoring : str or callable, default=None
        Evaluation metric of the transferability: a scikit-learn scorer name or a
        scorer ``scorer(estimator, X, y)`` (greater is better). ``None`` means
        ``"accuracy"`` for classifiers and ``"r2"`` for regressors.
    n_folds : int, default=5
        Number of cross-fitting folds of each task's rows for
        ``strength="auto"`` (fewer for smaller tasks).
    n_jobs : int, default=None
        Number of joblib jobs for the per-task fits; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context (which can also switch the backend,
        to Dask for example).

    Attributes
    ----------
    estimators_ : list of estimator objects of length n_tasks
        Fitted clone of ``estimator`` of each task, in the order of ``tasks_``;
        ``None`` for a classifier task of one class under a predictions rule.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in fit (``[None]`` when fitted with
        ``tasks=None``).
    task_features_ : ndarray of shape (n_tasks, n_task_features) or None
        Task features of each task (``None`` with a sample metric, or with
        ``tasks=None``).
    task_distances_ : ndarray of shape (n_tasks, n_tasks)
        Distance from each task to each other task.
    similarity_ : ndarray of shape (n_tasks, n_tasks)
        Similarity of each target (row) to each source (column): zero for the
        task itself and outside its ``n_neighbors`` nearest sources.
    bandwidth_ : float
        Kernel bandwidth used at fit, and for tasks seen first at predict time.
    n_neighbors_ : int or None
        Number of neighbours used (``None``: every other task).
    transferability_ : ndarray of shape (n_tasks, n_tasks)
        ``transferability_[t, s]`` is the score (``scoring``) on target ``t``'s
        rows of source ``s``'s model fitted on its own rows. NaN on the diagonal,
        outside the neighbours, with a ``"nothing"`` rule, and for a source whose
        own model cannot be fitted (a classifier task of one class).
    source_weights_ : ndarray of shape (n_tasks, n_tasks)
        Weight of each source (column) for each target (row), from the transfer
        rule; each row sums to one, or is zero when the target draws on no source.
    strength_ : float or None
        The ``strength`` used: ``strength`` itself, or the value chosen with
        ``strength="auto"`` (for a predictions rule, the pseudo-count ``m`` of
        the own weights ``n_rows / (n_rows + m)``); ``None`` with a rule that
        transfers nothing or when no task may draw on another (a single task).
        With ``strength="auto"`` and no target that can be cross-fitted (no
        target with sources and two rows), 1.
    own_weights_ : ndarray of shape (n_tasks,)
        Weight of each task's own model in its predictions (one except with a
        predictions rule; zero for a task without a model of its own).
    transfer_rule_ : BaseTransferRule
        The resolved transfer rule.
    metric_ : BaseTaskMetric
        The resolved task metric.
    task_feature_extractor_ : BaseTaskFeatures or None
        The fitted task feature extractor (``None`` with a sample metric).
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in fit, for classifiers. Per-task models that saw fewer
        classes have their probabilities mapped into these columns.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in fit, when ``X`` has string column names.

    See Also
    --------
    sk_metameta.TransferRegressor : Parameter transfer between linear models.
    sk_metameta.get_task_scorer : Scorers that pass ``tasks`` to ``predict``.

    Notes
    -----
    ``tasks`` is metadata requested by default by ``fit``, ``predict``,
    ``predict_proba`` and ``score``: with
    ``sklearn.set_config(enable_metadata_routing=True)``,
    :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate` route each split's task labels
    to it. Score such searches with :func:`~sk_metameta.get_task_scorer` (string
    scorers call ``predict`` without ``tasks``).

    The cost of a fit is one fit of ``estimator`` per task (times ``n_folds + 1``
    with ``strength="auto"`` and a predictions rule), and one prediction of each
    source model on its targets' rows. An instances rule adds one fit per task on
    the target's and its sources' rows, and with ``strength="auto"`` ten such
    fits per fold of up to 50 targets; a fixed ``strength`` saves those.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sk_metameta import MetricMetaEstimator
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=8, n_samples_per_task=10,
    ...                                  random_state=0)
    >>> model = MetricMetaEstimator(Ridge(), n_neighbors=3).fit(X, y, tasks=tasks)
    >>> model.predict(X[:3], tasks=tasks[:3]).shape
    (3,)
    >>> model.source_weights_.shape, bool((model.source_weights_ > 0).sum(1).max() <= 3)
    ((8, 8), True)
    >>> model.score(X, y, tasks=tasks) > 0.5
    True

    With ``transfer="instance"`` every task is refitted on its rows plus its
    sources' rows, each source row weighing ``strength_`` (chosen from data)
    relative to a row of the task:

    >>> inst = MetricMetaEstimator(Ridge(), transfer="instance", n_neighbors=3)
    >>> inst = inst.fit(X, y, tasks=tasks)
    >>> bool(0 < inst.strength_ <= 1)
    True

    A task not seen in fit is predicted from its nearest tasks:

    >>> model.predict(X[:3] + 0.1, tasks=[100, 100, 100]).shape
    (3,)
    >>> sorted(model.explain(0))
    ['n_rows', 'own_weight', 'sources', 'task', 'transfer']
    """

    __metadata_request__fit: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict_proba: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict_log_proba: ClassVar[dict] = {"tasks": True}
    __metadata_request__score: ClassVar[dict] = {"tasks": True}

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"])],
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
        "strength": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "scoring": [str, callable, None],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        estimator,
        *,
        transfer="ensemble",
        task_features="moments",
        metric="euclidean",
        n_neighbors="auto",
        kernel="gaussian",
        bandwidth="median",
        strength="auto",
        scoring=None,
        n_folds=5,
        n_jobs=None,
    ):
        self.estimator = estimator
        self.transfer = transfer
        self.task_features = task_features
        self.metric = metric
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.strength = strength
        self.scoring = scoring
        self.n_folds = n_folds
        self.n_jobs = n_jobs

    # -- type and tags, following the wrapped estimator --------------------------------
    def _base_type(self) -> str:
        kind = get_tags(self.estimator).estimator_type
        if kind not in ("classifier", "regressor"):
            raise ValueError(
                "MetricMetaEstimator wraps a classifier or a regressor; "
                f"{type(self.estimator).__name__} has estimator type {kind!r}."
            )
        return kind

    @property
    def _estimator_type(self):
        return get_tags(self.estimator).estimator_type

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = get_tags(self.estimator)
        tags.estimator_type = base.estimator_type
        tags.target_tags.required = True
        tags.target_tags.multi_output = (
            base.estimator_type == "regressor" and base.target_tags.multi_output
        )
        tags.target_tags.single_output = True
        tags.classifier_tags = deepcopy(base.classifier_tags)
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = False
        tags.regressor_tags = deepcopy(base.regressor_tags)
        # task features are computed from X: dense and finite
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # -- fit ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, tasks=None, sample_weight=None):
        """Fit one model per task and decide how each task draws on its sources.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; several outputs only for a multi-output regressor.
        tasks : array-like of shape (n_samples,), default=None
            Task label (int or str) of each row; ``None`` means one task.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the per-task fits (which must accept them).

        Returns
        -------
        self : MetricMetaEstimator
            The fitted estimator.
        """
        kind = self._base_type()
        rule = resolve_transfer_rule(self.transfer)
        transfers = rule.transfers
        if transfers == "parameters":
            raise ValueError(
                f"transfer={self.transfer!r}: the rule {rule.name!r} transfers model "
                "parameters, which only linear models have; use "
                "sk_metameta.TransferRegressor for it, or a rule that transfers "
                "instances or predictions ('instance', 'ensemble', 'select')."
            )
        if transfers not in _KINDS:
            raise ValueError(
                f"transfer rule {rule.name!r} declares transfers={transfers!r}; "
                f"MetricMetaEstimator supports {_KINDS}."
            )
        name = type(self.estimator).__name__
        accepts_weights = has_fit_parameter(self.estimator, "sample_weight")
        if transfers == "instances" and not accepts_weights:
            raise ValueError(
                f"transfer rule {rule.name!r} transfers instances: it adds the source "
                f"tasks' rows with weights, but {name}.fit does not accept "
                "sample_weight. Use a predictions rule such as 'ensemble', or an "
                "estimator whose fit takes sample_weight."
            )
        if sample_weight is not None and not accepts_weights:
            raise ValueError(
                f"sample_weight was given but {name}.fit does not take it."
            )

        is_clf = kind == "classifier"
        multi_output = not is_clf and get_tags(self.estimator).target_tags.multi_output
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=False,
            multi_output=multi_output,
            y_numeric=not is_clf,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, ensure_non_negative=True
            )
        classes = None
        y_codes = None
        if is_clf:
            try:
                check_classification_targets(y)
                classes, y_codes = np.unique(y, return_inverse=True)
            except TypeError:  # labels that cannot be ordered, such as 'a' and 1
                kinds = sorted({type(v).__name__ for v in np.ravel(y)})
                raise ValueError(
                    f"y mixes class labels of types {', '.join(kinds)}, which cannot "
                    "be sorted; give labels that are all strings or all numbers."
                ) from None
            self.classes_ = classes
        else:
            _check_numeric_target(y)
        self._y_ndim = y.ndim
        self._n_outputs = 1 if y.ndim == 1 or is_clf else y.shape[1]

        self._resolve_scoring(is_clf)  # an unknown scorer name fails before fitting
        metric = resolve_metric(self.metric)
        extractor = (
            None
            if metric.space == "samples"
            else resolve_task_features(self.task_features)
        )
        self.transfer_rule_ = rule
        self.metric_ = metric
        self.task_feature_extractor_ = extractor

        self.__dict__.pop("_X_fit", None)
        if tasks is None:
            index = TaskIndex(np.array([None], dtype=object), np.zeros(X.shape[0]))
            self.task_features_ = None
            D = np.zeros((1, 1))
        else:
            index = check_tasks(tasks, X.shape[0])
            y_features = y_codes.astype(float) if is_clf else y
            if extractor is None:
                F = None
                D = metric.pairwise(X, index, y=y_features, y_other=y_features)
                self._X_fit = X  # sample metrics compare new tasks with these rows
            else:
                F = extractor.fit_transform(X, y_features, tasks=index)
                D = metric.pairwise(F)
            self.task_features_ = F
        T = index.n_tasks
        self._index = index
        self.tasks_ = index.labels
        self.task_distances_ = np.asarray(D, dtype=float)
        self.n_neighbors_ = self._n_neighbors(T)
        if self.n_neighbors_ is not None and T > 1 and self.n_neighbors_ > T - 1:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} but each target task has only "
                f"{T - 1} source task(s) ({T} tasks in fit); use n_neighbors <= "
                f"{T - 1}, or None to draw on every source."
            )
        allowed = self._allowed_sources(T)

        transferability = np.full((T, T), np.nan)
        own_weights = np.ones(T)
        weights = np.zeros((T, T))
        strength = None
        own_sets = self._fit_sets(index, None)
        transfer = transfers != "nothing" and allowed.any()
        if not transfer and is_clf:
            self._check_classes_per_task(index, y_codes, classes)
        # a classifier task with rows of one class has no model of its own: it
        # draws on its sources only (their predictions, or their rows)
        fittable = np.ones(T, dtype=bool)
        if is_clf and transfer:
            fittable = self._classes_per_task(index, y_codes, classes.shape[0]) >= 2
        own_models = None
        if transfers != "instances" or transfer:
            # models of the tasks alone: the fitted models, or the source models
            # that an instances rule scores before it weighs their rows
            own_models = self._fit_all(X, y, sample_weight, own_sets, fittable)
        if transfer:
            transferability, responses = self._transferability(
                own_models, X, y, y_codes, classes, sample_weight, allowed
            )
            # a source without a model of its own cannot lend its predictions
            similarity = self.similarity_
            sources = allowed
            if transfers == "predictions" and not fittable.all():
                sources = allowed & fittable
                similarity = np.where(fittable, similarity, 0.0)
            weights = self._rule_weights(
                rule, similarity, _fill_unscored(transferability), sources
            )
        if transfers == "predictions" and is_clf:
            self._check_classes_per_task(index, y_codes, classes, weights, fittable)
        if transfers == "instances":
            if is_clf:
                self._check_classes_per_task(index, y_codes, classes, weights)
            strength = 0.0
            if transfer:
                strength = self._instance_strength(
                    X, y, y_codes, classes, sample_weight, weights
                )
            fit_sets = self._fit_sets(index, weights, strength)
            self.estimators_ = self._fit_all(X, y, sample_weight, fit_sets)
        else:
            self.estimators_ = own_models
        if transfers == "predictions" and transfer:
            own_weights, strength = self._own_weights(
                X, y, y_codes, classes, sample_weight, weights, responses, fittable
            )
        self.strength_ = float(strength) if transfer else None
        self.transferability_ = transferability
        self.source_weights_ = weights
        self.own_weights_ = own_weights
        return self

    def _n_neighbors(self, n_tasks):
        """The number of neighbours for ``n_tasks`` tasks (None: every other)."""
        if self.n_neighbors == "auto":
            return None if n_tasks - 1 <= _AUTO_NEIGHBORS else _AUTO_NEIGHBORS
        return self.n_neighbors

    def _allowed_sources(self, T):
        """Similarity and the (target, source) pairs a target may draw on."""
        allowed = ~np.eye(T, dtype=bool)
        if T == 1:
            self.similarity_ = np.zeros((1, 1))
            self.bandwidth_ = 1.0
            return allowed
        # the bandwidth is fixed at fit, so that new tasks use the same kernel
        neighbors = nearest_sources(self.task_distances_, self.n_neighbors_)
        self.bandwidth_ = resolve_bandwidth(self.bandwidth, neighbors.distances)
        S = neighbor_similarity(
            self.task_distances_,
            self.n_neighbors_,
            kernel=self.kernel,
            bandwidth=self.bandwidth_,
            exclude_self=True,
        )
        self.similarity_ = S
        if self.n_neighbors_ is not None:
            D = np.where(allowed, self.task_distances_, np.inf)
            nearest = np.argsort(D, axis=1, kind="stable")[:, : self.n_neighbors_]
            mask = np.zeros((T, T), dtype=bool)
            np.put_along_axis(mask, nearest, True, axis=1)
            allowed &= mask | (S > 0)
        return allowed

    def _rule_weights(self, rule, similarity, transferability, allowed):
        """The rule's source weights, validated, kept to neighbours, normalised."""
        T = allowed.shape[0]
        W = rule.source_weights(similarity, transferability)
        W = np.asarray(W.toarray() if sparse.issparse(W) else W, dtype=float)
        if W.shape != (T, T) or not np.isfinite(W).all() or (W < 0).any():
            raise ValueError(
                f"transfer rule {rule.name!r} returned source weights of shape "
                f"{W.shape} (expected {(T, T)}) that are not all finite and "
                "non-negative."
            )
        W = np.where(allowed, W, 0.0)
        total = W.sum(axis=1, keepdims=True)
        return np.divide(W, total, out=np.zeros_like(W), where=total > 0)

    @staticmethod
    def _source_rows(index, weights, t):
        """Rows of target ``t``'s sources and their weights relative to its rows.

        A source row weighs ``w / mean(w)`` (times the strength), with ``w`` its
        task's source weight and the mean over the target's sources.
        """
        sources = np.flatnonzero(weights[t])
        if sources.size == 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        scale = 1.0 / weights[t, sources].mean()
        rows = np.concatenate([index.rows(s) for s in sources])
        row_w = np.repeat(scale * weights[t, sources], index.counts[sources])
        return rows, row_w

    def _fit_sets(self, index, weights, strength=None):
        """Rows (and relative row weights) of each task's fit."""
        if weights is None:
            return [(index.rows(t), None) for t in range(index.n_tasks)]
        sets = []
        for t in range(index.n_tasks):
            rows, row_w = self._source_rows(index, weights, t)
            if rows.size == 0 or strength == 0:
                sets.append((index.rows(t), None))
                continue
            own = index.rows(t)
            sets.append(
                (
                    np.concatenate([own, rows]),
                    np.concatenate([np.ones(own.shape[0]), strength * row_w]),
                )
            )
        return sets

    def _instance_strength(self, X, y, y_codes, classes, sample_weight, weights):
        """Weight of a source row of average weight, relative to a target row.

        A number is taken as it is; ``"auto"`` is chosen from data (see
        :meth:`_choose_instance_strength`).
        """
        if self.strength != "auto":
            return float(self.strength)
        return self._choose_instance_strength(
            X, y, y_codes, classes, sample_weight, weights
        )

    def _choose_instance_strength(self, X, y, y_codes, classes, sample_weight, weights):
        """One strength for all tasks, by cross-fitting on the targets' own rows.

        For up to ``_STRENGTH_TASKS`` targets with sources (evenly spaced in the
        order of the tasks), each fold of a target's rows is predicted by fits on
        its other rows plus its sources' rows weighted with each strength of
        ``_INSTANCE_STRENGTHS``. Each target's loss is the mean squared error of
        its out-of-fold responses (the Brier score for a classifier); walking up
        the grid from the strength of smallest loss averaged over the targets,
        the chosen strength is the last one before a loss more than one standard
        error above the smallest (the standard error of the targets' paired
        differences to it): among strengths the data cannot tell apart, the one
        that transfers most. Without a target that has sources and two rows, 1.
        """
        index = self._index
        grid = _INSTANCE_STRENGTHS
        targets = np.flatnonzero((weights.sum(axis=1) > 0) & (index.counts >= 2))
        if targets.size == 0:
            return 1.0
        if targets.size > _STRENGTH_TASKS:
            pick = np.linspace(0, targets.size - 1, _STRENGTH_TASKS)
            targets = targets[np.round(pick).astype(np.intp)]
        splits = self._fold_splits(classes, y_codes, targets)
        sources = {t: self._source_rows(index, weights, t) for t in targets}
        y_fit = y if classes is None else y_codes

        def part(rows, extra=None):
            w = None if sample_weight is None else sample_weight[rows]
            if extra is not None:
                w = extra if w is None else w * extra
            return X[rows], y_fit[rows], w

        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_strength_path)(
                self.estimator,
                part(train),
                part(*sources[t]),
                X[test],
                None if classes is None else np.arange(classes.shape[0]),
                grid,
            )
            for t, train, test in splits
        )
        rw_all = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        loss = np.zeros((index.n_tasks, grid.shape[0]))
        for (t, _, test), resp in zip(splits, results, strict=True):
            if classes is None:
                Y = y[test].reshape(test.shape[0], -1)
            else:
                Y = np.zeros((test.shape[0], classes.shape[0]))
                Y[np.arange(test.shape[0]), y_codes[test]] = 1.0
            loss[t] += ((resp - Y) ** 2).sum(axis=2) @ rw_all[test]
        # every target counts the same: its mean loss per (weighted) row
        loss = loss[targets] / index.sum(rw_all)[targets, None]
        mean = loss.mean(axis=0)
        best = int(np.argmin(mean))
        # one-standard-error rule: the strongest transfer whose mean loss is within
        # one standard error (of its paired difference to the best) of the best
        diff = loss - loss[:, [best]]
        se = diff.std(axis=0, ddof=1) / np.sqrt(targets.size) if targets.size > 1 else 0
        ok = mean - mean[best] <= se
        chosen = best
        while chosen + 1 < grid.shape[0] and ok[chosen + 1]:
            chosen += 1
        return float(grid[chosen])

    def _fit_all(self, X, y, sample_weight, fit_sets, fittable=None):
        """Fit a clone on each fit set (through joblib); None where not fittable."""
        todo = [t for t in range(len(fit_sets)) if fittable is None or fittable[t]]

        def job(t):
            rows, row_w = fit_sets[t]
            if sample_weight is not None:
                w = sample_weight[rows]
                row_w = w if row_w is None else w * row_w
            task = _plain(self._index.labels[t])
            return delayed(_fit_one)(
                clone(self.estimator), X[rows], y[rows], row_w, task
            )

        fitted = Parallel(n_jobs=self.n_jobs)(job(t) for t in todo)
        models = [None] * len(fit_sets)
        for t, model in zip(todo, fitted, strict=True):
            models[t] = model
        return models

    @staticmethod
    def _classes_per_task(index, y_codes, n_classes, weights=None):
        """Number of classes each task's fit sees (with its weighted sources')."""
        present = np.zeros((index.n_tasks, n_classes), dtype=bool)
        present[index.codes, y_codes] = True
        if weights is not None:
            present |= (weights > 0).astype(float) @ present > 0
        return present.sum(axis=1)

    def _check_classes_per_task(
        self, index, y_codes, classes, weights=None, fittable=None
    ):
        """A classifier task must see two classes: refuse clearly before fitting.

        With ``fittable`` (a predictions rule), a task of one class is refused
        only when it draws on no source model.
        """
        if index.labels[0] is None and index.n_tasks == 1:
            return  # tasks=None: the wrapped estimator decides, as it would alone
        if fittable is not None:
            bad = np.flatnonzero(~fittable & (weights.sum(axis=1) <= 0))
            if bad.size:
                names = ", ".join(repr(_label(index.labels[t])) for t in bad[:5])
                raise ValueError(
                    f"{bad.size} task(s) have rows of one class only and no source "
                    f"model to draw on: {names}; a per-task classifier needs at "
                    "least two classes. Allow them more neighbours (n_neighbors), "
                    "or give them rows of two classes."
                )
            return
        counts = self._classes_per_task(index, y_codes, classes.shape[0], weights)
        bad = np.flatnonzero(counts < 2)
        if bad.size:
            names = ", ".join(
                f"{_label(index.labels[t])!r} (class "
                f"{_label(classes[y_codes[index.rows(t)[0]]])!r})"
                for t in bad[:5]
            )
            more = f" and {bad.size - 5} more" if bad.size > 5 else ""
            raise ValueError(
                f"{bad.size} task(s) have rows of one class only: {names}{more}; a "
                "per-task classifier needs at least two classes. Give every task "
                "rows of two classes, merge such tasks, or use a rule that "
                "transfers ('ensemble', 'select': such a task predicts from its "
                "sources' models; 'instance': its fit includes source rows)."
            )

    # -- transferability and the predictions rules -------------------------------------
    def _resolve_scoring(self, is_clf):
        """Evaluation metric: ``(name, None)`` if vectorized, or ``(None, scorer)``."""
        scoring = self.scoring
        if scoring is None:
            scoring = "accuracy" if is_clf else "r2"
        if not isinstance(scoring, str):
            return None, scoring
        kind = "classifier" if is_clf else "regressor"
        if scoring in _VECTORIZED_SCORERS[kind] and (
            scoring != "neg_log_loss" or hasattr(self.estimator, "predict_proba")
        ):
            return scoring, None
        try:
            return None, get_scorer(scoring)
        except ValueError as exc:
            raise ValueError(f"scoring={scoring!r}: {exc}") from None

    def _transferability(self, models, X, y, y_codes, classes, sample_weight, allowed):
        """Score every source model on its targets' rows; keep the responses.

        ``models[s]`` is the model of task ``s`` fitted alone, or None when it
        could not be (a one-class task of an instances rule): its column is NaN.
        """
        index = self._index
        T = index.n_tasks
        is_clf = classes is not None
        codes_sorted = index.codes[index.order]
        target_rows = [index.order[allowed[codes_sorted, s]] for s in range(T)]
        used = [s for s in range(T) if target_rows[s].size and models[s] is not None]
        outputs = [None] * T
        for s, out in zip(
            used,
            Parallel(n_jobs=self.n_jobs)(
                delayed(_outputs)(models[s], X[target_rows[s]], classes) for s in used
            ),
            strict=True,
        ):
            outputs[s] = out
        vectorized, scorer = self._resolve_scoring(is_clf)
        Tr = np.full((T, T), np.nan)
        for s, rows in enumerate(target_rows):
            if outputs[s] is None:
                continue
            labels, resp = outputs[s]
            codes = index.codes[rows]
            w = None if sample_weight is None else sample_weight[rows]
            if vectorized:
                y_s = y_codes[rows] if is_clf else y[rows]
                lab = _class_columns(classes, labels) if is_clf else None
                scores = _segment_scores(
                    vectorized, y_s, resp, lab, codes, w, T, classes
                )
                Tr[:, s] = np.where(allowed[:, s], scores, np.nan)
                continue
            bounds = np.flatnonzero(np.diff(codes)) + 1
            for seg in np.split(np.arange(rows.size), bounds):
                t = codes[seg[0]]
                stand_in = _Responses(
                    models[s],
                    labels[seg],
                    resp[seg] if is_clf else None,
                    classes,
                )
                kwargs = {} if w is None else {"sample_weight": w[seg]}
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UndefinedMetricWarning)
                    try:
                        Tr[t, s] = scorer(
                            stand_in, X[rows[seg]], y[rows[seg]], **kwargs
                        )
                    except TypeError as exc:
                        if w is None or "sample_weight" not in str(exc):
                            raise
                        raise ValueError(
                            f"scoring={self.scoring!r} does not accept sample_weight, "
                            "which fit was given: choose a scoring that takes "
                            "sample weights, or fit without them."
                        ) from exc
        return Tr, (target_rows, outputs)

    def _own_weights(
        self, X, y, y_codes, classes, sample_weight, weights, responses, fittable
    ):
        """Weight of each task's own model against its sources' ensemble.

        A task without a model of its own (``fittable`` False) gets weight zero.
        """
        index = self._index
        has_sources = weights.sum(axis=1) > 0
        if self.strength != "auto":
            m = float(self.strength)
            own = index.counts / (index.counts + m)
            return np.where(fittable, np.where(has_sources, own, 1.0), 0.0), m
        # sources' ensemble on every target's rows
        target_rows, outputs = responses
        q = (
            classes.shape[0]
            if classes is not None
            else y.reshape(y.shape[0], -1).shape[1]
        )
        ensemble = np.zeros((X.shape[0], q))
        for s, rows in enumerate(target_rows):
            if outputs[s] is not None:
                w = weights[index.codes[rows], s]
                ensemble[rows] += w[:, None] * outputs[s][1]
        own_oof = self._cross_fit(X, y, y_codes, classes, sample_weight, fittable)
        if classes is None:
            Y = y.reshape(y.shape[0], -1).astype(float)
        else:
            Y = np.zeros((y.shape[0], classes.shape[0]))
            Y[np.arange(y.shape[0]), y_codes] = 1.0
        diff = own_oof - ensemble
        rw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        num = index.sum(rw * np.einsum("ij,ij->i", Y - ensemble, diff))
        den = index.sum(rw * np.einsum("ij,ij->i", diff, diff))
        # own weight n / (n + m), one pseudo-count m for all tasks: the m whose
        # weights minimise the squared error of the cross-fitted mixtures of all
        # tasks together (a per-task weight fitted on a few rows is too noisy)
        n = index.counts.astype(float)
        used = fittable & has_sources & (index.counts >= 2) & (den > 0)
        m = 1.0
        if used.any():
            grid = np.concatenate([[0.0], np.geomspace(0.1, 1e5, 61), [np.inf]])
            with np.errstate(invalid="ignore", divide="ignore"):
                lam = np.nan_to_num(n[used] / (n[used] + grid[:, None]), nan=0.0)
            loss = (lam**2 * den[used] - 2 * lam * num[used]).sum(axis=1)
            m = grid[np.argmin(loss)]
        with np.errstate(invalid="ignore", divide="ignore"):
            own = np.nan_to_num(n / (n + m), nan=0.0)
        return np.where(fittable, np.where(has_sources, own, 1.0), 0.0), float(m)

    def _fold_splits(self, classes, y_codes, tasks):
        """``(task, train rows, test rows)`` of the cross-fitting folds of ``tasks``.

        Interleaved folds of each task's rows, stratified by class for a
        classifier; ``min(n_folds, n_rows)`` folds per task.
        """
        index = self._index
        n = index.codes.shape[0]
        # order rows by task, then by class (stratified folds), then by position
        secondary = y_codes if classes is not None else np.zeros(n, dtype=np.intp)
        order = np.lexsort((np.arange(n), secondary, index.codes))
        position = np.arange(n) - index.offsets[index.codes[order]]
        n_folds = np.minimum(self.n_folds, index.counts)
        fold = np.empty(n, dtype=np.intp)
        fold[order] = position % n_folds[index.codes[order]]
        splits = []
        for t in tasks:
            rows = index.rows(t)
            for k in range(n_folds[t]):
                splits.append((t, rows[fold[rows] != k], rows[fold[rows] == k]))
        return splits

    def _cross_fit(self, X, y, y_codes, classes, sample_weight, fittable):
        """Out-of-fold responses of each task's own model."""
        index = self._index
        n = X.shape[0]
        q = classes.shape[0] if classes is not None else y.reshape(n, -1).shape[1]
        oof = np.zeros((n, q))
        tasks = np.flatnonzero((index.counts >= 2) & fittable)
        splits = self._fold_splits(classes, y_codes, tasks)

        def weights_of(rows):
            return None if sample_weight is None else sample_weight[rows]

        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_out_of_fold)(
                self.estimator, X[tr], y[tr], weights_of(tr), X[te], classes
            )
            for _, tr, te in splits
        )
        for (_, _, test), resp in zip(splits, results, strict=True):
            oof[test] = resp
        return oof

    # -- predict -----------------------------------------------------------------------
    def _combination(self, X, tasks):
        """Task index of ``X`` and each of its tasks' weights over the fitted models."""
        T = self.tasks_.shape[0]
        if tasks is None:
            if T > 1:
                warnings.warn(
                    f"{type(self).__name__} was fitted on {T} tasks but predict got "
                    "tasks=None; all rows are treated as one new task and predicted "
                    "zero-shot from its nearest tasks. Pass tasks=... (with metadata "
                    "routing in GridSearchCV, Pipeline and cross_validate).",
                    TasksMissingWarning,
                    stacklevel=3,
                )
            index = TaskIndex(np.array([None], dtype=object), np.zeros(X.shape[0]))
            codes = np.array([-1 if T > 1 else 0])
        else:
            index = check_tasks(tasks, X.shape[0])
            if T == 1:
                codes = np.zeros(index.n_tasks, dtype=np.intp)
            else:
                codes = self._index.encode(index.labels)
        C = np.zeros((index.n_tasks, T))
        seen = codes >= 0
        own = self.own_weights_[codes[seen]]
        C[seen] = (1.0 - own)[:, None] * self.source_weights_[codes[seen]]
        C[np.flatnonzero(seen), codes[seen]] += own
        if not seen.all():
            C[~seen] = self._zero_shot_weights(X, index, np.flatnonzero(~seen))
        return index, C

    def _zero_shot_weights(self, X, index, unseen):
        """Weights over the fitted tasks of tasks not seen in fit."""
        rows = np.concatenate([index.rows(u) for u in unseen])
        new_index = check_tasks(index.codes[rows], rows.shape[0])
        names = index.labels[unseen]
        if self.task_feature_extractor_ is not None:
            extractor = self.task_feature_extractor_
            if extractor.requires_y:
                raise ValueError(
                    f"task(s) {names[:5].tolist()} were not seen in fit, and the "
                    f"task features {extractor.name!r} need y to describe a task; "
                    "use an X-only extractor (such as 'moments') to predict for new "
                    "tasks zero-shot."
                )
            F_new = extractor.transform(X[rows], tasks=new_index)
            D = self.metric_.pairwise(F_new, self.task_features_)
        else:
            if self.metric_.requires_y:
                raise ValueError(
                    f"task(s) {names[:5].tolist()} were not seen in fit, and the "
                    f"metric {self.metric_.name!r} needs y to compare tasks; use a "
                    "metric on X-only task features to predict for new tasks."
                )
            D = self.metric_.pairwise(X[rows], new_index, self._X_fit, self._index)
        D = np.asarray(D, dtype=float)
        k = self.n_neighbors_
        S = neighbor_similarity(
            D,
            None if k is None or k > D.shape[1] else k,
            kernel=self.kernel,
            bandwidth=self.bandwidth_,
            exclude_self=False,
        )
        W = self.transfer_rule_.source_weights(S, None)
        W = np.asarray(W.toarray() if sparse.issparse(W) else W, dtype=float)
        # only fitted tasks with a model of their own can predict
        has_model = np.array([m is not None for m in self.estimators_])
        S = np.where(has_model, S, 0.0)
        W = np.where(np.isfinite(W) & (W > 0) & has_model, W, 0.0)
        W = np.where(W.sum(axis=1, keepdims=True) > 0, W, S)
        nearest = np.argmin(np.where(has_model, D, np.inf), axis=1)
        empty = W.sum(axis=1) <= 0
        W[empty] = 0.0
        W[np.flatnonzero(empty), nearest[empty]] = 1.0
        return W / W.sum(axis=1, keepdims=True)

    def _predict_outputs(self, X, tasks, *, labels):
        """Combined responses of every row (and labels, for ``predict``).

        Each fitted model predicts once, on the rows of the tasks that draw on it.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=False)
        index, C = self._combination(X, tasks)
        classes = getattr(self, "classes_", None)
        n = X.shape[0]
        q = classes.shape[0] if classes is not None else self._n_outputs
        # tasks that use exactly one model with weight one take its own labels
        single_task = (C == 1.0).any(axis=1) if labels and classes is not None else None
        single = (
            np.zeros(n, dtype=bool) if single_task is None else single_task[index.codes]
        )
        out = np.zeros((n, q))
        pred = None if single_task is None else np.empty(n, dtype=classes.dtype)
        by_model = sparse.csc_array(C)
        for m in np.flatnonzero(np.diff(by_model.indptr)):
            span = slice(by_model.indptr[m], by_model.indptr[m + 1])
            users, weights = by_model.indices[span], by_model.data[span]
            rows = np.concatenate(
                [index.order[index.offsets[u] : index.offsets[u + 1]] for u in users]
            )
            row_weights = np.repeat(weights, index.counts[users])
            need_labels = bool(single[rows].any())
            need_resp = not single[rows].all()
            lab, resp = _outputs(
                self.estimators_[m],
                X[rows],
                classes,
                labels=need_labels,
                response=need_resp,
            )
            if need_resp:
                out[rows] += row_weights[:, None] * resp
            if need_labels:
                pred[rows[single[rows]]] = lab[single[rows]]
        return out, pred, single

    # -- public prediction API ---------------------------------------------------------
    def predict(self, X, tasks=None):
        """Predict for rows of seen or new tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row. Tasks not seen in fit are predicted zero-shot;
            ``None`` after a multi-task fit warns and treats all rows as one new
            task.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted class labels or values.
        """
        out, pred, single = self._predict_outputs(X, tasks, labels=True)
        if hasattr(self, "classes_"):
            combined = self.classes_[np.argmax(out, axis=1)]
            return np.where(single, pred, combined) if pred is not None else combined
        return out.ravel() if self._y_ndim == 1 else out

    @available_if(_base_has("predict_proba"))
    def predict_proba(self, X, tasks=None):
        """Class probabilities for rows of seen or new tasks.

        Available when the wrapped estimator has ``predict_proba``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row (see :meth:`predict`).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class of ``classes_``; a per-task model that never
            saw a class gives it probability zero.
        """
        return self._predict_outputs(X, tasks, labels=False)[0]

    @available_if(_base_has("predict_proba"))
    def predict_log_proba(self, X, tasks=None):
        """Logarithm of the class probabilities (see :meth:`predict_proba`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class of ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, tasks=tasks))

    def score(self, X, y, tasks=None, sample_weight=None):
        """Accuracy (classifier) or coefficient of determination (regressor).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            Accuracy of ``predict(X, tasks)``, or its :math:`R^2`.
        """
        y_pred = self.predict(X, tasks=tasks)
        if self._base_type() == "classifier":
            return float(accuracy_score(y, y_pred, sample_weight=sample_weight))
        return float(r2_score(y, y_pred, sample_weight=sample_weight))

    # -- explanation -------------------------------------------------------------------
    def explain(self, task) -> dict:
        """Which sources a fitted task draws on, with what weight.

        Parameters
        ----------
        task : hashable
            Label of a task seen in fit (``None`` after a fit with ``tasks=None``).

        Returns
        -------
        explanation : dict
            ``task``, ``n_rows``, ``transfer`` (what the rule transfers),
            ``own_weight`` (weight of the task's own model in its predictions) and
            ``sources``: one dict per source with a positive weight, heaviest
            first, with its ``task``, ``weight`` (in ``source_weights_``),
            ``similarity``, ``distance`` and ``transferability``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import Ridge
        >>> from sk_metameta import MetricMetaEstimator
        >>> X = np.array([[0.0], [1.0], [0.1], [1.1], [5.0], [6.0]])
        >>> y = np.array([0.0, 1.0, 0.1, 1.1, 5.0, 6.0])
        >>> model = MetricMetaEstimator(Ridge(), transfer="instance", n_neighbors=1)
        >>> model = model.fit(X, y, tasks=["a", "a", "b", "b", "c", "c"])
        >>> info = model.explain("a")
        >>> info["transfer"], [source["task"] for source in info["sources"]]
        ('instances', ['b'])
        """
        check_is_fitted(self)
        t = int(self._index.encode([task])[0]) if self.tasks_[0] is not None else 0
        if t < 0 or (self.tasks_[0] is None and task is not None):
            raise ValueError(
                f"task {task!r} was not seen in fit; known tasks: "
                f"{self.tasks_[:10].tolist()}."
            )
        order = np.argsort(-self.source_weights_[t], kind="stable")
        sources = [
            {
                "task": _label(self.tasks_[s]),
                "weight": float(self.source_weights_[t, s]),
                "similarity": float(self.similarity_[t, s]),
                "distance": float(self.task_distances_[t, s]),
                "transferability": float(self.transferability_[t, s]),
            }
            for s in order
            if self.source_weights_[t, s] > 0
        ]
        return {
            "task": _label(self.tasks_[t]),
            "n_rows": int(self._index.counts[t]),
            "transfer": self.transfer_rule_.transfers,
            "own_weight": float(self.own_weights_[t]),
            "sources": sources,
        }
