"""Fitting one clone of the wrapped estimator per task, through joblib.

Each task's fit set is its own rows, or (instances rules) its rows plus its
sources' rows with relative weights. Every job runs with one BLAS thread, in
this process or in a joblib worker (which does not inherit the limit of the
process that started it): parallelism comes from ``n_jobs``, across tasks.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from .._tasks import TaskIndex, _plain
from ._mixing import rule_weights
from ._responses import class_columns, outputs, run_job

__all__ = [
    "check_classes_per_task",
    "as_mean_one",
    "classes_per_task",
    "feasible_rules",
    "fit_models",
    "fit_sets",
    "out_of_fold",
    "source_rows",
]


def fit_one(estimator, X, y, sample_weight, task=None):
    """Fit one per-task clone; an error of the estimator names the task."""
    try:
        if sample_weight is None:
            return estimator.fit(X, y)
        return estimator.fit(X, y, sample_weight=sample_weight)
    except Exception as exc:
        if task is None:
            raise
        message = (
            f"fitting {type(estimator).__name__} on task {task!r} ({X.shape[0]} "
            f"{'row' if X.shape[0] == 1 else 'rows'}) failed: {exc}"
        )
        try:
            error = type(exc)(message)
        except Exception:  # an exception type that needs other arguments
            raise exc from None
        raise error from exc


def out_of_fold(estimator, X, y, sample_weight, X_test, classes):
    """Response on ``X_test`` of a clone fitted on one cross-fitting fold.

    A classifier fold whose rows hold one class predicts that class.
    """
    if classes is not None and np.unique(y).shape[0] < 2:
        resp = np.zeros((X_test.shape[0], classes.shape[0]))
        resp[:, class_columns(classes, y[:1])] = 1.0
        return resp
    model = fit_one(clone(estimator), X, y, sample_weight)
    return outputs(model, X_test, classes, labels=False)[1]


def source_rows(index: TaskIndex, weights: sparse.csr_array, t: int):
    """Rows of target ``t``'s sources and their weights relative to its rows.

    A source row weighs ``w / mean(w)``, with ``w`` its task's source weight and
    the mean over the target's sources.
    """
    start, stop = weights.indptr[t], weights.indptr[t + 1]
    sources, w = weights.indices[start:stop], weights.data[start:stop]
    keep = w > 0
    sources, w = sources[keep], w[keep]
    if sources.size == 0:
        return np.empty(0, dtype=np.intp), np.empty(0)
    lengths = index.counts[sources]
    ends = np.cumsum(lengths)
    positions = np.arange(ends[-1]) + np.repeat(
        index.offsets[sources] - (ends - lengths), lengths
    )
    return index.order[positions], np.repeat(w / w.mean(), lengths)


def fit_sets(index: TaskIndex, weights=None, strength=None):
    """Rows (and relative row weights, or None) of each task's fit.

    Without ``weights``, a task's own rows; with them (an instances rule), its
    rows (weight 1) and its sources' rows weighted ``strength * w / mean(w)``,
    all scaled to average one (:func:`as_mean_one`).
    """
    sets = []
    for t in range(index.n_tasks):
        own = index.rows(t)
        rows, row_w = (
            (np.empty(0, np.intp), None)
            if weights is None
            else source_rows(index, weights, t)
        )
        if rows.size == 0 or not strength:
            sets.append((own, None))
            continue
        w = np.concatenate([np.ones(own.shape[0]), strength * row_w])
        sets.append((np.concatenate([own, rows]), as_mean_one(w)))
    return sets


def as_mean_one(row_weights):
    """Relative row weights scaled to average one over the rows of a fit.

    A fit on a target's rows plus its sources' rows, weighted, then sees its
    rows' weights sum to its number of rows: the wrapped estimator's
    regularisation (``alpha`` of a ridge, ``C`` of a logistic regression) acts
    on them as on a data set of that many rows, as in a fit on all rows
    (pooled), not as on the few rows their weights add up to.
    """
    return row_weights * (row_weights.size / row_weights.sum())


def fit_models(estimator, X, y, sample_weight, sets, labels, n_jobs, fittable=None):
    """Fit a clone on each fit set (through joblib); None where not fittable."""
    todo = [t for t in range(len(sets)) if fittable is None or fittable[t]]

    def job(t):
        rows, row_w = sets[t]
        if sample_weight is not None:
            w = sample_weight[rows]
            row_w = w if row_w is None else w * row_w
        return delayed(run_job)(
            fit_one, clone(estimator), X[rows], y[rows], row_w, _plain(labels[t])
        )

    fitted = Parallel(n_jobs=n_jobs)(job(t) for t in todo)
    models = [None] * len(sets)
    for t, model in zip(todo, fitted, strict=True):
        models[t] = model
    return models


def classes_per_task(index: TaskIndex, y_codes, n_classes, weights=None):
    """Number of classes each task's fit sees (with its weighted sources')."""
    present = np.zeros((index.n_tasks, n_classes), dtype=bool)
    present[index.codes, y_codes] = True
    if weights is not None:
        reach = sparse.csr_array(weights > 0, dtype=float)
        present |= (reach @ present.astype(float)) > 0
    return present.sum(axis=1)


def check_classes_per_task(index, target, weights=None, fittable=None):
    """A classifier task must see two classes: refuse clearly before fitting.

    With ``fittable`` (a predictions rule), a task of one class is refused only
    when it draws on no source model.
    """
    if index.labels[0] is None and index.n_tasks == 1:
        return  # tasks=None: the wrapped estimator decides, as it would alone
    if fittable is not None:
        has_sources = np.asarray(weights.sum(axis=1)).ravel() > 0
        bad = np.flatnonzero(~fittable & ~has_sources)
        if bad.size:
            names = ", ".join(repr(_plain(index.labels[t])) for t in bad[:5])
            raise ValueError(
                f"{bad.size} task(s) have rows of one class only and no source "
                f"model to draw on: {names}; a per-task classifier needs at "
                "least two classes. Allow them more neighbours (n_neighbors), "
                "or give them rows of two classes."
            )
        return
    classes = target.classes
    counts = classes_per_task(index, target.codes, classes.shape[0], weights)
    bad = np.flatnonzero(counts < 2)
    if bad.size:
        names = ", ".join(
            f"{_plain(index.labels[t])!r} (class "
            f"{_plain(classes[target.codes[index.rows(t)[0]]])!r})"
            for t in bad[:5]
        )
        more = f" and {bad.size - 5} more" if bad.size > 5 else ""
        raise ValueError(
            f"{bad.size} task(s) have rows of one class only: {names}{more}; a "
            "per-task classifier needs at least two classes. Give every task "
            "rows of two classes, merge such tasks, or use a rule that "
            "transfers ('ensemble', 'select': such a task predicts from its "
            "sources' models; 'instance': its fit includes source rows)."
        )


def feasible_rules(rules, index, target, graph, transferability, fittable):
    """The candidate rules under which every classifier task sees two classes.

    Under an instances rule a task's fit includes its sources' rows; under a
    predictions rule a task of one class predicts from its sources' models. A
    rule under which some task can do neither is dropped; if every rule is, the
    first one's error (naming the tasks) is raised.
    """
    kept, error = [], None
    for rule, by_name in rules:
        predictions = rule.transfers == "predictions"
        keep = fittable if predictions else np.ones_like(fittable)
        weights = rule_weights(rule, graph, transferability, keep)
        try:
            check_classes_per_task(
                index, target, weights, fittable if predictions else None
            )
        except ValueError as exc:
            error = error or exc
            continue
        kept.append((rule, by_name))
    if not kept:
        raise error
    return kept
