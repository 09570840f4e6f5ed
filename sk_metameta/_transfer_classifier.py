"""TransferClassifier: one logistic model per task under a prior learned across tasks.

All tasks are fitted at once by batched Newton steps (see
:mod:`sk_metameta._logistic`): no loop over tasks in Python.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import TASK_PARAMETER_CONSTRAINTS, BaseTaskEstimator, atomic_fit
from ._compat import Interval, _check_sample_weight, _fit_context
from ._components import resolve_transfer_rule
from ._logistic import _probabilities, fit_logistic_tasks
from ._tasks import _plain
from ._threads import with_one_blas_thread
from .transfer._empirical_bayes import local_prior_mean, source_summaries
from .transfer._hierarchical import HierarchicalTransfer, _effective_weights
from .transfer._linear import Frame, RowData

__all__ = ["TransferClassifier"]

logger = logging.getLogger(__name__)

#: Prior variance of an intercept "left free" (logit units): so weak a penalty
#: that it does not matter, and the Newton systems stay well conditioned.
_FREE = 1e4


class TransferClassifier(ClassifierMixin, BaseTaskEstimator):
    """Logistic regression per task, under a prior learned across all tasks.

    The classifier peer of :class:`~sk_metameta.TransferRegressor`. Every task
    (the rows sharing a ``tasks`` label) gets a logistic regression model
    (binary, or multinomial for more classes), and all of them are fitted at
    once by batched Newton steps. With the default ``transfer="hierarchical"``
    the models are draws from a prior learned from all tasks (empirical Bayes,
    the Laplace approximation of the logistic likelihood): a local prior mean
    from each task's sources (weighted by task similarity and by how precisely
    their rows determine their models), a between-task covariance of the
    coefficients (shared by the classes), and heavy tails; each task's model is
    its posterior mode. How much a task is pulled toward its sources follows
    from the learned covariance and its own rows (``strength_``). With
    ``transfer="none"`` every task is a ridge logistic regression on its own
    rows (``C`` as in :class:`~sklearn.linear_model.LogisticRegression`).

    ``classes_`` are the classes of all tasks: a task that saw fewer classes
    (even one) still gives every class a probability. A task not seen in fit
    gets its local prior mean (zero-shot), found from X-only task features.
    With ``tasks=None`` all rows are one task and the estimator is
    :class:`~sklearn.linear_model.LogisticRegression` with the same ``C``.

    Parameters
    ----------
    transfer : {"hierarchical", "none"} or HierarchicalTransfer, default="hierarchical"
        The learned prior (an instance sets its ``covariance`` and ``dof``;
        ``covariance="auto"`` means ``"full"`` here), or no transfer.
    task_features : str, BaseTaskFeatures or callable, default="moments"
        Task feature extractor (see :class:`~sk_metameta.TransferRegressor`).
    metric : str, BaseTaskMetric or callable, default="euclidean"
        Task metric.
    n_neighbors : int, "auto" or None, default="auto"
        Number of nearest sources of each task.
    kernel : {"gaussian", "laplacian", "inverse", "uniform"} or callable, \
            default="gaussian"
        Kernel from task distances to similarities.
    bandwidth : float or {"median", "mean"}, default="median"
        Kernel scale.
    C : float > 0, default=1.0
        Inverse strength of the ridge penalty of ``transfer="none"`` and of a
        single task, as in :class:`~sklearn.linear_model.LogisticRegression`
        (the intercept gets a negligible penalty, a prior variance of 1e4).
    fit_intercept : bool, default=True
        Whether the models have intercepts.
    max_iter : int >= 1, default=100
        Most Newton (and EM) iterations.
    tol : float > 0, default=1e-6
        Stop when no coefficient (and no log-variance of the prior) moves more.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels of all tasks.
    coef_ : ndarray of shape (n_tasks, n_models, n_features)
        Coefficients of each task's model (``n_models`` is 1 for two classes,
        the logit of ``classes_[1]``, else ``n_classes``).
    intercept_ : ndarray of shape (n_tasks, n_models)
        Their intercepts.
    prior_coef_ : ndarray of shape (n_tasks, n_models, n_features) or None
        Each task's prior mean (``"hierarchical"``).
    prior_intercept_ : ndarray of shape (n_tasks, n_models) or None
        Its intercepts.
    prior_covariance_ : ndarray of shape (q, q) or None
        Between-task covariance of each class's model learned by
        ``"hierarchical"``, in the shared frame (intercept at the mean of the
        training rows, then the features).
    strength_ : ndarray of shape (n_tasks,) or None
        Share of the prior in each task's posterior precision (0 to 1), with
        ``"hierarchical"``.
    n_iter_ : int
        Newton iterations taken.
    tasks_, task_features_, neighbors_, neighbor_distances_, n_neighbors_, \
