"""Equal weights over the nearest source tasks."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import sparse

from sk_metameta.transfer import BaseTransferRule, normalize_rows

__all__ = ["UniformNeighbors"]


class UniformNeighbors(BaseTransferRule):
    """Average the predictions of the nearest source tasks, with equal weights.

    Every neighbour of a target (a source with a positive similarity) gets the
    same weight, however similar it is: the rule of plain k-nearest-neighbour
    averaging, a baseline for similarity-weighted ensembles. A target without
    neighbours draws on no source.

    See Also
    --------
    sk_metameta.transfer.BaseTransferRule : Similarity-proportional weights.

    Examples
    --------
    >>> from sk_metameta_template import UniformNeighbors
    >>> UniformNeighbors().source_weights([[0.9, 0.1, 0.0], [0.0, 0.0, 0.0]])
    array([[0.5, 0.5, 0. ],
           [0. , 0. , 0. ]])
    """

    name: ClassVar[str] = "uniform"
    summary: ClassVar[str] = "Equal weights over the nearest source tasks."
    transfers: ClassVar[str] = "predictions"

    def source_weights(self, similarity, transferability=None) -> np.ndarray:
        """Weight ``1 / k`` for each of a target's ``k`` neighbours, else zero.

        Parameters
        ----------
        similarity : ndarray or scipy sparse array of shape (n_targets, n_sources)
            Non-negative similarity, zero outside each target's neighbours; sparse
            (CSR) when tasks are many.
        transferability : array-like of shape (n_targets, n_sources), default=None
            Ignored: every neighbour counts the same.

        Returns
        -------
        weights : ndarray or scipy.sparse.csr_array of shape (n_targets, n_sources)
            Dense for dense input, sparse for sparse input. Each row sums to one,
            or is zero for a target without neighbours.
        """
        if sparse.issparse(similarity):
            neighbors = sparse.csr_array(similarity > 0, dtype=float)
        else:
            neighbors = (np.asarray(similarity, dtype=float) > 0).astype(float)
        return normalize_rows(neighbors)
