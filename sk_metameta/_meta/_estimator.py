"""MetricMetaEstimator: one model of any kind per task, with transfer between tasks.

The estimator wraps any scikit-learn classifier or regressor. It fits one clone per
task (:mod:`._per_task`), places the tasks in a task space (task features and a
task metric, shared with every task estimator), scores every source task's model on
the labelled rows of the targets that may draw on it (the *transferability*,
:mod:`._responses`), and lets a transfer rule decide how much each source
contributes to each target: by adding the sources' rows, weighted, to the target's
fit (``"instances"``) or by mixing the sources' predictions with the target's own
(``"predictions"``, :mod:`._mixing`). How much (and, for a list of rules, by
which rule) is chosen on episodes drawn from the fitted tasks (:mod:`._episodes`,
:mod:`._strength`).
"""

from __future__ import annotations

import warnings
from copy import deepcopy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state, get_tags

from .._base import (
    TASK_PARAMETER_CONSTRAINTS,
    BaseTaskEstimator,
    atomic_fit,
)
from .._compat import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
    _fit_context,
)
from .._threads import with_one_blas_thread
from ._episodes import draw_episodes, episode_responses, locate_episodes
from ._inputs import candidate_rules, check_fit_data, uses_scores
from ._mixing import combine, mixture_weights, rule_weights
from ._offsets import task_offsets
from ._per_task import (
    check_classes_per_task,
    classes_per_task,
    feasible_rules,
    fit_models,
    fit_sets,
)
from ._predict import PredictionMixin
from ._responses import (
    episode_transferability,
    resolve_scoring,
    transferability,
    validate_once,
)
from ._strength import choose, own_weights

__all__ = ["MetricMetaEstimator"]


