"""Base class of transfer rules and the kinds of knowledge a rule can transfer."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator

from .._components import component_errors
from ..plugins import describe_component
from ._linear import LinearTransferProblem, LinearTransferResult

__all__ = [
    "TRANSFER_KINDS",
    "BaseTransferRule",
    "LinearTransferProblem",
    "LinearTransferResult",
    "NoTransfer",
    "check_linear_result",
    "check_source_weights",
    "normalize_rows",
]

#: What a rule transfers from the source tasks to a target task.
#:
#: - ``"nothing"``: each task is fitted alone;
#: - ``"parameters"``: model parameters (linear models; ``TransferRegressor``);
#: - ``"instances"``: source rows, weighted, added to the target's fit;
#: - ``"predictions"``: source models' predictions, combined with the target's.
TRANSFER_KINDS = ("nothing", "parameters", "instances", "predictions")


def normalize_rows(W):
    """Scale each row of non-negative weights to sum to one (rows of zeros stay zero).

    Parameters
    ----------
    W : ndarray or scipy sparse array of shape (n_targets, n_sources)
        Non-negative weights.

    Returns
    -------
    normalized : ndarray or scipy.sparse.csr_array of the same shape
        Dense for dense input, CSR for sparse input.

    Examples
    --------
    >>> normalize_rows([[1.0, 3.0], [0.0, 0.0]]).tolist()
    [[0.25, 0.75], [0.0, 0.0]]
    """
    if sparse.issparse(W):
        W = sparse.csr_array(W, dtype=float, copy=True)
        total = np.asarray(W.sum(axis=1)).ravel()
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
        W.data *= np.repeat(scale, np.diff(W.indptr))
        return W
    W = np.asarray(W, dtype=float)
    total = W.sum(axis=1, keepdims=True)
    return np.divide(W, total, out=np.zeros_like(W), where=total > 0)


def _relative_to_mean(W) -> sparse.csr_array:
    """Sparse weights divided by the mean of each row's positive weights."""
    W = sparse.csr_array(W, dtype=float, copy=True)
    W.data = np.where(W.data > 0, W.data, 0.0)
    W.eliminate_zeros()
    counts = np.diff(W.indptr)
    total = np.asarray(W.sum(axis=1)).ravel()
    mean = np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)
    scale = np.divide(1.0, mean, out=np.zeros_like(mean), where=mean > 0)
    W.data *= np.repeat(scale, counts)
    return W


def check_source_weights(rule, W, shape: tuple[int | None, int | None]):
    """Validate the source weights a transfer rule returned; errors name the rule.

    The one check of every rule's weights, called by the estimators on what
    :meth:`BaseTransferRule.source_weights` returns.

    Parameters
    ----------
    rule : BaseTransferRule
        The rule that returned ``W`` (named, with its plugin, in errors).
    W : array-like or scipy sparse array of shape (n_targets, n_sources)
        The weights.
    shape : (int, int or None)
        The expected shape, that of the similarity the rule was given; ``None``
        for a dimension not to check.

    Returns
    -------
    W : ndarray or scipy.sparse.csr_array of shape ``shape``
        Float weights, dense for dense input and CSR for sparse input; negative
        values above ``-1e-9`` times the largest weight are rounding, set to 0.

    Raises
    ------
    ValueError
        If ``W`` is not an array of ``shape``, or has a weight that is not
        finite or is negative.

    Examples
    --------
    >>> check_source_weights(NoTransfer(), [[0.0, 1.0]], (1, 2)).tolist()
    [[0.0, 1.0]]
    >>> try:
    ...     check_source_weights(NoTransfer(), [[0.0, -1.0]], (1, 2))
    ... except ValueError as exc:
    ...     print(exc)
    transfer rule 'none' (built-in) returned a negative source weight, -1.0 for
    target 0, source 1; weights must be >= 0.
    """
    who = describe_component
    is_sparse = sparse.issparse(W)
    try:
        W = sparse.csr_array(W, dtype=float) if is_sparse else np.asarray(W, float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{who(rule)} returned {type(W).__name__} {W!r:.80}, not an array of "
            "source weights."
        ) from None
    if W.ndim != 2 or any(
        e is not None and e != n for e, n in zip(shape, W.shape, strict=True)
    ):
        expected = tuple("n_sources" if e is None else e for e in shape)
        raise ValueError(
            f"{who(rule)} returned source weights of shape {W.shape}; expected "
            f"{expected} (targets, sources)."
        )
    # the stored values and, for each, its target (row) and source (column)
    if is_sparse:
        values, cols = W.data, W.indices
        rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
    else:
        values = W.ravel()
        rows, cols = np.divmod(np.arange(values.size), W.shape[1])
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(
            f"{who(rule)} returned source weights that are not all finite "
            f"(targets at positions {np.unique(rows[~finite])[:5].tolist()})."
        )
    if values.size and values.min() < 0.0:
        k = int(np.argmin(values))
        if values[k] < -1e-9 * np.abs(values).max():
            raise ValueError(
                f"{who(rule)} returned a negative source weight, "
                f"{float(values[k])!r} for target {rows[k]}, source {cols[k]}; "
                "weights must be >= 0."
            )
        if is_sparse:
            W = W.copy()
            W.data = np.maximum(W.data, 0.0)
        else:
            W = np.maximum(W, 0.0)
    return W


