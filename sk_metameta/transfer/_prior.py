"""The biased-regularisation rule: each task pulled toward a prior from its sources.

Notation as in :mod:`._rules`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import sparse

from ._linear import LinearTransferProblem, LinearTransferResult
from ._rules import EnsembleTransfer, _check_real
from .base import BaseTransferRule, _relative_to_mean, normalize_rows

__all__ = ["DEFAULT_STRENGTHS", "PriorTransfer"]

#: Intercept ratios searched with ``intercept_ratio="auto"``.
INTERCEPT_RATIOS = (0.01, 0.03, 0.1, 0.3, 1.0)

# Targets on which intercept_ratio="auto" is chosen, at most.
_RATIO_TARGETS = 300


def _ratio_scale(problem, ratio):
    """The prior metric with the intercept's entry multiplied by ``ratio``."""
    scale = problem.scale.copy()
    if problem.fit_intercept:
        scale[0, 0] *= max(ratio, 1e-8)
    return scale


#: Default grid of prior strengths ``lam`` (in rows) searched per target.
DEFAULT_STRENGTHS = np.concatenate(([0.0], np.logspace(-2, 5, 15)))


class PriorTransfer(BaseTransferRule):
    """Biased regularisation toward a similarity-weighted prior fitted on the sources.

    Each target ``b`` gets a *prior* model ``theta0_b``: the ridge fit (penalty
    ``alpha``) on the rows of its nearest sources pooled together, a row of
    source ``a`` weighing ``v_ab / mean_a'(v_a'b)`` (a pooled fit is far less
    noisy than an average of per-task coefficients fitted on few rows each). The
    source weights ``v_ab`` combine the similarity ``s_ab`` with how well the
    source's own model scores on the target's labelled rows, as in
    :class:`EnsembleTransfer`: ``v_ab = s_ab * exp(temperature * (t_ab -
    max_a' t_a'b) / spread_b)`` with ``t_ab`` minus the source model's mean
    squared error on the target's rows and ``spread_b`` their standard deviation
    over the target's sources; ``temperature=0`` (and a target without rows, as
    at zero-shot prediction) uses the similarities alone. The target's model
    then minimises

    ``sum_i u_i (y_i - c - x_i @ w)^2 + alpha * ||w||^2
    + strength * intercept_ratio * [(c - c0) + mu @ (w - w0)]^2
    + strength * (w - w0)^T Sigma (w - w0)``

    over its own rows ``i`` (sample weights ``u_i``), where ``theta0_b = (c0, w0)``
    is the prior, ``mu`` and ``Sigma`` the weighted mean and covariance of ``X``
    over all training rows (without intercept: no intercept term, and ``Sigma``
    the uncentred second moments). With ``intercept_ratio=1`` the penalty is the
    squared error of the target's model against the prior's over the training
    distribution of ``X``: ``strength`` counts like ``strength`` rows labelled
    by the prior, whatever the units of ``X``, and the intercept (the prediction
    at ``mu``) is shrunk consistently with the coefficients. For standardised
    ``X`` (``mu = 0``, ``Sigma = I``) the coefficient part is exactly
    ``strength * ||w - w0||^2`` (``strength`` multiplies the squared norm; it is
    not squared). ``strength = 0`` is the target's own ridge fit; as
    ``strength`` grows the model tends to the prior.

    Tasks usually differ more in their level than in their slopes (a random
    intercept is the first term of a multilevel model): ``intercept_ratio``
    below 1 lets the intercept move more freely than the coefficients. With
    ``strength="auto"``, ``intercept_ratio="auto"`` chooses it, one value for all
    tasks, from ``(0.01, 0.03, 0.1, 0.3, 1)`` by the summed criterion below (on
    at most 300 targets drawn at random with a fixed seed); with a fixed
    ``strength``, or a model without intercept, ``"auto"`` means 1.

    With ``strength="auto"`` each target gets the strength of ``strengths`` with
    the smallest generalised cross-validation (``criterion="gcv"``, from the
    target's statistics alone) or exact leave-one-out (``"loo"``, from its rows)
    error, closed form for all strengths at once from one eigendecomposition per
    target. A target's own rows are few, so its criterion is smoothed toward
    the criterion of all targets: it is ``(E_b(lam) + smoothing * e(lam)) /
    (n_b + smoothing)``, with ``E_b`` the target's cross-validated squared
    errors summed over its ``n_b`` rows (``n_b`` times its GCV score, or its
    leave-one-out squared errors) and ``e`` the same per row over all targets'
    rows. The strength thus adapts to
    the target when its rows say so clearly (a target unrelated to its sources,
    whose own error grows fast with ``lam``, falls back toward its own fit: 0 is
    in the grid); for small targets it is shared, as the variance components of
    a multilevel model are. Because ``lam`` counts rows, the same ``lam`` pulls
    a target with few rows harder toward its prior than one with many.

    Parameters
    ----------
    strength : "auto" or float >= 0, default="auto"
        The prior strength ``lam`` (in rows), or ``"auto"`` to choose it per
        target.
    criterion : {"gcv", "loo"}, default="gcv"
        Criterion of ``strength="auto"``: generalised cross-validation or exact
        leave-one-out (close to each other; ``"loo"`` costs one more pass over
        the rows).
    strengths : array-like of float >= 0, default=None
        Grid of ``strength="auto"``; default ``0`` and 15 values from ``1e-2``
        to ``1e5`` evenly spaced on a log scale.
    smoothing : float >= 0, default=300.0
        Pseudo-rows of the smoothing of each target's criterion toward all
        targets' (see above); 0 uses each target's own criterion alone.
    intercept_ratio : "auto" or float >= 0, default="auto"
        Multiplier of ``strength`` for the intercept term of the penalty;
        ``"auto"`` is chosen from data with ``strength="auto"`` and is 1
        otherwise.
    temperature : float >= 0, default=1.0
        How much the sources' scores on the target's rows weigh in the prior's
        source weights (see above); 0 uses the similarities alone.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta import TransferRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> tasks = np.repeat([0, 1, 2], 20)
    >>> y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=60)
    >>> model = TransferRegressor(transfer=PriorTransfer(strength=5.0))
    >>> model.fit(X, y, tasks=tasks).coef_.round(1).tolist()
    [[0.9, -0.9], [1.0, -1.0], [0.9, -1.0]]
    """

    name: ClassVar[str] = "prior"
    summary: ClassVar[str] = (
        "Ridge pulled toward a similarity-weighted pooled fit of the sources."
    )
    transfers: ClassVar[str] = "parameters"

    def __init__(
        self,
        strength="auto",
        criterion="gcv",
        strengths=None,
        smoothing=300.0,
        intercept_ratio="auto",
        temperature=1.0,
    ):
        self.strength = strength
        self.criterion = criterion
        self.strengths = strengths
        self.smoothing = smoothing
        self.intercept_ratio = intercept_ratio
        self.temperature = temperature

    def _grid(self):
        """The strengths to choose from and the criterion."""
        if self.criterion not in ("gcv", "loo"):
            raise ValueError(
                "transfer rule 'prior': criterion must be 'gcv' or 'loo', got "
                f"{self.criterion!r}."
            )
        if isinstance(self.strength, str):
            if self.strength != "auto":
                raise ValueError(
                    "transfer rule 'prior': strength must be 'auto' or a number "
                    f">= 0, got {self.strength!r}."
                )
            grid = (
                DEFAULT_STRENGTHS
                if self.strengths is None
                else np.asarray(self.strengths, dtype=float).ravel()
            )
            if grid.size == 0 or not np.isfinite(grid).all() or (grid < 0).any():
                raise ValueError(
                    "transfer rule 'prior': strengths must be a non-empty list of "
                    f"finite numbers >= 0, got {self.strengths!r}."
                )
            return np.unique(grid), self.criterion
        strength = _check_real(self.strength, "strength", self.name)
        return np.array([strength]), self.criterion

    def prior(self, problem: LinearTransferProblem):
        """The prior model of each target and the source weights behind it.

        Returns
        -------
        prior : ndarray of shape (n_targets, q)
        weights : scipy.sparse.csr_array of shape (n_targets, n_sources)
            Normalised source weights (rows sum to one, or zero without sources).
        """
        S = sparse.csr_array(problem.similarity)
        temperature = _check_real(self.temperature, "temperature", self.name)
        if temperature > 0 and problem.stats.n.any():
            W = EnsembleTransfer(temperature=temperature).source_weights(
                S, problem.transferability()
            )
        else:
            W = normalize_rows(S)
        return problem.pooled_coef(_relative_to_mean(W)), W

    def fit_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """Ridge fits pulled toward the priors, strengths chosen per target."""
        grid, criterion = self._grid()
        smoothing = _check_real(self.smoothing, "smoothing", self.name)
        prior, W = self.prior(problem)
        has = np.asarray(W.sum(axis=1)).ravel() > 0
        if problem.rows is None:
            criterion = "gcv"
        ratio = self._intercept_ratio(problem, prior, has, grid, criterion, smoothing)
        coef, lam, _ = problem.prior_fit(
            prior,
            grid,
            has_prior=has,
            criterion=criterion,
            pseudo_rows=smoothing,
            scale=_ratio_scale(problem, ratio),
        )
        return LinearTransferResult(
            coef, W, strength=lam, info={"prior": prior, "intercept_ratio": ratio}
        )

    def _intercept_ratio(self, problem, prior, has, grid, criterion, smoothing):
        """The fixed ratio, or the one of INTERCEPT_RATIOS with least total error."""
        if not isinstance(self.intercept_ratio, str):
            return _check_real(self.intercept_ratio, "intercept_ratio", self.name)
        if self.intercept_ratio != "auto":
            raise ValueError(
                "transfer rule 'prior': intercept_ratio must be 'auto' or a number "
                f">= 0, got {self.intercept_ratio!r}."
            )
        if not problem.fit_intercept or grid.size == 1 or not has.any():
            return 1.0
        # the ratio is shared by all targets: choose it on at most _RATIO_TARGETS
        targets = np.flatnonzero(has)
        if targets.size > _RATIO_TARGETS:
            rng = np.random.default_rng(0)
            targets = np.sort(rng.choice(targets, _RATIO_TARGETS, replace=False))
        sub = problem.subset(targets)
        errors = [
            sub.prior_fit(
                prior[targets],
                grid,
                criterion=criterion,
                pseudo_rows=smoothing,
                scale=_ratio_scale(sub, ratio),
            )[2]
            for ratio in INTERCEPT_RATIOS
        ]
        return float(INTERCEPT_RATIOS[int(np.argmin(errors))])

    def zero_shot_linear(self, problem):
        """The prior itself (a target without rows follows its prior)."""
        prior, W = self.prior(problem)
        return LinearTransferResult(prior, W)
