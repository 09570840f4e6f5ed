"""The built-in transfer rules.

Notation of the formulas below: target task ``b``, source task ``a``; ``s_ab`` the
similarity of ``b`` to ``a`` (a kernel of their distance, in ``[0, 1]``, zero
outside ``b``'s nearest sources; a *similarity*, never a distance);
``theta_a = (c_a, w_a)`` the model of task ``a`` fitted alone by ridge (intercept
``c_a``, coefficients ``w_a``); ``alpha`` the ridge penalty of
:class:`~sk_metameta.TransferRegressor`.
"""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
from scipy import sparse

from ._linear import LinearTransferProblem, LinearTransferResult
from .base import BaseTransferRule, _relative_to_mean, normalize_rows

__all__ = [
    "AdditiveTransfer",
    "EnsembleTransfer",
    "InstanceTransfer",
    "InterpolateTransfer",
    "PriorTransfer",
    "SelectTransfer",
]

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


def _check_real(value, name, rule, *, low=0.0, high=None):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(
            f"transfer rule {rule!r}: {name} must be a finite number {bound}, got "
            f"{value!r}."
        )
    return float(value)


def _dense_or_sparse(similarity, transferability):
    """Similarity and transferability as CSR arrays with the same entries."""
    was_sparse = sparse.issparse(similarity)
    S = sparse.csr_array(similarity, dtype=float)
    S.sort_indices()
    if transferability is None:
        return S, None, was_sparse
    if sparse.issparse(transferability):
        T = sparse.csr_array(transferability, dtype=float)
        T.sort_indices()
        # the scores on the entries of S (absent scores are NaN)
        Tv = np.full(S.data.shape, np.nan)
        rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
        key_s = rows * S.shape[1] + S.indices
        t_rows = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))
        key_t = t_rows * T.shape[1] + T.indices
        pos = np.searchsorted(key_t, key_s)
        pos = np.clip(pos, 0, max(key_t.shape[0] - 1, 0))
        if key_t.shape[0]:
            found = key_t[pos] == key_s
            Tv[found] = T.data[pos[found]]
    else:
        Tdense = np.asarray(transferability, dtype=float)
        rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
        Tv = Tdense[rows, S.indices]
    return S, Tv, was_sparse


def _output(S, data, was_sparse):
    W = sparse.csr_array((data, S.indices, S.indptr), shape=S.shape)
    W.eliminate_zeros()
    return W if was_sparse else W.toarray()


def _segment_reduce(ufunc, values, indptr, empty):
    """``ufunc.reduce`` of each CSR row's values (``empty`` for empty rows)."""
    out = np.full(indptr.shape[0] - 1, empty, dtype=float)
    counts = np.diff(indptr)
    nonempty = counts > 0
    if values.shape[0]:
        out[nonempty] = ufunc.reduceat(values, indptr[:-1][nonempty])
    return out


class AdditiveTransfer(BaseTransferRule):
    """The textbook additive rule: add the similarity-weighted sources' coefficients.

    ``w_b_new = w_b + strength * sum_a s_ab * w_a``

    with ``s_ab`` the *similarity* of target ``b`` to source ``a`` (the textbook
    writes the distance ``d_AB`` but computes a similarity; multiplying by a
    distance would favour the farthest tasks). With ``normalize=True`` the
    ``s_ab`` of each target are first divided by their sum. The update applies to
    the coefficients; each task's intercept is then the least-squares intercept
    of its rows for the new coefficients, ``ybar_b - xbar_b @ w_b_new`` (weighted
    means of the task's rows). It adds parameters rather than averaging them,
    which inflates them as sources accumulate: it is kept for reference;
    :class:`InterpolateTransfer` and :class:`PriorTransfer` are the rules to use.

    Parameters
    ----------
    strength : float >= 0, default=0.1
        The ``strength`` (textbook ``alpha``) multiplying the sum.
    normalize : bool, default=True
        Divide each target's similarities by their sum first.

    Examples
    --------
    >>> AdditiveTransfer(normalize=False).source_weights([[0.0, 0.5]]).tolist()
    [[0.0, 0.5]]
    """

    name: ClassVar[str] = "additive"
    summary: ClassVar[str] = (
        "Textbook rule w_b + strength * sum_a s_ab w_a (s a similarity)."
    )
    transfers: ClassVar[str] = "parameters"

    def __init__(self, strength=0.1, normalize=True):
        self.strength = strength
        self.normalize = normalize

    def source_weights(self, similarity, transferability=None):
        """The similarities ``s_ab`` (divided by each target's sum if ``normalize``)."""
        S, _, was_sparse = _dense_or_sparse(similarity, None)
        W = normalize_rows(S) if self.normalize else S
        return _output(W, W.data, was_sparse)

    def fit_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """``w_b + strength * sum_a s_ab w_a``; intercepts refitted on each task."""
        strength = _check_real(self.strength, "strength", self.name)
        W = sparse.csr_array(self.source_weights(sparse.csr_array(problem.similarity)))
        own = problem.own_coef()
        coef = own + strength * (W @ problem.source_coef)
        return LinearTransferResult(problem.refit_intercept(coef), W * strength)

    def zero_shot_linear(self, problem):
        """``strength * sum_a s_ab theta_a`` (no own model), intercepts included."""
        strength = _check_real(self.strength, "strength", self.name)
        W = sparse.csr_array(self.source_weights(sparse.csr_array(problem.similarity)))
        return LinearTransferResult(strength * (W @ problem.source_coef), W * strength)


