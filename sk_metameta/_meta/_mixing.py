"""Predictions of a task as a weighted mixture of the fitted tasks' models.

Every task that is predicted gets a row of weights over the fitted models: its
own model (weight ``own``) and its sources' (the rest, by ``source_weights_``),
or, for a task not seen in fit, its nearest fitted tasks (zero-shot). Each fitted
model then predicts once, on the rows of all the tasks that draw on it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .._components import component_errors
from ..transfer.base import check_source_weights, normalize_rows
from ._responses import fill_unscored, outputs

__all__ = ["combine", "mixture_weights", "rule_weights", "zero_shot_weights"]


def _rows_into(n_rows, rows, block) -> sparse.csr_array:
    """A ``(n_rows, ...)`` matrix holding ``block``'s rows at ``rows``, else zero."""
    place = sparse.csr_array(
        (np.ones(rows.size), (rows, np.arange(rows.size))), shape=(n_rows, rows.size)
    )
    return sparse.csr_array(place @ sparse.csr_array(block))


def rule_weights(rule, similarity, transferability, keep) -> sparse.csr_array:
    """The rule's source weights, validated, kept to the graph, normalised.

    Parameters
    ----------
    rule : BaseTransferRule
        The transfer rule.
    similarity : scipy.sparse.csr_array of shape (n_targets, n_tasks)
        Similarity of each target to its sources (the graph's entries).
    transferability : scipy.sparse.csr_array of shape (n_targets, n_tasks) or None
        The sources' scores on the targets' rows (NaN: no score).
    keep : ndarray of bool of shape (n_tasks,)
        Sources that may have a weight.

    Returns
    -------
    weights : scipy.sparse.csr_array of shape (n_targets, n_tasks)
        Rows sum to one, or to zero for a target without a source.
    """
    shape = similarity.shape
    kept = sparse.diags_array(keep.astype(float))
    S = sparse.csr_array(similarity @ kept)
    scores = None if transferability is None else fill_unscored(transferability)
    with component_errors(rule):
        W = rule.source_weights(S, scores)
    W = sparse.csr_array(check_source_weights(rule, W, shape))
    allowed = sparse.csr_array(
        (np.ones(similarity.nnz), similarity.indices, similarity.indptr), shape=shape
    )
    W = sparse.csr_array(W.multiply(allowed) @ kept)
    W.eliminate_zeros()
    return normalize_rows(W)


def mixture_weights(codes, own_weights, source_weights, zero_shot=None):
    """Weights over the fitted models of the tasks predicted.

    Parameters
    ----------
    codes : ndarray of int of shape (n_tasks_predicted,)
        Number of each predicted task among the fitted tasks, ``-1`` for a task
        not seen in fit.
    own_weights : ndarray of shape (n_fitted,)
        Weight of each fitted task's own model.
    source_weights : scipy.sparse.csr_array of shape (n_fitted, n_fitted)
        Each fitted task's weights over its sources (rows sum to one or zero).
    zero_shot : scipy.sparse.csr_array of shape (n_unseen, n_fitted), default=None
        Weights of the tasks not seen in fit (see :func:`zero_shot_weights`), in
        the order they come in ``codes``.

    Returns
    -------
    weights : scipy.sparse.csr_array of shape (n_tasks_predicted, n_fitted)
    """
    n = codes.shape[0]
    seen = np.flatnonzero(codes >= 0)
    own = own_weights[codes[seen]]
    W = sparse.diags_array(1.0 - own) @ source_weights[codes[seen]]
    mine = sparse.csr_array((own, (np.arange(seen.size), codes[seen])), shape=W.shape)
    out = _rows_into(n, seen, W + mine)
    if zero_shot is not None:
        unseen = np.flatnonzero(codes < 0)
        out = sparse.csr_array(out + _rows_into(n, unseen, zero_shot))
    out.eliminate_zeros()
    return out


