"""MetricMetaEstimator: one model of any kind per task, with transfer between tasks.

The estimator wraps any scikit-learn classifier or regressor. It fits one clone per
task (:mod:`._per_task`), places the tasks in a task space (task features and a
task metric, shared with every task estimator), scores every source task's model on
the labelled rows of the targets that may draw on it (the *transferability*,
:mod:`._responses`), and lets a transfer rule decide how much each source
contributes to each target: by adding the sources' rows, weighted, to the target's
fit (``"instances"``, strength from :mod:`._strength`) or by mixing the sources'
predictions with the target's own (``"predictions"``, :mod:`._mixing`).
"""

from __future__ import annotations

from copy import deepcopy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .._base import (
    TASK_PARAMETER_CONSTRAINTS,
    BaseTaskEstimator,
    atomic_fit,
)
from .._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
)
from .._components import component_errors
from .._threads import with_one_blas_thread
from ..transfer.base import check_source_weights, normalize_rows
from ._inputs import check_fit_data, check_rule
from ._mixing import combine, mixture_weights, zero_shot_weights
from ._per_task import (
    check_classes_per_task,
    classes_per_task,
    fit_models,
    fit_sets,
)
from ._responses import fill_unscored, resolve_scoring, transferability
from ._strength import choose_instance_strength, own_weights

__all__ = ["MetricMetaEstimator"]


def _base_has(attr):
    """``available_if`` check: the wrapped estimator has the method ``attr``."""

    def check(self):
        getattr(self.estimator, attr)
        return True

    return check