task_distances_, similarity_, source_weights_, transferability_, \
own_weights_, bandwidth_, transfer_rule_, metric_, task_feature_extractor_
        As in :class:`~sk_metameta.TransferRegressor` (``transferability_`` and
        ``own_weights_`` are ``None``).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in fit, when ``X`` has string column names.

    See Also
    --------
    sk_metameta.TransferRegressor : The same for regression.
    sk_metameta.MetricMetaEstimator : Transfer for any scikit-learn classifier.

    Examples
    --------
    >>> from sk_metameta import TransferClassifier
    >>> from sk_metameta.datasets import load_contraception
    >>> X, y, district = load_contraception(return_X_y_tasks=True)
    >>> model = TransferClassifier().fit(X, y, tasks=district)
    >>> model.classes_.tolist(), model.coef_.shape
    ([0, 1], (60, 1, 3))
    >>> model.predict_proba(X[:2], tasks=district[:2]).shape
    (2, 2)
    >>> bool(0 < model.strength_.min() <= model.strength_.max() < 1)
    True
    """

    __metadata_request__predict_proba: ClassVar[dict] = {"tasks": True}
    __metadata_request__predict_log_proba: ClassVar[dict] = {"tasks": True}
    __metadata_request__decision_function: ClassVar[dict] = {"tasks": True}

    _parameter_constraints: ClassVar[dict] = {
        **TASK_PARAMETER_CONSTRAINTS,
        "C": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        transfer="hierarchical",
        task_features="moments",
        metric="euclidean",
        n_neighbors="auto",
        kernel="gaussian",
        bandwidth="median",
        C=1.0,
        fit_intercept=True,
        max_iter=100,
        tol=1e-6,
    ):
        self.transfer = transfer
        self.task_features = task_features
        self.metric = metric
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags

    # -- fit ---------------------------------------------------------------------------
    def _check_rule(self):
        rule = resolve_transfer_rule(self.transfer)
        if rule.name not in ("hierarchical", "none") and not isinstance(
            rule, HierarchicalTransfer
        ):
            raise ValueError(
                f"transfer={self.transfer!r}: TransferClassifier fits logistic "
                "models under a learned prior ('hierarchical') or alone ('none'); "
                "for the rule "
                f"{rule.name!r}, use sk_metameta.MetricMetaEstimator("
                "LogisticRegression(), transfer=...)."
            )
        return rule

    def _fixed_prior(self, q):
        """Per-task ridge: the slopes' prior variance ``C``, a free intercept."""
        variances = np.full(q, float(self.C))
        if self.fit_intercept:
            variances[0] = _FREE
        return np.diag(variances)

    @_fit_context(prefer_skip_nested_validation=False)
    @atomic_fit
    @with_one_blas_thread
    def fit(self, X, y, tasks=None, sample_weight=None):
        """Fit one logistic model per task, under a prior learned across tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of all tasks.
        y : array-like of shape (n_samples,)
            Class labels.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row; ``None`` means one task.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(self, X, y, multi_output=False)
        check_classification_targets(y)
        try:
            classes, codes = np.unique(y, return_inverse=True)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in np.ravel(y)})
            raise ValueError(
                f"y mixes class labels of types {', '.join(kinds)}, which cannot be "
                "sorted; give labels that are all strings or all numbers."
            ) from None
        if classes.shape[0] < 2:
            raise ValueError(
                "TransferClassifier needs samples of at least 2 classes in the "
                f"data; got one class: {_plain(classes[0])!r}."
            )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=float, ensure_non_negative=True
        )
        rule = self._check_rule()
        index = self._fit_index(tasks, X.shape[0])
        self.classes_ = classes
        self.transfer_rule_ = rule
        learn = rule.name != "none" and index.n_tasks > 1
        self._fit_task_space(X, codes.astype(float), index, search=learn)
        self._frame = Frame.of(X, sample_weight, self.fit_intercept)
        Z = self._frame.design(X)
        rows = RowData(
            Z, codes.astype(float), sample_weight, index.codes, index.n_tasks
        )
        q = Z.shape[1]
        if learn:
            rule._check_params(q)
            covariance = "full" if rule.covariance == "auto" else rule.covariance
            theta, mean, prior = fit_logistic_tasks(
                rows,
                classes.shape[0],
                self.similarity_,
                covariance=covariance,
                dof=rule.dof,
                max_iter=self.max_iter,
                tol=self.tol,
            )
        else:
            self._check_two_classes(index, codes)
            theta, mean, prior = fit_logistic_tasks(
                rows,
                classes.shape[0],
                sparse.csr_array((index.n_tasks, index.n_tasks)),
                max_iter=self.max_iter,
                tol=self.tol,
                fixed_covariance=self._fixed_prior(q),
            )
        self._set_models(theta, mean, prior, learn, q)
        logger.info(
            "fitted %d logistic task models (%d classes) in %d Newton steps",
            index.n_tasks,
            classes.shape[0],
            prior.n_iter,
        )
        return self

    def _check_two_classes(self, index, codes):
        """Without a prior, a task's own rows must hold two classes."""
        if index.n_tasks == 1:
            return
        present = np.zeros((index.n_tasks, self.classes_.shape[0]), dtype=bool)
        present[index.codes, codes] = True
        bad = np.flatnonzero(present.sum(axis=1) < 2)
        if bad.size:
            names = ", ".join(repr(_plain(index.labels[t])) for t in bad[:5])
            raise ValueError(
                f"{bad.size} task(s) have rows of one class only: {names}; without "
                "transfer a task's logistic model needs two classes. Use "
                "transfer='hierarchical' (the task leans on its sources) or give "
                "every task rows of two classes."
            )

    def _set_models(self, theta, mean, prior, learn, q):
        T, Kp = theta.shape[:2]
        self._theta, self._prior = theta, prior
        self.n_iter_ = prior.n_iter
        self.coef_, self.intercept_ = self._frame.to_original(theta)
        self.transferability_ = None
        self.own_weights_ = None
        if learn:
            self.prior_coef_, self.prior_intercept_ = self._frame.to_original(mean)
            self.prior_covariance_ = prior.covariance
            Psi_t = prior.task_covariance(Kp)
            P, _, Minv = source_summaries(prior.stats, Psi_t, 1.0)
            self.strength_ = np.clip(
                np.trace(Minv, axis1=1, axis2=2) / (Kp * q), 0.0, 1.0
            )
            size = np.trace(P, axis1=1, axis2=2)
            self.source_weights_ = _effective_weights(self.similarity_, size)
        else:
            self.prior_coef_ = self.prior_intercept_ = self.prior_covariance_ = None
            self.strength_ = None
            self.source_weights_ = sparse.csr_array((T, T))

    # -- predict -----------------------------------------------------------------------
    def _zero_shot(self, X, index, unseen):
        """Prior means of tasks not seen in fit, from their nearest fitted tasks."""
        S, _ = self._locate(X, index, unseen)
        prior = self._prior
        Kp, q = self._theta.shape[1:]
        used = np.unique(S.indices)
        P = np.zeros((self._theta.shape[0], Kp * q, Kp * q))
        u = np.zeros((self._theta.shape[0], Kp * q))
        if used.size:
            P[used], u[used], _ = source_summaries(
                prior.stats.take(used),
                prior.task_covariance(Kp, prior.scale[used]),
                1.0,
            )
        return local_prior_mean(S, P, u).reshape(-1, Kp, q)

    def _models(self, X, tasks, *, covariance=False):
        """Each row's model in the shared frame, shape ``(n_samples, K', q)``.

        With ``covariance=True`` also the variance of each row's logits under
        its task's posterior (the prior's for a new task), ``(n_samples, K')``.
        """
        X = validate_data(self, X, reset=False)
        index, codes = self._predict_index(
            X,
            tasks,
            fallback="all rows are treated as one new task and predicted zero-shot "
            "from its nearest tasks",
        )
        if index is None:
            index, codes = self._fit_index(None, X.shape[0]), np.array([-1])
        if self._single_task or self.tasks_.shape[0] == 1:
            codes = np.zeros(index.n_tasks, dtype=np.intp)
        theta = np.empty((index.n_tasks, *self._theta.shape[1:]))
        seen = codes >= 0
        theta[seen] = self._theta[codes[seen]]
        if not seen.all():
            theta[~seen] = self._zero_shot(X, index, np.flatnonzero(~seen))
        Z = self._frame.design(X)
        if not covariance:
            return Z, theta[index.codes]
        C = self._posterior_covariance(codes)  # (n_tasks, K', q, q)
        variance = np.einsum("iq,ikqr,ir->ik", Z, C[index.codes], Z)
        return Z, theta[index.codes], np.maximum(variance, 0.0)

    def _posterior_covariance(self, codes):
        """Covariance of each class's model of each task (prior for new tasks)."""
        prior = self._prior
        Kp, q = self._theta.shape[1:]
        out = np.empty((codes.shape[0], Kp, q, q))
        out[codes < 0] = prior.covariance
        seen = np.flatnonzero(codes >= 0)
        if seen.size:
            stats = prior.stats.take(codes[seen])
            Psi_t = prior.task_covariance(Kp, prior.scale[codes[seen]])
            M = stats.G @ Psi_t + np.eye(Kp * q)
            C = (Psi_t @ np.linalg.inv(M)).reshape(seen.size, Kp, q, Kp, q)
            out[seen] = np.einsum("tkakb->tkab", C)
        return out

    @with_one_blas_thread
    def decision_function(self, X, tasks=None):
        """Logits of each row under its task's model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row (new tasks are scored zero-shot).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The logit of ``classes_[1]`` for two classes, else one score per
            class.
        """
        check_is_fitted(self)
        Z, theta = self._models(X, tasks)
        eta = np.einsum("iq,ikq->ik", Z, theta)
        return eta[:, 0] if eta.shape[1] == 1 else eta

    @with_one_blas_thread
    def predict_proba(self, X, tasks=None):
        """Probability of each class of ``classes_`` under each row's task model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)

        Notes
        -----
        With a learned prior the probabilities are the posterior predictive:
        each logit is moderated by its variance ``s^2`` under the task's
        posterior, ``eta / sqrt(1 + pi s^2 / 8)`` (MacKay's approximation), so
        a task with few rows predicts less confidently than its posterior mode
        (:meth:`decision_function`) would. Without transfer they are those of
        the fitted models.
        """
        check_is_fitted(self)
        if self.prior_covariance_ is None:
            Z, theta = self._models(X, tasks)
            eta = np.einsum("iq,ikq->ik", Z, theta)
        else:
            # the posterior predictive: each logit moderated by its uncertainty
            # (MacKay's approximation of the logistic-normal integral)
            Z, theta, variance = self._models(X, tasks, covariance=True)
            eta = np.einsum("iq,ikq->ik", Z, theta)
            eta = eta / np.sqrt(1.0 + np.pi * variance / 8.0)
        if eta.shape[1] == 1:
            p = _probabilities(eta, True)
            return np.column_stack([1.0 - p, p])
        return _probabilities(eta, False)

    def predict_log_proba(self, X, tasks=None):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X, tasks=tasks))

    def predict(self, X, tasks=None):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X, tasks=tasks)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, tasks=None, sample_weight=None):
        """Accuracy of :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test rows.
        y : array-like of shape (n_samples,)
            True labels.
        tasks : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        from sklearn.metrics import accuracy_score

        y_pred = self.predict(X, tasks=tasks)
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))
