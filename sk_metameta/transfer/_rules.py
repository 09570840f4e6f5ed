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
    "SelectTransfer",
]


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
