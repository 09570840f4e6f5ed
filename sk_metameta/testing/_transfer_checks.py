"""Conformance check of transfer rules (the :class:`BaseTransferRule` contract)."""

from __future__ import annotations

from typing import Any

import hypothesis
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import sparse

from .._components import resolve_transfer_rule
from ..transfer.base import TRANSFER_KINDS, BaseTransferRule
from ._common import (
    assert_close,
    call,
    check_clone,
    describe,
    fail,
    fmt,
    fresh,
    hypothesis_settings,
    resolve,
)
from ._strategies import finite_floats, multitask_data, similarity_matrices

__all__ = ["check_transfer_rule"]


def check_transfer_rule(
    rule: Any,
    *,
    linear: bool = True,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
    atol: float = 1e-12,
) -> None:
    """Check that a transfer rule weighs source tasks and builds models as it must.

    The check verifies the declarations (``name``, ``summary``, ``transfers`` in
    :data:`~sk_metameta.transfer.TRANSFER_KINDS`, scikit-learn ``clone``) and,
    on random similarity matrices (non-negative, with exact zeros and rows of
    zeros: targets without neighbours) with and without a transferability
    matrix (any finite scores, negative ones included, as scikit-learn's
    ``neg_*`` scorers give), that :meth:`source_weights`

    - returns a finite float array of the shape of the similarity;
    - returns non-negative weights, and a weight of zero wherever the
      similarity is zero (a source that is not a neighbour contributes nothing);
    - returns all zeros for a rule that transfers ``"nothing"``;
    - returns a scipy sparse array for a sparse (CSR) similarity, with the same
      weights as for the dense one (so it reads the transferability only at the
      entries of the similarity, the only ones a sparse transferability has);
    - leaves its inputs unchanged and gives the same weights when called again.

    With ``linear=True`` it also fits :class:`~sk_metameta.TransferRegressor`
    with the rule on random multi-task regression data (which calls the rule's
    ``fit_linear``, and ``zero_shot_linear`` for a task first seen at predict
    time) and checks that the models are finite, that predictions for seen and
    unseen tasks are finite, that the rule's source weights there are
    non-negative and zero outside the neighbours, and that a second fit gives
    the same models.

    Parameters
    ----------
    rule : str, BaseTransferRule or type
        The rule: a registered name, an instance or a class.
    linear : bool, default=True
        Also check the linear models the rule builds in ``TransferRegressor``.
    max_examples : int, default=None
        Number of Hypothesis examples; ``None`` uses the active settings profile.
    settings : hypothesis.settings, default=None
        Settings to start from instead of the active profile (for example
        ``settings(phases=[Phase.generate])`` to skip shrinking).
    atol : float, default=1e-12
        How far from zero a weight of zero, or below zero a weight, may be.

    Raises
    ------
    AssertionError
        Naming the rule, the property it breaks and the counter-example.

    See Also
    --------
    check_plugin : Every check, over the components of a plugin.

    Examples
    --------
    >>> from sk_metameta.transfer import NoTransfer
    >>> from sk_metameta.testing import check_transfer_rule
    >>> check_transfer_rule(NoTransfer(), max_examples=10)
    """
    rule = resolve(rule, resolve_transfer_rule, BaseTransferRule, "transfer rule")
    who = describe(rule, "transfer rule")
    _check_attributes(rule, who)
    check_clone(rule, who)
    run = hypothesis_settings(max_examples, settings)

    @given(similarity_matrices(), st.data())
    def weights_conform(S, draw):
        T = draw.draw(
            st.none()
            | hnp.arrays(np.float64, S.shape, elements=finite_floats(-100.0, 100.0))
        )
        _check_example(rule, S, T, float(atol), who)

    run(weights_conform)()
    if not linear:
        return

    @given(
        multitask_data(
            n_tasks=(2, 5), rows_per_task=(1, 5), n_features=(1, 3), with_y=True
        )
    )
    def linear_models_conform(data):
        _check_linear_example(rule, data, float(atol), who)

    run(linear_models_conform)()


def _check_attributes(rule: Any, who: str) -> None:
    if not isinstance(rule, BaseTransferRule):
        fail(who, "type", "a transfer rule must derive from BaseTransferRule")
    for attribute in ("name", "summary"):
        value = getattr(rule, attribute, None)
        if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
            fail(who, attribute, f"must be a non-empty one-line str, got {value!r}")
    if rule.transfers not in TRANSFER_KINDS:
        fail(
            who,
            "transfers",
            f"{rule.transfers!r} is not one of {list(TRANSFER_KINDS)}",
        )