def zero_shot_weights(similarity, neighbors, rule, has_model) -> sparse.csr_array:
    """Weights over the fitted models of tasks not seen in fit.

    The rule's source weights without transferability, over the nearest fitted
    tasks that have a model of their own; the plain similarities if those are
    all zero; the nearest such task if it has none among its neighbours.

    Parameters
    ----------
    similarity : scipy.sparse.csr_array of shape (n_new, n_fitted)
        Kernel similarity to the nearest fitted tasks.
    neighbors : TaskNeighbors
        Those tasks, nearest first.
    rule : BaseTransferRule
        The transfer rule.
    has_model : ndarray of bool of shape (n_fitted,)
        Fitted tasks with a model of their own.

    Returns
    -------
    weights : scipy.sparse.csr_array of shape (n_new, n_fitted)
        Rows sum to one.
    """
    keep = sparse.diags_array(has_model.astype(float))
    S = sparse.csr_array(similarity @ keep)
    with component_errors(rule):
        W = rule.source_weights(similarity, None)
    W = sparse.csr_array(check_source_weights(rule, W, similarity.shape))
    W = sparse.csr_array(W @ keep)
    empty = np.asarray(W.sum(axis=1)).ravel() <= 0
    if empty.any():
        pick = sparse.diags_array(empty.astype(float))
        W = sparse.csr_array(sparse.diags_array((~empty).astype(float)) @ W + pick @ S)
    empty = np.asarray(W.sum(axis=1)).ravel() <= 0
    if empty.any():
        # the nearest neighbour with a model (neighbours are sorted, nearest first)
        rows = np.flatnonzero(empty)
        ok = has_model[neighbors.indices[rows]]
        first = np.argmax(ok, axis=1)
        if not ok[np.arange(rows.size), first].all():
            raise ValueError(
                "a task not seen in fit has no fitted task with a model of its own "
                "among its neighbours; allow more neighbours (n_neighbors)."
            )
        nearest = neighbors.indices[rows, first]
        W = sparse.csr_array(
            sparse.diags_array((~empty).astype(float)) @ W
            + sparse.csr_array((np.ones(rows.size), (rows, nearest)), shape=W.shape)
        )
    W.eliminate_zeros()
    return normalize_rows(W)


def combine(models, X, index, weights, classes, n_responses, *, labels, respond=None):
    """Mixed responses of every row (and labels, for ``predict``).

    Parameters
    ----------
    models : list of fitted estimators or None
        The fitted tasks' models.
    X : ndarray of shape (n_samples, n_features)
        Rows to predict.
    index : TaskIndex
        Their tasks.
    weights : scipy.sparse.csr_array of shape (index.n_tasks, n_fitted)
        Each task's weights over the fitted models.
    classes : ndarray or None
        Classes of a classifier.
    n_responses : int
        Columns of a response.
    labels : bool
        Whether predicted labels are needed (``predict`` of a classifier).
    respond : ndarray of bool of shape (index.n_tasks,), default=None
        Tasks whose labels must come from their responses even when they use
        one model (their responses are moved afterwards).

    Returns
    -------
    out : ndarray of shape (n_samples, n_responses)
        Weighted responses.
    pred : ndarray of shape (n_samples,) or None
        Labels of the rows whose task uses one model with weight one.
    single : ndarray of bool of shape (n_samples,)
        Those rows.
    """
    n = X.shape[0]
    W = sparse.csr_array(weights)
    if labels and classes is not None:
        single_task = np.zeros(index.n_tasks, dtype=bool)
        rows_of = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
        single_task[rows_of[W.data == 1.0]] = True
        if respond is not None:
            single_task &= ~respond
    else:
        single_task = None
    single = (
        np.zeros(n, dtype=bool) if single_task is None else single_task[index.codes]
    )
    out = np.zeros((n, n_responses))
    pred = None if single_task is None else np.empty(n, dtype=classes.dtype)
    by_model = sparse.csc_array(W)
    for m in np.flatnonzero(np.diff(by_model.indptr)):
        span = slice(by_model.indptr[m], by_model.indptr[m + 1])
        users, user_weights = by_model.indices[span], by_model.data[span]
        rows = np.concatenate([index.rows(u) for u in users])
        row_weights = np.repeat(user_weights, index.counts[users])
        need_labels = bool(single[rows].any())
        need_resp = not single[rows].all()
        lab, resp = outputs(
            models[m], X[rows], classes, labels=need_labels, response=need_resp
        )
        if need_resp:
            out[rows] += row_weights[:, None] * resp
        if need_labels:
            pred[rows[single[rows]]] = lab[single[rows]]
    return out, pred, single
