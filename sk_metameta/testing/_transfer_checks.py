"""Conformance check of transfer rules (the :class:`BaseTransferRule` contract)."""

from __future__ import annotations

from typing import Any

import hypothesis
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
from ._strategies import finite_floats, similarity_matrices

__all__ = ["check_transfer_rule"]


def check_transfer_rule(
    rule: Any,
    *,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
    atol: float = 1e-12,
) -> None:
    """Check that a transfer rule weighs source tasks as its contract says.

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
    - leaves its inputs unchanged and gives the same weights when called again.

    Parameters
    ----------
    rule : str, BaseTransferRule or type
        The rule: a registered name, an instance or a class.
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
    from .._components import resolve_transfer_rule

    rule = resolve(rule, resolve_transfer_rule, BaseTransferRule, "transfer rule")
    who = describe(rule, "transfer rule")
    _check_attributes(rule, who)
    check_clone(rule, who)

    @given(similarity_matrices(), st.data())
    def conforms(S, draw):
        T = draw.draw(
            st.none()
            | hnp.arrays(np.float64, S.shape, elements=finite_floats(-100.0, 100.0))
        )
        _check_example(rule, S, T, float(atol), who)

    hypothesis_settings(max_examples, settings)(conforms)()


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


def _check_example(rule, S, T, atol, who) -> None:
    where = f" for similarity = {fmt(S)}, transferability = {fmt(T)}"
    S_in = S.copy()
    T_in = None if T is None else T.copy()
    W = call(who, "source_weights", fresh(rule).source_weights, S_in, T_in)
    if not isinstance(W, np.ndarray):
        fail(who, "source_weights", f"returned a {type(W).__name__}, not ndarray")
    if W.shape != S.shape:
        fail(
            who,
            "source_weights",
            f"returned shape {W.shape}, expected {S.shape} (targets, sources){where}",
        )
    if W.dtype.kind != "f" or not np.isfinite(W).all():
        fail(
            who,
            "source_weights",
            f"must return finite float weights, got {fmt(W)}{where}",
        )
    if not np.array_equal(S_in, S) or (T is not None and not np.array_equal(T_in, T)):
        fail(who, "source_weights", f"modified its input arrays{where}")
    if (W < -atol).any():
        i, j = np.unravel_index(int(np.argmin(W)), W.shape)
        fail(
            who,
            "source_weights",
            f"weight {fmt(W[i, j])} < 0 for target {i}, source {j}: {fmt(W)}{where}",
        )
    no_neighbour = (S == 0) & (np.abs(W) > atol)
    if no_neighbour.any():
        i, j = np.argwhere(no_neighbour)[0]
        fail(
            who,
            "source_weights",
            f"weight {fmt(W[i, j])} for target {i} and source {j} whose similarity is "
            f"zero (not a neighbour): {fmt(W)}{where}",
        )
    if rule.transfers == "nothing" and (np.abs(W) > atol).any():
        fail(
            who,
            "source_weights",
            f"transfers nothing but gives non-zero weights {fmt(W)}{where}",
        )
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
