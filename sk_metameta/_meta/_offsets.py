"""Per-task offsets: a task's transferred predictions recentred on its own rows.

What transfers between related tasks is mostly their shape (the slopes); what
sets a task apart is often its level. Pooled models with a per-task intercept are
strong for that reason. After the rule has combined the sources, each fitted
task's predictions get an offset fitted on its labelled rows and shrunk toward
zero with a pseudo-count ``m`` (in rows: a task with ``n`` rows keeps about
``n / (n + m)`` of the shift its rows ask for):

- a regressor: ``delta_t = sum_i w_i (y_i - f_i) / (sum_i w_i + m)``, added to
  the predictions of each output;
- a classifier with probabilities: ``delta_t`` added to the logarithm of the
  probabilities (a shift of the log-odds), the maximum of the task's
  log-likelihood less ``m / 2 * hbar * delta**2`` (``hbar`` the mean of ``p (1 -
  p)`` over the task's rows, so that ``m`` counts rows here too), by a few
  Newton steps for all tasks at once (each class's shift half a diagonal
  step: for two classes, Newton's step of the log-odds).

``m`` is chosen on the episodes with the rule's other settings; infinity (no
offset) is one of the choices, and the one with a fixed ``strength``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OFFSET_COUNTS", "shifted", "task_offsets"]

#: Pseudo-counts of the offsets chosen from (infinity: no offset).
OFFSET_COUNTS = np.array([0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, np.inf])

#: Newton steps of a classifier's offsets.
NEWTON_STEPS = 8

#: Least probability before taking its logarithm.
EPS = 1e-6


def _segment_sum(values, codes, n_segments):
    """Sum of the rows of ``values`` (n, r) in each segment: (n_segments, r)."""
    return np.stack(
        [np.bincount(codes, weights=v, minlength=n_segments) for v in values.T], axis=1
    )


def shifted(response, offsets, log):
    """Responses with the offsets of their rows (``offsets`` of shape (n, r))."""
    if not log:
        return response + offsets
    z = np.log(np.clip(response, EPS, 1.0)) + offsets
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def task_offsets(response, truth, codes, n_tasks, m, sample_weight=None, *, log):
    """The offset of every task, fitted on its rows.

    Parameters
    ----------
    response : ndarray of shape (n_samples, n_responses)
        The transferred predictions (probabilities of a classifier).
    truth : ndarray of shape (n_samples, n_responses)
        The true responses (one-hot classes).
    codes : ndarray of int of shape (n_samples,)
        Task of each row, in ``[0, n_tasks)``.
    n_tasks : int
        Number of tasks.
    m : float
        Pseudo-count (``inf``: no offset).
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights.
    log : bool
        Whether ``response`` are probabilities, shifted in log space.

    Returns
    -------
    offsets : ndarray of shape (n_tasks, n_responses)
    """
    n_resp = response.shape[1]
    if not np.isfinite(m):
        return np.zeros((n_tasks, n_resp))
    w = np.ones(codes.shape[0]) if sample_weight is None else sample_weight
    total = np.bincount(codes, weights=w, minlength=n_tasks)
    if not log:
        resid = _segment_sum(w[:, None] * (truth - response), codes, n_tasks)
        return resid / (total + m)[:, None]
    variance = response * (1 - response)
    with np.errstate(invalid="ignore", divide="ignore"):
        hbar = _segment_sum(w[:, None] * variance, codes, n_tasks) / total[:, None]
    prior = m * np.nan_to_num(hbar) + 1e-12
    delta = np.zeros((n_tasks, n_resp))
    for _ in range(NEWTON_STEPS):
        p = shifted(response, delta[codes], log=True)
        grad = _segment_sum(w[:, None] * (truth - p), codes, n_tasks) - prior * delta
        hess = _segment_sum(w[:, None] * p * (1 - p), codes, n_tasks) + prior
        # every class moves: half a diagonal step each (for two classes, the
        # Newton step of the log-odds)
        delta += 0.5 * grad / hess
    return delta