def _check_weights(rule, W, S, atol, who, what, where) -> None:
    """The properties of source weights ``W`` (dense) for the similarity ``S``."""
    if W.shape != S.shape:
        fail(
            who,
            what,
            f"returned shape {W.shape}, expected {S.shape} (targets, sources){where}",
        )
    if W.dtype.kind != "f" or not np.isfinite(W).all():
        fail(who, what, f"must return finite float weights, got {fmt(W)}{where}")
    if (W < -atol).any():
        i, j = np.unravel_index(int(np.argmin(W)), W.shape)
        fail(
            who,
            what,
            f"weight {fmt(W[i, j])} < 0 for target {i}, source {j}: {fmt(W)}{where}",
        )
    no_neighbour = (S == 0) & (np.abs(W) > atol)
    if no_neighbour.any():
        i, j = np.argwhere(no_neighbour)[0]
        fail(
            who,
            what,
            f"weight {fmt(W[i, j])} for target {i} and source {j} whose similarity "
            f"is zero (not a neighbour): {fmt(W)}{where}",
        )
    if rule.transfers == "nothing" and (np.abs(W) > atol).any():
        fail(who, what, f"transfers nothing but gives non-zero weights {fmt(W)}{where}")


def _check_example(rule, S, T, atol, who) -> None:
    where = f" for similarity = {fmt(S)}, transferability = {fmt(T)}"
    S_in = S.copy()
    T_in = None if T is None else T.copy()
    W = call(who, "source_weights", fresh(rule).source_weights, S_in, T_in)
    if not isinstance(W, np.ndarray):
        fail(
            who,
            "source_weights",
            f"returned a {type(W).__name__} for a dense similarity, not ndarray",
        )
    _check_weights(rule, W, S, atol, who, "source_weights", where)
    if not np.array_equal(S_in, S) or (T is not None and not np.array_equal(T_in, T)):
        fail(who, "source_weights", f"modified its input arrays{where}")
    again = call(who, "source_weights", fresh(rule).source_weights, S, T)
    assert_close(
        again,
        W,
        atol=atol,
        rtol=1e-12,
        who=who,
        what="source_weights gives other weights when called again",
        context=where,
    )

    # sparse (CSR) input, as estimators pass it when tasks are many
    S_sparse = sparse.csr_array(S)
    T_sparse = None
    if T is not None:  # the scores at the entries of the similarity
        rows = np.repeat(np.arange(S.shape[0]), np.diff(S_sparse.indptr))
        T_sparse = sparse.csr_array(
            (T[rows, S_sparse.indices], S_sparse.indices, S_sparse.indptr),
            shape=S.shape,
        )
    what = "source_weights of a sparse similarity"
    W_sparse = call(who, what, fresh(rule).source_weights, S_sparse, T_sparse)
    if not sparse.issparse(W_sparse):
        fail(
            who,
            what,
            f"returned a {type(W_sparse).__name__}; a sparse similarity needs sparse "
            f"weights (see BaseTransferRule.source_weights){where}",
        )
    W_dense = W_sparse.toarray()
    _check_weights(rule, W_dense, S, atol, who, what, where)
    assert_close(
        W_dense,
        W,
        atol=atol,
        rtol=1e-12,
        who=who,
        what="sparse and dense similarities give different weights",
        context=where,
    )


def _check_linear_example(rule, data, atol, who) -> None:
    from .. import TransferRegressor  # the estimator that calls fit_linear

    X, y, tasks = data
    where = f" on X = {fmt(X)}, y = {fmt(y)}, tasks = {tasks.tolist()!r}"
    what = "TransferRegressor fit (fit_linear)"
    model = call(
        who, what, TransferRegressor(transfer=fresh(rule)).fit, X, y, tasks=tasks
    )
    n_tasks = np.unique(tasks).shape[0]
    coef = np.asarray(model.coef_, dtype=float)
    intercept = np.asarray(model.intercept_, dtype=float)
    if coef.shape != (n_tasks, X.shape[1]) or not np.isfinite(coef).all():
        fail(who, what, f"models {fmt(coef)} are not finite, one per task{where}")
    if not np.isfinite(intercept).all():
        fail(who, what, f"intercepts {fmt(intercept)} are not finite{where}")
    W = sparse.csr_array(model.source_weights_).toarray()
    S = sparse.csr_array(model.similarity_).toarray()
    _check_weights(rule, W, S, atol, who, f"{what}: the source weights", where)

    predictions = call(who, "TransferRegressor predict", model.predict, X, tasks=tasks)
    if not np.isfinite(predictions).all():
        fail(who, "TransferRegressor predict", f"non-finite {fmt(predictions)}{where}")
    last = np.unique(tasks)[-1].item()  # a label after every label is unseen
    unseen = np.full(X.shape[0], last + 1 if isinstance(last, int) else last + "+")
    what = "TransferRegressor predict of an unseen task (zero_shot_linear)"
    zero_shot = call(who, what, model.predict, X, tasks=unseen)
    if not np.isfinite(zero_shot).all():
        fail(who, what, f"non-finite {fmt(zero_shot)}{where}")

    again = call(
        who,
        "TransferRegressor fit",
        TransferRegressor(transfer=fresh(rule)).fit,
        X,
        y,
        tasks=tasks,
    )
    assert_close(
        np.asarray(again.coef_, dtype=float),
        coef,
        atol=1e-9,
        rtol=1e-9,
        who=who,
        what="a second TransferRegressor fit gives other models",
        context=where,
    )
