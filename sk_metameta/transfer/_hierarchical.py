"""The hierarchical rule: each task's model is its posterior under a learned prior."""

from __future__ import annotations

import logging
import numbers
from typing import ClassVar

import numpy as np
from scipy import sparse

from ._empirical_bayes import (
    fit_learned_prior,
)
from ._linear import LinearTransferProblem, LinearTransferResult
from .base import BaseTransferRule, normalize_rows

__all__ = ["HierarchicalTransfer"]

logger = logging.getLogger(__name__)

_COVARIANCES = ("auto", "full", "diag", "spherical")


def _effective_weights(similarity, size) -> sparse.csr_array:
    """Each source's share of a target's prior mean: ``v_ta tr(P_a)``, normalised.

    ``size`` holds ``tr(P_a)`` of every source (its precision, in unit scale).
    """
    S = sparse.csr_array(similarity, dtype=float, copy=True)
    S.data = np.maximum(S.data, 0.0) * size[S.indices]
    return normalize_rows(S)


class HierarchicalTransfer(BaseTransferRule):
    """Each task's model is its posterior under a prior learned across all tasks.

    The task models are draws from a prior whose *mean is local* (the
    precision-weighted centre of the task's sources, weighted by similarity) and
    whose spread is learned from all tasks at once, by empirical Bayes:

    - the between-task covariance ``Psi`` of the models (intercept and
      coefficients: which of them vary between tasks, and by how much; full,
      diagonal or spherical);
    - the noise variance ``sigma^2`` of the rows;
    - heavy tails: each task has a scale ``tau_t`` (a Student-t prior), so that a
      task whose model sits far from its prior mean is shrunk less and, as a
      source, weighs less in its neighbours' prior means; the degrees of freedom
      are learned too.

    A task's model is then its posterior mean, closed form from its sufficient
    statistics: ``theta_t = m_t + Psi_t (G_t Psi_t + sigma^2 I)^-1 (g_t - G_t
    m_t)``. How much it is pulled toward its prior follows from the learned
    variances and from its own number of rows (``strength_``: the share of the
    prior in the posterior precision, from 0 to 1). It is the multilevel model of
    ``MixedLM`` with random intercept and slopes, made local and robust. See
    :mod:`sk_metameta.transfer._empirical_bayes` for the maths.

    The learned prior replaces the ridge penalty: ``alpha`` of
    :class:`~sk_metameta.TransferRegressor` is not applied to the task models.

    Parameters
    ----------
    covariance : {"auto", "full", "diag", "spherical"}, default="auto"
        Structure of ``Psi``; ``"auto"`` fits the full and the diagonal one and
        keeps the one of smaller Akaike information criterion.
    dof : "auto" or float > 0, default="auto"
        Degrees of freedom of the heavy-tailed prior: small is heavy-tailed,
        ``inf`` is Gaussian; ``"auto"`` learns it (between 0.5 and 100).
    max_iter : int >= 1, default=20
        Most SQUAREM cycles of the EM algorithm (about three EM steps each).
    tol : float > 0, default=1e-6
        Change of the parameters (relative, on a log scale for the variances)
        over one cycle that stops the algorithm.
    prior_covariance : float or array-like of shape (q, q), default=None
        Fix ``Psi`` instead of learning it (a number ``c`` means ``c`` times the
        identity, in the shared frame of the centred features).
    noise_variance : float > 0, default=None
        Fix ``sigma^2`` instead of learning it.
    locality : float > 0 or "auto", default=1.0
        Power of the similarities in the prior means: above 1 the nearest
        sources count more (for the Gaussian kernel, a power ``p`` is the
        bandwidth divided by ``sqrt(p)``); ``"auto"`` chooses among 0.25, 1
        and 4 by the marginal likelihood (three times the cost).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta import TransferRegressor
    >>> from sk_metameta.datasets import make_related_tasks
    >>> X, y, tasks = make_related_tasks(n_tasks=30, n_samples_per_task=12,
    ...                                  random_state=0)
    >>> model = TransferRegressor(transfer="hierarchical").fit(X, y, tasks=tasks)
    >>> model.prior_covariance_.shape  # intercept and 5 coefficients
    (6, 6)
    >>> bool(0.2 < model.noise_variance_ < 0.3)  # the noise has variance 0.25
    True
    >>> bool(((model.strength_ > 0) & (model.strength_ < 1)).all())
    True
    """

    name: ClassVar[str] = "hierarchical"
    summary: ClassVar[str] = (
        "Posterior under a local, heavy-tailed prior learned across tasks."
    )
    transfers: ClassVar[str] = "parameters"

    def __init__(
        self,
        covariance="auto",
        dof="auto",
        max_iter=20,
        tol=1e-6,
        prior_covariance=None,
        noise_variance=None,
        locality=1.0,
    ):
        self.locality = locality
        self.covariance = covariance
        self.dof = dof
        self.max_iter = max_iter
        self.tol = tol
        self.prior_covariance = prior_covariance
        self.noise_variance = noise_variance

    # -- parameters --------------------------------------------------------------------
    def _error(self, what):
        return ValueError(f"transfer rule 'hierarchical': {what}")

    def _check_params(self, q):
        if self.covariance not in _COVARIANCES:
            raise self._error(
                f"covariance must be one of {list(_COVARIANCES)}, got "
                f"{self.covariance!r}."
            )
        if not (
            self.dof == "auto" or (isinstance(self.dof, numbers.Real) and self.dof > 0)
        ):
            raise self._error(f"dof must be 'auto' or a number > 0, got {self.dof!r}.")
        for name in ("max_iter",):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise self._error(f"{name} must be an int >= 1, got {value!r}.")
        if not isinstance(self.tol, numbers.Real) or not self.tol > 0:
            raise self._error(f"tol must be a number > 0, got {self.tol!r}.")
        if not (
            self.locality == "auto"
            or (isinstance(self.locality, numbers.Real) and self.locality > 0)
        ):
            raise self._error(
                f"locality must be 'auto' or a number > 0, got {self.locality!r}."
            )
        return self._fixed_covariance(q), self._fixed_noise()

    def _fixed_covariance(self, q):
        if self.prior_covariance is None:
            return None
        value = np.asarray(self.prior_covariance, dtype=float)
        if value.ndim == 0:
            value = float(value) * np.eye(q)
        if value.shape != (q, q) or not np.isfinite(value).all():
            raise self._error(
                f"prior_covariance must be a number or a finite ({q}, {q}) array "
                f"(q = coefficients with the intercept), got shape {value.shape}."
            )
        value = 0.5 * (value + value.T)
        if np.linalg.eigvalsh(value).min() <= 0:
            raise self._error("prior_covariance must be positive definite.")
        return value

    def _fixed_noise(self):
        if self.noise_variance is None:
            return None
        if not isinstance(self.noise_variance, numbers.Real) or not (
            np.isfinite(self.noise_variance) and self.noise_variance > 0
        ):
            raise self._error(
                f"noise_variance must be a number > 0, got {self.noise_variance!r}."
            )
        return float(self.noise_variance)

    # -- the rule ----------------------------------------------------------------------
    def fit_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """Learn the prior from all tasks, then each task's posterior mean."""
        q = problem.stats.g.shape[1]
        fixed_covariance, fixed_noise = self._check_params(q)
        S = sparse.csr_array(problem.similarity, dtype=float)
        if S.nnz == 0:  # a single task: nothing to learn a prior from
            return LinearTransferResult(problem.own_coef(), S)
        dof = self.dof if self.dof == "auto" else float(self.dof)
        prior, mean, theta = fit_learned_prior(
            problem.stats,
            S,
            covariance=self.covariance,
            dof=dof,
            max_iter=self.max_iter,
            tol=self.tol,
            fixed_covariance=fixed_covariance,
            fixed_noise=fixed_noise,
            locality=self.locality,
        )
        logger.info(
            "learned prior of %d tasks: %s covariance, tail dof %.3g, noise variance "
            "%.4g, %d EM steps",
            problem.n_targets,
            prior.structure,
            prior.dof,
            prior.noise_variance,
            prior.n_iter,
        )
        return LinearTransferResult(
            theta,
            _effective_weights(S, prior.source_size),
            # the share of the prior in each task's posterior precision: 1 when
            # its rows say nothing, 0 when they say everything
            strength=prior.shrinkage,
            info={"prior": mean, "learned_prior": prior},
        )

    def zero_shot_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """The local prior mean of a new task, from its nearest fitted tasks."""
        prior = problem.learned_prior
        if prior is None:
            raise ValueError(
                "transfer rule 'hierarchical' predicts new tasks from the prior it "
                "learned in fit; the problem has none."
            )
        S = sparse.csr_array(problem.similarity, dtype=float)
        mean = prior.prior_mean(S, problem.source_stats)
        return LinearTransferResult(mean, _effective_weights(S, prior.source_size))