class MetricMetaEstimator(PredictionMixin, BaseTaskEstimator):
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

    How much to transfer is learned across tasks, not from a target's few rows:
    the settings the estimator chooses from data (``strength="auto"``, the
    temperature of ``"ensemble"``, the tasks' offsets, and for a list of rules
    the rule) are
    chosen once for all targets by the loss over *episodes* drawn from the
    fitted tasks. An episode keeps ``k`` rows of a task (``k`` the typical row
    count of the tasks with the fewest rows), hides the others, places the task
    among the other tasks from its visible rows alone, transfers to it and
    scores the transfer on its hidden rows: the few-shot situation, simulated
    where the truth is known (the splits of
    :class:`~sk_metameta.model_selection.FewShotSplit`).

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
    transfer : "auto", str, BaseTransferRule, type or list, default="auto"
        Transfer rule: a registered name (``"none"``, ``"ensemble"``,
        ``"instance"``, ``"select"``, or one a plugin adds), a rule instance or
        class; ``"auto"``, the rule that wins the benchmarks among those the
        estimator can use: ``"instance"`` when ``estimator.fit`` takes
        ``sample_weight``, ``"ensemble"`` otherwise; or a list of rules, each
        with its settings chosen on the episodes, the one of least loss on them
        fitted (``transfer_rule_``, ``episode_loss_``). ``"auto"`` and a list
        need ``strength="auto"``. Rules that transfer ``"parameters"`` are
        refused.
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
          ``"auto"`` chooses ``strength``, one value for all tasks, on a grid
          from 0 (own model alone) to infinity (sources alone): the one whose
          mixtures have the least loss over the episodes (the own model of an
          episode fitted on its visible rows). A rule given by name that has a
          ``temperature`` (``"ensemble"``: how sharply the sources' scores on
          the target's rows select them) gets its temperature chosen with it,
          among 0, 0.5, 1, 2 and 4;
        - instances rules: a source row weighs ``strength * w / mean(w)``
          relative to a target row, where ``w`` is its task's source weight and
          the mean is over the target's sources (0: the target's rows alone; 1:
          a source row of average weight counts as much as a target row); the
          weights of a fit are then scaled to average one, so that the
          estimator's regularisation acts on them as on that many rows.
          ``"auto"`` chooses ``strength``, one value for all tasks, on the
          episodes: each episode's visible rows plus its sources' rows are
          fitted with strengths of the grid 0.001, 0.003, 0.01, ..., 1 (every
          other one, then the one next to the best of those: four fits per
          episode) and predict its hidden rows; the strength of least loss,
          refined between grid points by a parabola, is chosen. The rule's own
          ``strength`` parameter is :class:`~sk_metameta.TransferRegressor`'s
          and is not used here;
        - ``"nothing"`` rules: unused.

        With ``"auto"`` each task's predictions also get an offset, fitted on
        its labelled rows and shrunk toward zero (``offsets_``), when the
        episodes find it helps: the pseudo-count of the offsets
        (``offset_strength_``) is chosen with the strength, among 0.5, 1, 2,
        5, 10, 20, 50 rows and infinity (no offset).

        The loss of an episode is the mean over its hidden rows of the log loss
        (a classifier with ``predict_proba``) or the squared error (the Brier
        score for a classifier without probabilities), and the episodes count
        the same.
    scoring : str or callable, default=None
        Evaluation metric of the transferability: a scikit-learn scorer name or a
        scorer ``scorer(estimator, X, y)`` (greater is better). ``None`` means
        ``"accuracy"`` for classifiers and ``"r2"`` for regressors.
    n_episodes : int, default=100
        Number of episodes that choose the data-chosen settings: the budget of
        ``strength="auto"``. An episode costs one fit of ``estimator`` on its
        visible rows (predictions rules) or four fits on its visible rows and
        its sources' rows (instances rules), wherever the tasks are many.
    n_folds : int, default="deprecated"
        Unused. The strengths are chosen on episodes (``n_episodes``), not by
        cross-fitting each task's rows.

        .. deprecated:: 0.2
           ``n_folds`` will be removed; setting it warns.
    n_jobs : int, default=None
        Number of joblib jobs for the per-task fits and the episodes; ``None``
        means 1 unless in a :func:`joblib.parallel_config` context (which can
        also switch the backend, to Dask for example). Every job runs with one
        BLAS thread.
    random_state : int, RandomState instance or None, default=None
        Seed of the episodes (which tasks, which visible rows). Pass an int for
        the same model on every fit.

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
        nothing, and with an instances rule whose source weights do not use
        scores (``"instance"`` alone).
    source_weights_ : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Weight of each source (column) for each target (row), from the transfer
        rule; each row sums to one, or is zero when the target draws on no source.
    strength_ : ndarray of shape (n_tasks,) or None
        The ``strength`` each task got: ``strength`` itself, or the value chosen
        with ``strength="auto"`` (one value for all tasks; for a predictions
        rule, the pseudo-count ``m`` of the own weights ``n_rows / (n_rows +
        m)``); ``None`` with a rule that transfers nothing or when no task may
        draw on another (a single task). With ``strength="auto"`` and no
        episode to draw (no task with sources and two rows), 1.
    episode_loss_ : dict or None
        Mean loss over the episodes of each rule considered (by name), at its
        chosen settings; ``None`` with a fixed ``strength`` or without
        episodes.
    own_weights_ : ndarray of shape (n_tasks,)
        Weight of each task's own model in its predictions (one except with a
        predictions rule; zero for a task without a model of its own).
    offsets_ : ndarray of shape (n_tasks, n_responses)
        Offset of each task's transferred predictions, fitted on its labelled
        rows: added to a regressor's predictions (one column per output), to
        the logarithm of a classifier's probabilities (one column per class of
        ``classes_``). Zero without offsets, and for tasks not seen in fit.
    offset_strength_ : float
        Pseudo-count of the offsets, in rows: a task with ``n`` rows keeps
        about ``n / (n + offset_strength_)`` of the shift its rows ask for;
        ``inf`` without offsets (a fixed ``strength``, or the episodes found
        none better).
    transfer_rule_ : BaseTransferRule
        The transfer rule fitted: the resolved ``transfer``, the one chosen by
        ``transfer="auto"`` or from a list, with its chosen temperature if it
        was chosen.
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

    The cost of a fit is one fit of ``estimator`` per task and one prediction of
    each source model on its targets' rows, plus the episodes (``n_episodes``,
    a fixed budget however many the tasks). An instances rule adds one fit per
    task on the target's and its sources' rows (the own models are then fitted
    only if the rule's weights use their scores, or for a list of rules with a
    predictions rule).
    Per-task fits, predictions and episodes run through joblib with one BLAS
    thread each: BLAS threads do not speed up many small fits, and on a busy
    machine waiting for them slows each fit down many times.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sk_metameta import MetricMetaEstimator
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=8, n_samples_per_task=10,
    ...                                  random_state=0)
    >>> model = MetricMetaEstimator(Ridge(), n_neighbors=3, random_state=0)
    >>> model = model.fit(X, y, tasks=tasks)
    >>> model.predict(X[:3], tasks=tasks[:3]).shape
    (3,)
    >>> model.source_weights_.shape, bool((model.source_weights_ > 0).sum(1).max() <= 3)
    ((8, 8), True)
    >>> model.score(X, y, tasks=tasks) > 0.5
    True

    ``transfer="auto"`` is ``"instance"`` for an estimator whose ``fit`` takes
    ``sample_weight``: every task is refitted on its rows plus its sources'
    rows, each source row weighing ``strength_`` (chosen on episodes) relative
    to a row of the task:

    >>> model.transfer_rule_.name, bool(0 < model.strength_[0] <= 1)
    ('instance', True)

    Given a list of rules, the episodes choose among them:

    >>> both = MetricMetaEstimator(Ridge(), transfer=["ensemble", "instance"],
    ...                            n_neighbors=3, random_state=0)
    >>> both = both.fit(X, y, tasks=tasks)
    >>> sorted(both.episode_loss_), both.transfer_rule_.name in both.episode_loss_
    (['ensemble', 'instance'], True)

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
        # a list of rules: the episodes choose among them
        "transfer": [*TASK_PARAMETER_CONSTRAINTS["transfer"], list, tuple],
        "strength": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "scoring": [str, callable, None],
        "n_episodes": [Interval(Integral, 1, None, closed="left")],
        "n_folds": [
            Interval(Integral, 2, None, closed="left"),
            Hidden(StrOptions({"deprecated"})),
        ],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        transfer="auto",
        task_features="moments",
        metric="euclidean",
        n_neighbors="auto",
        kernel="gaussian",
        bandwidth="median",
        strength="auto",
        scoring=None,
        n_episodes=100,
        n_folds="deprecated",
        n_jobs=None,
        random_state=None,
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
        self.n_episodes = n_episodes
        self.n_folds = n_folds
        self.n_jobs = n_jobs
        self.random_state = random_state

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
            Task label of each row; ``None`` means one task.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the per-task fits (which must accept them).

        Returns
        -------
        self : MetricMetaEstimator
            The fitted estimator.
        """
        if self.n_folds != "deprecated":
            warnings.warn(
                "n_folds is deprecated and unused: the strengths are chosen on "
                "episodes drawn from the source tasks (n_episodes). It will be "
                "removed in a future release.",
                FutureWarning,
                stacklevel=2,
            )
        rules = candidate_rules(self.transfer, self.strength, self.estimator)
        validate_once(self.estimator)
        X, target, sample_weight = check_fit_data(
            self, X, y, sample_weight, [rule for rule, _ in rules]
        )
        is_clf = target.classes is not None
        if is_clf:
            self.classes_ = target.classes
        else:
            self.__dict__.pop("classes_", None)
        self._y_ndim = target.y.ndim
        self._n_outputs = target.n_responses
        index = self._fit_index(tasks, X.shape[0])
        self._fit_task_space(X, target.numeric, index)
        graph = self.similarity_
        transfer = graph.nnz > 0 and any(r.transfers != "nothing" for r, _ in rules)
        # a classifier task with rows of one class has no model of its own: it
        # draws on its sources only (their predictions, or their rows)
        fittable = np.ones(index.n_tasks, dtype=bool)
        if is_clf and not transfer:
            check_classes_per_task(index, target)
        elif is_clf:
            fittable = classes_per_task(index, target.codes, len(target.classes)) >= 2
        # the tasks' own models: the fitted models, or the sources an instances
        # rule scores before it weighs their rows
        models = None
        if not transfer or any(
            r.transfers == "predictions" or uses_scores(r) for r, _ in rules
        ):
            models = self._fit_models(
                X, target, sample_weight, fit_sets(index), fittable
            )
        self.transferability_ = None
        if not transfer:
            self._set_transfer(rules[0][0], None, models, None)
            return self
        if is_clf:
            rules = feasible_rules(rules, index, target, graph, None, fittable)
        scoring = resolve_scoring(self.scoring, self.estimator, is_clf)
        episodes = None
        if self.strength == "auto":
            episodes = self._episodes(X, target, sample_weight, models, scoring)
        fit = {
            "index": index,
            "fittable": fittable,
            "n_jobs": self.n_jobs,
            "scores": None if episodes is None else episodes.scores,
        }
        fixed = None if self.strength == "auto" else self.strength
        choice, self.episode_loss_ = choose(
            rules, fixed, episodes, self.estimator, X, target, sample_weight, fit
        )
        self._apply(choice, X, target, sample_weight, models, fittable, scoring)
        return self

    def _apply(self, choice, X, target, sample_weight, models, fittable, scoring):
        """Fit the chosen rule: its scores, source weights, and models."""
        index, graph = self._index, self.similarity_
        is_clf = target.classes is not None
        rule = choice.rule
        if models is not None and (
            rule.transfers == "predictions" or uses_scores(rule)
        ):
            self.transferability_ = transferability(
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
        keep = fittable if rule.transfers == "predictions" else np.ones_like(fittable)
        weights = rule_weights(rule, graph, self.transferability_, keep)
        if rule.transfers == "instances":
            if is_clf:
                check_classes_per_task(index, target, weights)
            sets = fit_sets(index, weights, choice.strength)
            models = self._fit_models(X, target, sample_weight, sets)
        elif is_clf:
            check_classes_per_task(index, target, weights, fittable)
        self._set_transfer(rule, weights, models, choice.strength, fittable)
        self.offset_strength_ = choice.offset
        if np.isfinite(choice.offset):
            self.offsets_ = self._fit_offsets(X, target, sample_weight, choice.offset)

    def _fit_offsets(self, X, target, sample_weight, m):
        """Each task's offset, fitted on its rows' transferred predictions."""
        index = self._index
        weights = mixture_weights(
            np.arange(index.n_tasks), self.own_weights_, self.source_weights_
        )
        classes = getattr(self, "classes_", None)
        response = combine(
            self.estimators_, X, index, weights, classes, self._n_outputs, labels=False
        )[0]
        truth = target.responses(np.arange(X.shape[0]))
        log = classes is not None
        return task_offsets(
            response, truth, index.codes, index.n_tasks, m, sample_weight, log=log
        )

    def _episodes(self, X, target, sample_weight, models, scoring):
        """Episodes drawn from the fitted tasks, placed and scored as targets.

        ``None`` when no task with sources has two rows.
        """
        index = self._index
        has_sources = np.diff(self.similarity_.indptr) > 0
        rng = check_random_state(self.random_state)
        episodes = draw_episodes(index, has_sources, self.n_episodes, rng)
        if episodes is None:
            return None
        locate_episodes(self._space, X, target.numeric, index, episodes)
        episodes.scores = None
        if models is not None:
            episode_responses(models, X, target.classes, episodes, self.n_jobs)
            episodes.scores = episode_transferability(
                episodes, models, X, target, sample_weight, scoring, self.scoring
            )
        return episodes

    def _set_transfer(self, rule, weights, models, strength, fittable=None):
        """The fitted attributes of the transfer: rule, weights, models, strength."""
        T = self._index.n_tasks
        self.transfer_rule_ = rule
        self.source_weights_ = sparse.csr_array((T, T)) if weights is None else weights
        self.estimators_ = models
        self.own_weights_ = np.ones(T)
        self.offsets_ = np.zeros((T, self._n_outputs))
        self.offset_strength_ = np.inf
        if strength is None:
            self.strength_ = None
            self.episode_loss_ = None
            return
        self.strength_ = np.full(T, float(strength))
        if rule.transfers == "predictions":
            self.own_weights_ = own_weights(strength, self._index, weights, fittable)

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