class InterpolateTransfer(BaseTransferRule):
    """Convex combination of the target's coefficients and its sources' mean.

    ``w_b_new = (1 - strength) * w_b + strength * sum_a v_ab * w_a``

    with ``v_ab = s_ab / sum_a' s_a'b`` the normalised similarities. Each task's
    intercept is then the least-squares intercept of its rows for the new
    coefficients. A target without sources keeps its own model; a task first
    seen at predict time gets ``sum_a v_ab theta_a`` (intercepts included).

    Parameters
    ----------
    strength : float in [0, 1], default=0.5
        Weight of the sources' mean: 0 is no transfer, 1 replaces the target's
        coefficients.

    Examples
    --------
    >>> InterpolateTransfer().source_weights([[1.0, 3.0]]).tolist()
    [[0.25, 0.75]]
    """

    name: ClassVar[str] = "interpolate"
    summary: ClassVar[str] = (
        "(1 - strength) w_b + strength * similarity-weighted mean of sources' w."
    )
    transfers: ClassVar[str] = "parameters"

    def __init__(self, strength=0.5):
        self.strength = strength

    def fit_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """Interpolate coefficients; intercepts refitted on each task's rows."""
        strength = _check_real(self.strength, "strength", self.name, high=1.0)
        W = normalize_rows(sparse.csr_array(problem.similarity))
        has = np.asarray(W.sum(axis=1)).ravel() > 0
        own = problem.own_coef()
        prior = W @ problem.source_coef
        s = np.where(has, strength, 0.0)[:, None]
        coef = (1.0 - s) * own + s * prior
        return LinearTransferResult(problem.refit_intercept(coef), W * s)

    def zero_shot_linear(self, problem):
        """The similarity-weighted mean of the sources' models."""
        W = normalize_rows(sparse.csr_array(problem.similarity))
        return LinearTransferResult(W @ problem.source_coef, W)


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


class EnsembleTransfer(BaseTransferRule):
    """Similarity- and score-weighted combination of the sources' models.

    Weight of source ``a`` for target ``b``:

    ``u_ab = s_ab * exp(temperature * (t_ab - max_a' t_a'b) / spread_b)``,
    normalised to sum to one over ``b``'s sources, where ``t_ab`` is the
    transferability (score of ``a``'s model on ``b``'s labelled rows, greater is
    better) and ``spread_b`` the standard deviation of ``b``'s scores (1 if
    zero). Without scores ``u_ab`` is the normalised similarity; a missing
    (NaN) score counts as the target's worst.

    In :class:`~sk_metameta.TransferRegressor`, the target's own ridge model
    takes part as one more member with similarity 1 and, as its score, minus its
    leave-one-out mean squared error; the models are linear, so the weighted
    combination of their predictions is the linear model ``sum u theta``.

    Parameters
    ----------
    temperature : float >= 0, default=1.0
        How sharply the scores select: 0 ignores them.

    Examples
    --------
    >>> EnsembleTransfer().source_weights([[1.0, 1.0]], [[0.0, 0.0]]).tolist()
    [[0.5, 0.5]]
    """

    name: ClassVar[str] = "ensemble"
    summary: ClassVar[str] = (
        "Source models' predictions weighted by similarity and score on the target."
    )
    transfers: ClassVar[str] = "predictions"

    def __init__(self, temperature=1.0):
        self.temperature = temperature

    def source_weights(self, similarity, transferability=None):
        """Normalised ``s_ab * exp(temperature * standardised score)``."""
        temperature = _check_real(self.temperature, "temperature", self.name)
        S, Tv, was_sparse = _dense_or_sparse(similarity, transferability)
        data = np.where(S.data > 0, S.data, 0.0)
        if Tv is not None and temperature > 0 and data.size:
            valid = np.where(data > 0, Tv, np.nan)
            finite = np.isfinite(valid)
            lo = _segment_reduce(
                np.fmin, np.where(finite, valid, np.inf), S.indptr, np.inf
            )
            rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
            Tv = np.where(finite, valid, lo[rows])
            Tv = np.where(np.isfinite(Tv), Tv, 0.0)
            counts = np.bincount(rows, weights=data > 0, minlength=S.shape[0])
            mean = np.bincount(rows, weights=Tv * (data > 0), minlength=S.shape[0])
            mean = np.divide(mean, counts, out=np.zeros_like(mean), where=counts > 0)
            dev = (Tv - mean[rows]) * (data > 0)
            var = np.bincount(rows, weights=dev * dev, minlength=S.shape[0])
            std = np.sqrt(
                np.divide(var, counts, out=np.zeros_like(var), where=counts > 0)
            )
            spread = np.where(std > 0, std, 1.0)
            hi = _segment_reduce(
                np.fmax, np.where(data > 0, Tv, -np.inf), S.indptr, 0.0
            )
            z = (Tv - hi[rows]) / spread[rows]
            data = data * np.exp(temperature * np.minimum(z, 0.0))
        W = normalize_rows(sparse.csr_array((data, S.indices, S.indptr), S.shape))
        return _output(W, W.data, was_sparse)

    def zero_shot_linear(self, problem):
        """The similarity-weighted combination of the sources' models."""
        W = sparse.csr_array(self.source_weights(sparse.csr_array(problem.similarity)))
        return LinearTransferResult(W @ problem.source_coef, W)


