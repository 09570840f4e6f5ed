"""Exact optimal transport between uniform empirical distributions, with POT."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import numpy as np
import ot

__all__ = ["pairwise_ot_costs", "uniform_emd2"]

#: POT's result code of an optimal solution of the network simplex.
_OPTIMAL = 1
# The marginals are uniform by construction and the dual potentials are unused:
# skipping POT's checks of the one and centring of the other halves the cost of
# the small problems a task metric solves by the thousand.
_EMD2_OPTIONS = {"center_dual": False}
if "check_marginals" in inspect.signature(ot.emd2).parameters:
    _EMD2_OPTIONS["check_marginals"] = False


def uniform_emd2(cost: np.ndarray, *, what: str) -> float:
    """Exact optimal-transport cost between two uniform empirical distributions.

    Parameters
    ----------
    cost : ndarray of shape (n, m)
        Ground cost between the ``n`` points of the first distribution and the
        ``m`` points of the second; each point has mass ``1 / n`` (``1 / m``).
    what : str
        What is being compared, named in the error message.

    Returns
    -------
    value : float
        ``min_P <P, cost>`` over the couplings ``P`` of the two uniform
        distributions, clipped at zero (the solver may return ``-1e-17``).

    Raises
    ------
    RuntimeError
        If the network simplex stops before optimality.
    """
    n, m = cost.shape
    if n == 1 or m == 1:  # the only coupling spreads the single point's mass
        return max(float(cost.mean()), 0.0)
    a = np.full(n, 1.0 / n)
    b = np.full(m, 1.0 / m)
    # The network simplex needs O(n m) pivots at worst; POT's default cap of 1e5
    # can be reached by tasks of a few hundred rows.
    max_iter = max(100_000, 20 * n * m)
    with warnings.catch_warnings():
        # POT warns on a non-optimal result; the result code is checked below.
        warnings.simplefilter("ignore", UserWarning)
        value, log = ot.emd2(a, b, cost, numItermax=max_iter, log=True, **_EMD2_OPTIONS)
    if log["result_code"] != _OPTIMAL:
        raise RuntimeError(
            f"{what}: POT's exact solver (ot.emd2) stopped before optimality: "
            f"{log['warning']}"
        )
    return max(float(value), 0.0)


def pairwise_ot_costs(
    cost: Callable[[int, int], np.ndarray],
    labels: np.ndarray,
    labels_other: np.ndarray,
    *,
    symmetric: bool,
    what: str,
) -> np.ndarray:
    """Optimal-transport cost between every pair of tasks.

    Each pair is one linear program, so the loop over pairs is the work itself.

    Parameters
    ----------
    cost : callable
        ``cost(i, j)`` is the ground-cost matrix between the rows of task ``i``
        (first set) and task ``j`` (second set).
    labels : ndarray of shape (n_tasks,)
        Task labels of the first set.
    labels_other : ndarray of shape (n_tasks_other,)
        Task labels of the second set.
    symmetric : bool
        Whether both sets are the same tasks and ``cost(j, i) == cost(i, j).T``;
        then only the pairs ``i < j`` are solved and the diagonal is zero.
    what : str
        Name of the metric, for error messages.

    Returns
    -------
    costs : ndarray of shape (n_tasks, n_tasks_other)
        The optimal-transport cost of each pair.
    """
    labels, labels_other = (
        np.asarray(labels).tolist(),
        np.asarray(labels_other).tolist(),
    )
    n_tasks, n_tasks_other = len(labels), len(labels_other)
    out = np.zeros((n_tasks, n_tasks_other))
    if symmetric:
        pairs = zip(*np.triu_indices(n_tasks, k=1), strict=True)
    else:
        pairs = np.ndindex(n_tasks, n_tasks_other)
    for i, j in pairs:
        pair = f"{what} between tasks {labels[i]!r} and {labels_other[j]!r}"
        out[i, j] = uniform_emd2(cost(i, j), what=pair)
    if symmetric:
        out += out.T
    return out