def check_linear_result(
    rule, result, n_targets: int, q: int, n_sources: int | None = None
) -> LinearTransferResult:
    """Validate the linear models a transfer rule returned; errors name the rule.

    The one check of what :meth:`BaseTransferRule.fit_linear` and
    :meth:`BaseTransferRule.zero_shot_linear` return, called by the estimators.

    Parameters
    ----------
    rule : BaseTransferRule
        The rule (named, with its plugin, in errors).
    result : LinearTransferResult
        What the rule returned.
    n_targets : int
        Number of target tasks of the problem.
    q : int
        Number of coefficients of each model (with the intercept).
    n_sources : int, default=None
        Number of source tasks, to check the shape of the source weights.

    Returns
    -------
    result : LinearTransferResult
        With ``coef`` a float array of shape ``(n_targets, q)`` and the source
        weights checked by :func:`check_source_weights` (CSR when sparse).

    Raises
    ------
    ValueError
        If ``result`` is not a LinearTransferResult, or its models are not of
        shape ``(n_targets, q)`` or not all finite, or its weights are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> result = LinearTransferResult(np.zeros((2, 3)), np.zeros((2, 4)))
    >>> check_linear_result(NoTransfer(), result, 2, 3, 4).coef.shape
    (2, 3)
    """
    who = describe_component
    if not isinstance(result, LinearTransferResult):
        raise ValueError(
            f"{who(rule)} returned {type(result).__name__} {result!r:.80}, not a "
            "LinearTransferResult."
        )
    try:
        coef = np.asarray(result.coef, dtype=float)
    except (TypeError, ValueError):
        coef = np.empty((0,))
    if coef.shape != (n_targets, q):
        raise ValueError(
            f"{who(rule)} returned models of shape {coef.shape}; expected "
            f"{(n_targets, q)} (targets, coefficients)."
        )
    bad = ~np.isfinite(coef).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{who(rule)} returned models that are not all finite (targets at "
            f"positions {np.flatnonzero(bad)[:5].tolist()}); features or targets "
            "too large or too small for float64 do this: scale them."
        )
    weights = check_source_weights(rule, result.source_weights, (n_targets, n_sources))
    return dataclasses.replace(result, coef=coef, source_weights=weights)