class InstanceTransfer(BaseTransferRule):
    """Refit on the target's rows plus its sources' rows, weighted by similarity.

    The target's model is the ridge fit (penalty ``alpha``, free intercept) on its
    own rows, each of weight 1 (times its sample weight), and the rows of its
    sources, a row of source ``a`` weighing ``strength * s_ab / mean_a'(s_a'b)``
    (the mean over the target's sources). :meth:`source_weights` returns the
    normalised similarities.

    Parameters
    ----------
    strength : float >= 0, default=1.0
        Weight of a source row of average similarity relative to a target row;
        0 is no transfer.

    Examples
    --------
    >>> InstanceTransfer().source_weights([[1.0, 3.0]]).tolist()
    [[0.25, 0.75]]
    """

    name: ClassVar[str] = "instance"
    summary: ClassVar[str] = (
        "Refit on target rows plus source rows weighted by similarity."
    )
    transfers: ClassVar[str] = "instances"

    def __init__(self, strength=1.0):
        self.strength = strength

    def fit_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """Weighted pooled ridge of the target's and its sources' rows."""
        strength = _check_real(self.strength, "strength", self.name)
        W = normalize_rows(sparse.csr_array(problem.similarity))
        coef = problem.pooled_coef(strength * _relative_to_mean(W), target_weight=1.0)
        return LinearTransferResult(coef, W)


class SelectTransfer(BaseTransferRule):
    """Keep only the sources that score best on the target's labelled rows.

    The ``n_select`` sources with the highest transferability (score of the
    source's model on the target's labelled rows; ties broken by similarity,
    then by source number) get weight ``1 / min(n_select, n_sources)`` each,
    the others zero.
    Without scores, the most similar sources are kept. In
    :class:`~sk_metameta.TransferRegressor` the target's own model competes too,
    scored by minus its leave-one-out mean squared error, and the target's
    model is the mean of the selected models.

    Parameters
    ----------
    n_select : int >= 1, default=3
        Number of models kept per target (fewer if it has fewer sources).

    Examples
    --------
    >>> selected = SelectTransfer(n_select=1).source_weights(
    ...     [[1.0, 0.5, 0.0]], [[0.1, 0.9, 2.0]]
    ... )
    >>> selected.tolist()
    [[0.0, 1.0, 0.0]]
    """

    name: ClassVar[str] = "select"
    summary: ClassVar[str] = "The sources that score best on the target's rows."
    transfers: ClassVar[str] = "predictions"

    def __init__(self, n_select=3):
        self.n_select = n_select

    def source_weights(self, similarity, transferability=None):
        """``1 / n_select`` for the best-scoring sources, zero for the others."""
        if (
            isinstance(self.n_select, bool)
            or not isinstance(self.n_select, numbers.Integral)
            or self.n_select < 1
        ):
            raise ValueError(
                "transfer rule 'select': n_select must be an int >= 1, got "
                f"{self.n_select!r}."
            )
        S, Tv, was_sparse = _dense_or_sparse(similarity, transferability)
        positive = S.data > 0
        score = np.zeros_like(S.data) if Tv is None else Tv.copy()
        score = np.where(np.isnan(score), -np.inf, score)
        rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
        # order entries by row, then by score, similarity, source (best first)
        order = np.lexsort((S.indices, -S.data, -score, ~positive, rows))
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0]) - S.indptr[rows[order]]
        counts = np.bincount(rows, weights=positive, minlength=S.shape[0])
        keep = positive & (rank < self.n_select)
        k = np.minimum(counts, self.n_select)
        data = np.where(keep, 1.0 / np.maximum(k[rows], 1), 0.0)
        return _output(S, data, was_sparse)

    def zero_shot_linear(self, problem):
        """The mean of the most similar sources' models."""
        W = sparse.csr_array(self.source_weights(sparse.csr_array(problem.similarity)))
        return LinearTransferResult(W @ problem.source_coef, W)
