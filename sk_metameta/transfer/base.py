"""Base class of transfer rules and the kinds of knowledge a rule can transfer."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["TRANSFER_KINDS", "BaseTransferRule", "NoTransfer"]

#: What a rule transfers from the source tasks to a target task.
#:
#: - ``"nothing"``: each task is fitted alone;
#: - ``"parameters"``: model parameters (linear models; ``TransferRegressor``);
#: - ``"instances"``: source rows, weighted, added to the target's fit;
#: - ``"predictions"``: source models' predictions, combined with the target's.
TRANSFER_KINDS = ("nothing", "parameters", "instances", "predictions")


class BaseTransferRule(BaseEstimator):
    """Base of every transfer rule.

    Subclasses set ``name``, ``summary`` and ``transfers`` (one of
    :data:`TRANSFER_KINDS`). Every rule decides how much each source task
    contributes to each target through :meth:`source_weights`; rules that transfer
    parameters also implement the linear-model update used by
    :class:`~sk_metameta.TransferRegressor`. ``__init__`` only stores keyword
    arguments.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    transfers: ClassVar[str] = "nothing"

    def source_weights(self, similarity, transferability=None) -> np.ndarray:
        """Weight of each source task for each target task.

        Parameters
        ----------
        similarity : ndarray of shape (n_targets, n_sources)
            Non-negative similarity of each target to each source, zero outside the
            target's nearest neighbours (and for the target itself).
        transferability : ndarray of shape (n_targets, n_sources), default=None
            Score of each source model on each target's labelled rows (greater is
            better, as scikit-learn scorers), or ``None`` when not computed.

        Returns
        -------
        weights : ndarray of shape (n_targets, n_sources)
            Non-negative weights; the default normalises the similarities of each
            target to sum to one (a row of zeros stays zero).
        """
        S = np.asarray(similarity, dtype=float)
        total = S.sum(axis=1, keepdims=True)
        return np.divide(S, total, out=np.zeros_like(S), where=total > 0)


class NoTransfer(BaseTransferRule):
    """No transfer: every task is fitted on its own rows only (the baseline).

    Examples
    --------
    >>> NoTransfer().source_weights([[0.5, 0.5]]).tolist()
    [[0.0, 0.0]]
    """

    name: ClassVar[str] = "none"
    summary: ClassVar[str] = "No transfer: each task alone (the baseline)."
    transfers: ClassVar[str] = "nothing"

    def source_weights(self, similarity, transferability=None) -> np.ndarray:
        """All zero: no source contributes."""
        return np.zeros_like(np.asarray(similarity, dtype=float))