class MetricMetaEstimator(BaseTaskEstimator):
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
    neighbors_ : ndarray of shape (n_tasks, n_neighbors)
        Source task numbers (indices into ``tasks_``) of each task, nearest
        first.
    neighbor_distances_ : ndarray of shape (n_tasks, n_neighbors)
        Their distances.
    task_distances_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Distance from each task (row) to each of its sources (column).
    similarity_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Kernel similarity of each task (row) to each of its sources (column).
    bandwidth_ : float
        Kernel bandwidth used at fit, and for tasks seen first at predict time.
    n_neighbors_ : int or None
        Number of neighbours used (``None``: every other task).
    transferability_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks) or None
        ``transferability_[t, s]`` is the score (``scoring``) on target ``t``'s
        rows of source ``s``'s model fitted on its own rows, stored for each
        task's sources; NaN for a source whose own model cannot be fitted (a
        classifier task of one class). ``None`` with a rule that transfers
        nothing.
    source_weights_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Weight of each source (column) for each target (row), from the transfer
        rule; each row sums to one, or is zero when the target draws on no source.
    strength_ : ndarray of shape (n_tasks,) or None
        The ``strength`` each task got: ``strength`` itself, or the value chosen
        with ``strength="auto"`` (one value for all tasks; for a predictions
        rule, the pseudo-count ``m`` of the own weights ``n_rows / (n_rows +
        m)``); ``None`` with a rule that transfers nothing or when no task may
        draw on another (a single task). With ``strength="auto"`` and no target
        that can be cross-fitted (no target with sources and two rows), 1.
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
    >>> bool(0 < inst.strength_[0] <= 1)
    True

    A task not seen in fit is predicted from its nearest tasks:

    >>> model.predict(X[:3] + 0.1, tasks=[100, 100, 100]).shape
    (3,)
    >>> sorted(model.explain(0))
    ['n_rows', 'own_weight', 'sources', 'strength', 'task', 'transfer', 'transfers']
    """

    __metadata_request__predict_proba: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict_log_proba: ClassVar[dict] = {"tasks": True}

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"])],
        **TASK_PARAMETER_CONSTRAINTS,
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
        tags.target_tags.multi_output = (
            base.estimator_type == "regressor" and base.target_tags.multi_output
        )
        tags.target_tags.single_output = True
        tags.classifier_tags = deepcopy(base.classifier_tags)
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = False
        tags.regressor_tags = deepcopy(base.regressor_tags)
        return tags

    # -- fit ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    @atomic_fit
    @with_one_blas_thread
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
        rule = check_rule(self.transfer)
        X, target, sample_weight = check_fit_data(self, X, y, sample_weight, rule)
        is_clf = target.classes is not None
        if is_clf:
            self.classes_ = target.classes
        else:
            self.__dict__.pop("classes_", None)
        self._y_ndim = target.y.ndim
        self._n_outputs = target.n_responses
        scoring = resolve_scoring(self.scoring, self.estimator, is_clf)
        self.transfer_rule_ = rule
        index = self._fit_index(tasks, X.shape[0])
        self._fit_task_space(X, target.numeric, index)
        T = index.n_tasks
        graph = self.similarity_
        transfers = rule.transfers
        transfer = transfers != "nothing" and graph.nnz > 0
        if not transfer and is_clf:
            check_classes_per_task(index, target)
        # a classifier task with rows of one class has no model of its own: it
        # draws on its sources only (their predictions, or their rows)
        fittable = np.ones(T, dtype=bool)
        if is_clf and transfer:
            fittable = classes_per_task(index, target.codes, len(target.classes)) >= 2
        models = None
        if transfers != "instances" or transfer:
            # the models of the tasks alone: the fitted models, or the source
            # models an instances rule scores before it weighs their rows
            models = self._fit_models(
                X, target, sample_weight, fit_sets(index), fittable
            )
        self.transferability_ = None
        weights = sparse.csr_array((T, T))
        responses = None
        if transfer:
            self.transferability_, responses = transferability(
                models,
                X,
                target,
                sample_weight,
                index,
                graph,
                scoring,
                self.n_jobs,
                name=self.scoring,
            )
            # a source without a model of its own cannot lend its predictions
            keep = fittable if transfers == "predictions" else np.ones(T, bool)
            weights = self._rule_weights(rule, graph, keep)
        self.source_weights_ = weights
        strength = None
        self.own_weights_ = np.ones(T)
        if transfers == "predictions" and is_clf:
            check_classes_per_task(index, target, weights, fittable)
        if transfers == "instances":
            if is_clf:
                check_classes_per_task(index, target, weights)
            strength = self._instance_strength(X, target, sample_weight, weights)
            sets = fit_sets(index, weights, strength if transfer else 0.0)
            models = self._fit_models(X, target, sample_weight, sets)
        elif transfers == "predictions" and transfer:
            self.own_weights_, strength = own_weights(
                self.strength,
                self.estimator,
                X,
                target,
                sample_weight,
                index,
                weights,
                responses,
                fittable,
                self.n_folds,
                self.n_jobs,
            )
        self.estimators_ = models
        self.strength_ = np.full(T, float(strength)) if transfer else None
        return self

    def _fit_models(self, X, target, sample_weight, sets, fittable=None):
        return fit_models(
            self.estimator,
            X,
            target.y,
            sample_weight,
            sets,
            self._index.labels,
            self.n_jobs,
            fittable,
        )

    def _rule_weights(self, rule, graph, keep):
        """The rule's source weights, validated, kept to the graph, normalised."""
        T = graph.shape[0]
        similarity = sparse.csr_array(graph @ sparse.diags_array(keep.astype(float)))
        with component_errors(rule):
            W = rule.source_weights(similarity, fill_unscored(self.transferability_))
        W = sparse.csr_array(check_source_weights(rule, W, (T, T)))
        allowed = sparse.csr_array(
            (np.ones(graph.nnz), graph.indices, graph.indptr), shape=graph.shape
        )
        W = sparse.csr_array(W.multiply(allowed) @ sparse.diags_array(keep * 1.0))
        W.eliminate_zeros()
        return normalize_rows(W)

    def _instance_strength(self, X, target, sample_weight, weights):
        """Weight of a source row of average weight, relative to a target row."""
        if self.strength != "auto":
            return float(self.strength)
        return choose_instance_strength(
            self.estimator,
            X,
            target,
            sample_weight,
            self._index,
            weights,
            self.n_folds,
            self.n_jobs,
        )

    # -- predict -----------------------------------------------------------------------
    def _weights_over_models(self, X, tasks):
        """Task index of ``X`` and each of its tasks' weights over the fitted models."""
        index, codes = self._predict_index(
            X,
            tasks,
            fallback="all rows are treated as one new task and predicted zero-shot "
            "from its nearest tasks",
        )
        if index is None:  # tasks missing: the rows as one new task
            index, codes = self._fit_index(None, X.shape[0]), np.array([-1])
        if self.tasks_.shape[0] == 1:
            codes = np.zeros(index.n_tasks, dtype=np.intp)
        unseen = np.flatnonzero(codes < 0)
        zero_shot = None
        if unseen.size:
            similarity, neighbors = self._locate(X, index, unseen)
            has_model = np.array([m is not None for m in self.estimators_])
            zero_shot = zero_shot_weights(
                similarity, neighbors, self.transfer_rule_, has_model
            )
        weights = mixture_weights(
            codes, self.own_weights_, self.source_weights_, zero_shot
        )
        return index, weights

    @with_one_blas_thread
    def _predict_outputs(self, X, tasks, *, labels):
        """Mixed responses of every row (and labels, for ``predict``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=False)
        index, weights = self._weights_over_models(X, tasks)
        return combine(
            self.estimators_,
            X,
            index,
            weights,
            getattr(self, "classes_", None),
            self._n_outputs,
            labels=labels,
        )

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