class BaseTransferRule(BaseEstimator):
    """Base of every transfer rule.

    Subclasses set ``name``, ``summary`` and ``transfers`` (one of
    :data:`TRANSFER_KINDS`). Every rule decides how much each source task
    contributes to each target through :meth:`source_weights`;
    :class:`~sk_metameta.MetricMetaEstimator` uses nothing else.
    :class:`~sk_metameta.TransferRegressor` calls :meth:`fit_linear` (and
    :meth:`zero_shot_linear` for tasks first seen at predict time), whose default
    builds the linear models from :meth:`source_weights` according to
    ``transfers``:

    - ``"nothing"``: each target's own ridge fit;
    - ``"instances"``: a ridge fit on the target's rows (weight 1) and its
      sources' rows, a row of source ``a`` weighing ``w_a / mean(w)`` (``w`` the
      source weights of the target, the mean over its sources);
    - ``"predictions"``: the linear combination ``sum_m u_m theta_m`` of the
      sources' own models and the target's own model (a linear model predicts
      the same combination of their predictions), with ``u`` the rule's
      :meth:`source_weights` over the sources and the target's own model, which
      takes part as one more source of similarity 1 and transferability minus
      its cross-validated mean squared error;
    - ``"parameters"``: no default, the rule must implement :meth:`fit_linear`.

    ``__init__`` only stores keyword arguments.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    transfers: ClassVar[str] = "nothing"

    def source_weights(self, similarity, transferability=None):
        """Weight of each source task for each target task.

        Parameters
        ----------
        similarity : ndarray or scipy sparse array of shape (n_targets, n_sources)
            Non-negative similarity of each target to each source, zero outside the
            target's nearest neighbours (and for the target itself). Sparse (CSR)
            when tasks are many.
        transferability : ndarray or sparse array of shape (n_targets, n_sources), \
                default=None
            Score of each source model on each target's labelled rows (greater is
            better, as scikit-learn scorers), or ``None`` when not computed. When
            sparse, it has the entries of ``similarity``.

        Returns
        -------
        weights : ndarray or scipy.sparse.csr_array of shape (n_targets, n_sources)
            Non-negative weights, zero where the similarity is zero, dense for
            dense input and sparse for sparse input; the default normalises the
            similarities of each target to sum to one (a row of zeros stays zero).
        """
        return normalize_rows(similarity)

    # -- linear models (TransferRegressor) ---------------------------------------------
    def fit_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """One linear model per target task, from the tasks' sufficient statistics.

        Parameters
        ----------
        problem : LinearTransferProblem
            The targets' and sources' statistics, the sources' own models, the
            similarity graph, the ridge penalty and (for leave-one-out criteria)
            the targets' rows.

        Returns
        -------
        result : LinearTransferResult
            The targets' models and the weight of each source.
        """
        S = sparse.csr_array(problem.similarity)
        if self.transfers == "nothing":
            W = sparse.csr_array(S.shape)
            return LinearTransferResult(problem.own_coef(), W)
        if self.transfers == "parameters":
            raise NotImplementedError(
                f"transfer rule {self.name!r} transfers parameters but does not "
                "implement fit_linear, which TransferRegressor needs."
            )
        W = self._checked_weights(S, problem.transferability())
        if self.transfers == "instances":
            coef = problem.pooled_coef(_relative_to_mean(W), target_weight=1.0)
            return LinearTransferResult(coef, W)
        if self.transfers == "predictions":
            return self._combine_with_own_model(problem)
        raise ValueError(
            f"transfer rule {self.name!r} declares transfers={self.transfers!r}; "
            f"expected one of {list(TRANSFER_KINDS)}."
        )

    def _checked_weights(self, S, T) -> sparse.csr_array:
        """:meth:`source_weights` of sparse ``S``, checked, as CSR."""
        with component_errors(self):
            W = self.source_weights(S, T)
        return sparse.csr_array(check_source_weights(self, W, S.shape))

    def _combine_with_own_model(self, problem: LinearTransferProblem):
        """Combination of the sources' and the target's own models (see above)."""
        own = problem.own_coef()
        own_score = -problem.own_cv_mse()
        own_score = np.where(np.isfinite(own_score), own_score, np.nan)
        S = sparse.csr_array(problem.similarity)
        n_t, n_s = S.shape
        diag = (np.arange(n_t), np.arange(n_t))
        S_all = sparse.csr_array(
            sparse.hstack([S, sparse.csr_array((np.ones(n_t), diag), (n_t, n_t))])
        )
        T_all = sparse.csr_array(
            sparse.hstack(
                [
                    problem.transferability(),
                    sparse.csr_array((own_score, diag), shape=(n_t, n_t)),
                ]
            )
        )
        U = normalize_rows(self._checked_weights(S_all, T_all))
        own_weight = U[:, n_s:].diagonal()
        # a target whose weights are all zero keeps its own model
        own_weight = np.where(np.asarray(U.sum(axis=1)).ravel() > 0, own_weight, 1.0)
        sources = U[:, :n_s]
        coef = sources @ problem.source_coef + own_weight[:, None] * own
        return LinearTransferResult(coef, sources, info={"own_weight": own_weight})

    def zero_shot_linear(self, problem: LinearTransferProblem) -> LinearTransferResult:
        """Models of target tasks without labelled rows (first seen at predict time).

        The default is a ridge fit on the sources' rows, a row of source ``a``
        weighing ``w_a / mean(w)``, with ``w`` the rule's source weights without
        transferability (the similarities when those are all zero).

        Parameters
        ----------
        problem : LinearTransferProblem
            As for :meth:`fit_linear`, with all-zero target statistics.

        Returns
        -------
        result : LinearTransferResult
        """
        S = sparse.csr_array(problem.similarity)
        W = self._checked_weights(S, None)
        empty = np.asarray(W.sum(axis=1)).ravel() <= 0
        if empty.any():
            W = sparse.csr_array(
                sparse.diags_array(~empty * 1.0) @ W
                + sparse.diags_array(empty * 1.0) @ normalize_rows(S)
            )
        return LinearTransferResult(problem.pooled_coef(_relative_to_mean(W)), W)


class NoTransfer(BaseTransferRule):
    """No transfer: every task is fitted on its own rows only (the baseline).

    A task first seen at predict time gets the similarity-weighted pooled fit of
    its nearest tasks (see :meth:`BaseTransferRule.zero_shot_linear`).

    Examples
    --------
    >>> NoTransfer().source_weights([[0.5, 0.5]]).tolist()
    [[0.0, 0.0]]
    """

    name: ClassVar[str] = "none"
    summary: ClassVar[str] = "No transfer: each task alone (the baseline)."
    transfers: ClassVar[str] = "nothing"

    def source_weights(self, similarity, transferability=None):
        """All zero: no source contributes."""
        if sparse.issparse(similarity):
            return sparse.csr_array(similarity.shape)
        return np.zeros_like(np.asarray(similarity, dtype=float))
