"""How much the sources count against a target's own data, chosen from data.

- Instances rules: the weight of a source row relative to a target row, one value
  for all tasks, chosen by cross-fitting targets' rows with their sources' rows.
- Predictions rules: the own model's weight ``n / (n + m)``, one pseudo-count
  ``m`` for all tasks, chosen by the squared error of cross-fitted mixtures.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from ._per_task import cross_fit, fold_splits, out_of_fold, source_rows

__all__ = ["INSTANCE_STRENGTHS", "choose_instance_strength", "own_weights"]

#: Strengths (weight of a source row relative to a target row) that an instances
#: rule chooses from with ``strength="auto"``.
INSTANCE_STRENGTHS = np.array(
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
)

#: At most this many target tasks take part in choosing ``strength="auto"`` for an
#: instances rule (one value for all tasks; its cost grows with the tasks used).
STRENGTH_TASKS = 50


def _strength_path(estimator, own, sources, X_test, classes, strengths):
    """Responses on ``X_test`` of fits on a target's rows plus weighted source rows.

    ``own`` and ``sources`` are ``(X, y, row_weights)`` triples (``row_weights``
    of ``own`` may be None); the source rows' weights are multiplied by each of
    ``strengths`` in turn. Returns an array of shape
    ``(len(strengths), n_test, n_responses)``.
    """
    X_own, y_own, w_own = own
    X_src, y_src, w_src = sources
    w_own = np.ones(X_own.shape[0]) if w_own is None else w_own
    X_all = np.concatenate([X_own, X_src])
    y_all = np.concatenate([y_own, y_src])
    out = []
    for strength in strengths:
        if strength == 0:
            out.append(out_of_fold(estimator, X_own, y_own, w_own, X_test, classes))
            continue
        w_all = np.concatenate([w_own, strength * w_src])
        out.append(out_of_fold(estimator, X_all, y_all, w_all, X_test, classes))
    return np.stack(out)


def _one_standard_error(loss, grid) -> float:
    """The strongest transfer whose mean loss is within one standard error of the best.

    ``loss`` is ``(n_targets, n_grid)``; walking up the grid from the strength of
    smallest mean loss, the chosen strength is the last one before a mean loss
    more than one standard error (of the targets' paired differences to the best)
    above the smallest.
    """
    mean = loss.mean(axis=0)
    best = int(np.argmin(mean))
    diff = loss - loss[:, [best]]
    n = loss.shape[0]
    se = diff.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else 0
    ok = mean - mean[best] <= se
    chosen = best
    while chosen + 1 < grid.shape[0] and ok[chosen + 1]:
        chosen += 1
    return float(grid[chosen])


def choose_instance_strength(
    estimator, X, target, sample_weight, index, weights, n_folds, n_jobs
) -> float:
    """One strength for all tasks, by cross-fitting on the targets' own rows.

    For up to ``STRENGTH_TASKS`` targets with sources (evenly spaced in the order
    of the tasks), each fold of a target's rows is predicted by fits on its other
    rows plus its sources' rows weighted with each strength of
    ``INSTANCE_STRENGTHS``. Each target's loss is the mean squared error of its
    out-of-fold responses (the Brier score for a classifier); the strength is
    chosen by the one-standard-error rule. Without a target that has sources and
    two rows, 1.
    """
    grid = INSTANCE_STRENGTHS
    has_sources = np.asarray(weights.sum(axis=1)).ravel() > 0
    targets = np.flatnonzero(has_sources & (index.counts >= 2))
    if targets.size == 0:
        return 1.0
    if targets.size > STRENGTH_TASKS:
        pick = np.linspace(0, targets.size - 1, STRENGTH_TASKS)
        targets = targets[np.round(pick).astype(np.intp)]
    splits = fold_splits(index, n_folds, target.codes, targets)
    sources = {t: source_rows(index, weights, t) for t in targets}
    y_fit = target.y if target.classes is None else target.codes
    classes = None if target.classes is None else np.arange(target.n_responses)

    def part(rows, extra=None):
        w = None if sample_weight is None else sample_weight[rows]
        if extra is not None:
            w = extra if w is None else w * extra
        return X[rows], y_fit[rows], w

    results = Parallel(n_jobs=n_jobs)(
        delayed(_strength_path)(
            estimator, part(train), part(*sources[t]), X[test], classes, grid
        )
        for t, train, test in splits
    )
    rw_all = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    loss = np.zeros((index.n_tasks, grid.shape[0]))
    for (t, _, test), resp in zip(splits, results, strict=True):
        Y = target.responses(test)
        loss[t] += ((resp - Y) ** 2).sum(axis=2) @ rw_all[test]
    # every target counts the same: its mean loss per (weighted) row
    loss = loss[targets] / index.sum(rw_all)[targets, None]
    return _one_standard_error(loss, grid)


def own_weights(
    strength,
    estimator,
    X,
    target,
    sample_weight,
    index,
    weights,
    responses,
    fittable,
    n_folds,
    n_jobs,
):
    """Weight of each task's own model against its sources' ensemble.

    A task without a model of its own (``fittable`` False) gets weight zero.
    Returns the weights and the pseudo-count ``m`` used.
    """
    has_sources = np.asarray(weights.sum(axis=1)).ravel() > 0
    n = index.counts.astype(float)
    if strength != "auto":
        m = float(strength)
        own = n / (n + m)
        return np.where(fittable, np.where(has_sources, own, 1.0), 0.0), m
    # the sources' ensemble on every target's rows
    target_rows, outputs = responses
    ensemble = np.zeros((X.shape[0], target.n_responses))
    by_source = weights.tocsc()
    for s, rows in enumerate(target_rows):
        if outputs[s] is None:
            continue
        w_of_target = np.zeros(index.n_tasks)
        span = slice(by_source.indptr[s], by_source.indptr[s + 1])
        w_of_target[by_source.indices[span]] = by_source.data[span]
        ensemble[rows] += w_of_target[index.codes[rows], None] * outputs[s][1]
    own_oof = cross_fit(
        estimator, X, target.y, target, sample_weight, index, n_folds, fittable, n_jobs
    )
    Y = target.responses(np.arange(X.shape[0]))
    diff = own_oof - ensemble
    rw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    num = index.sum(rw * np.einsum("ij,ij->i", Y - ensemble, diff))
    den = index.sum(rw * np.einsum("ij,ij->i", diff, diff))
    # own weight n / (n + m), one pseudo-count m for all tasks: the m whose
    # weights minimise the squared error of the cross-fitted mixtures of all
    # tasks together (a per-task weight fitted on a few rows is too noisy)
    used = fittable & has_sources & (index.counts >= 2) & (den > 0)
    m = 1.0
    if used.any():
        grid = np.concatenate([[0.0], np.geomspace(0.1, 1e5, 61), [np.inf]])
        with np.errstate(invalid="ignore", divide="ignore"):
            lam = np.nan_to_num(n[used] / (n[used] + grid[:, None]), nan=0.0)
        loss = (lam**2 * den[used] - 2 * lam * num[used]).sum(axis=1)
        m = grid[np.argmin(loss)]
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.nan_to_num(n / (n + m), nan=0.0)
    return np.where(fittable, np.where(has_sources, own, 1.0), 0.0), float(m)
