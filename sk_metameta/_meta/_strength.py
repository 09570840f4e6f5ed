"""How much the sources count against a target's own data, chosen on episodes.

Every setting is chosen once for all targets, by the loss over episodes drawn
from the fitted tasks (:mod:`._episodes`): the mean squared error of the
responses on each episode's hidden rows (the Brier score for a classifier),
averaged over the episodes, each episode counting the same.

- Predictions rules: the target's own model gets the weight ``n / (n + m)``
  (``n`` its labelled rows) and its sources' ensemble the rest; one
  pseudo-count ``m`` for all tasks, and, for a rule named by the user that has
  a ``temperature`` (how sharply the sources' scores select them), the
  temperature. The own model of an episode is fitted on its visible rows; the
  sources' models are the tasks' own models, already fitted, whose responses on
  the episode's rows were computed with the transferability. The loss of every
  pseudo-count comes in closed form from three sums per episode.
- Instances rules: the weight of a source row relative to a target row, one
  value for all tasks, from a grid: each episode's visible rows plus its
  sources' rows, weighted with a strength, are fitted and predict its hidden
  rows, for four strengths of the grid around the best; the strength of least
  loss is chosen, refined between the grid's points by a parabola.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from ._mixing import rule_weights
from ._offsets import OFFSET_COUNTS, shifted, task_offsets
from ._per_task import as_mean_one, out_of_fold, source_rows
from ._responses import run_job

__all__ = [
    "INSTANCE_STRENGTHS",
    "PSEUDO_COUNTS",
    "TEMPERATURES",
    "Choice",
    "choose_instance_strength",
    "choose",
    "choose_mixture",
    "own_weights",
]

#: Strengths (weight of a source row relative to a target row) that an instances
#: rule chooses from with ``strength="auto"``.
INSTANCE_STRENGTHS = np.array([0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0])

#: Pseudo-counts ``m`` of the own weights ``n / (n + m)`` of a predictions rule:
#: from 0 (the own model alone) to infinity (the sources alone).
PSEUDO_COUNTS = np.concatenate([[0.0], np.geomspace(0.1, 1e5, 61), [np.inf]])

#: Temperatures a predictions rule with a ``temperature`` chooses from.
TEMPERATURES = (0.0, 0.5, 1.0, 2.0, 4.0)

#: Least probability of the true class in the log loss of the episodes.
EPS = 1e-6


class Choice(NamedTuple):
    """The settings a rule gets from the episodes, and their loss.

    Attributes
    ----------
    rule : BaseTransferRule
        The rule, with its chosen temperature if it has one that was chosen.
    strength : float
        The chosen strength (a pseudo-count for a predictions rule).
    loss : float
        Mean loss over the episodes at these settings (NaN without episodes).
    offset : float
        Pseudo-count of the tasks' offsets (infinity: no offset).
    """

    rule: object
    strength: float
    loss: float
    offset: float = np.inf


def uses_log_loss(estimator, target) -> bool:
    """The episodes' loss is the log loss for a classifier with probabilities."""
    return target.classes is not None and hasattr(estimator, "predict_proba")


def _hidden_truth(target, sample_weight, episodes):
    """True responses and row weights (summing to one) of every episode."""
    truth, weights = [], []
    for rows in episodes.hidden:
        w = np.ones(rows.size) if sample_weight is None else sample_weight[rows]
        truth.append(target.responses(rows))
        weights.append(w / w.sum() if w.sum() > 0 else w)
    return truth, weights


def _fit_responses(estimator, X, y_fit, sample_weight, episodes, classes, n_jobs):
    """Responses of each episode's model fitted on its visible rows, on its rows.

    On the visible rows, then the hidden rows.

    ``None`` for a classifier episode whose visible rows hold one class (a task
    without a model of its own).
    """

    def weights(rows):
        return None if sample_weight is None else sample_weight[rows]

    todo = [
        e
        for e, rows in enumerate(episodes.visible)
        if classes is None or np.unique(y_fit[rows]).size >= 2
    ]
    found = Parallel(n_jobs=n_jobs)(
        delayed(run_job)(
            out_of_fold,
            estimator,
            X[episodes.visible[e]],
            y_fit[episodes.visible[e]],
            weights(episodes.visible[e]),
            X[np.concatenate([episodes.visible[e], episodes.hidden[e]])],
            classes,
        )
        for e in todo
    )
    out = [None] * episodes.n_episodes
    for e, resp in zip(todo, found, strict=True):
        out[e] = resp
    return out


def _sources_on_hidden(episodes):
    """Each episode's sources' responses on its hidden rows: ``(n_sources, h, r)``."""
    return [
        resp[:, rows.size :]
        for resp, rows in zip(episodes.responses, episodes.visible, strict=True)
    ]


class _Rows(NamedTuple):
    """The visible and hidden rows of some episodes, concatenated.

    Each episode's rows are its visible then its hidden rows; ``visible`` and
    ``hidden`` are positions in the concatenation of all episodes' rows.
    """

    visible: np.ndarray
    hidden: np.ndarray
    codes_visible: np.ndarray
    codes_hidden: np.ndarray
    truth_visible: np.ndarray
    truth_hidden: np.ndarray
    weight_visible: np.ndarray | None
    weight_hidden: np.ndarray  # summing to one in each episode


def _episode_rows(target, sample_weight, visible, hidden) -> _Rows:
    """The rows of the episodes whose visible and hidden rows are given."""
    sizes = [v.size + h.size for v, h in zip(visible, hidden, strict=True)]
    start = np.concatenate([[0], np.cumsum(sizes)])
    pos_v, pos_h, codes_v, codes_h, weights = [], [], [], [], []
    for e, (v, h) in enumerate(zip(visible, hidden, strict=True)):
        pos_v.append(start[e] + np.arange(v.size))
        pos_h.append(start[e] + v.size + np.arange(h.size))
        codes_v.append(np.full(v.size, e))
        codes_h.append(np.full(h.size, e))
        w = np.ones(h.size) if sample_weight is None else sample_weight[h]
        weights.append(w / w.sum() if w.sum() > 0 else w)
    rows_v, rows_h = np.concatenate(visible), np.concatenate(hidden)
    return _Rows(
        np.concatenate(pos_v),
        np.concatenate(pos_h),
        np.concatenate(codes_v),
        np.concatenate(codes_h),
        target.responses(rows_v),
        target.responses(rows_h),
        None if sample_weight is None else sample_weight[rows_v],
        np.concatenate(weights),
    )


def offset_counts(estimator, target) -> np.ndarray:
    """Pseudo-counts of the offsets to choose from (none for a voting classifier)."""
    if target.classes is None or uses_log_loss(estimator, target):
        return OFFSET_COUNTS
    return np.array([np.inf])


def _offset_losses(preds, rows: _Rows, log_loss, counts) -> np.ndarray:
    """Loss of every episode (rows) for every offset pseudo-count (columns).

    ``preds`` holds each episode's responses on its visible then hidden rows;
    the offsets are fitted on the visible rows, the loss is on the hidden ones.
    """
    full = np.concatenate(preds)
    n_e = len(preds)
    out = np.empty((n_e, counts.shape[0]))
    for j, m in enumerate(counts):
        delta = task_offsets(
            full[rows.visible],
            rows.truth_visible,
            rows.codes_visible,
            n_e,
            m,
            rows.weight_visible,
            log=log_loss,
        )
        moved = shifted(full[rows.hidden], delta[rows.codes_hidden], log_loss)
        loss = row_losses(moved, rows.truth_hidden, log_loss) * rows.weight_hidden
        out[:, j] = np.bincount(rows.codes_hidden, weights=loss, minlength=n_e)
    return out


def _mixtures(W, episodes, own, m):
    """Each episode's mixture of its own model and its sources', on all its rows."""
    W = W.toarray()
    has_sources = W.sum(axis=1) > 0
    n_visible = episodes.n_visible
    out = []
    for e, resp in enumerate(episodes.responses):
        ensemble = np.einsum("j,jhr->hr", W[e, episodes.sources(e)], resp)
        if own[e] is None:
            out.append(ensemble)
            continue
        lam = n_visible[e] / (n_visible[e] + m) if has_sources[e] else 1.0
        out.append(lam * own[e] + (1 - lam) * ensemble)
    return out


def row_losses(response, truth, log_loss):
    """Loss of each row: ``-log p`` of the true class, or the squared error.

    ``response`` and ``truth`` are ``(..., n_rows, n_responses)``; the result
    is ``(..., n_rows)``.
    """
    if log_loss:
        p = np.einsum("...hr,hr->...h", response, truth)
        return -np.log(np.clip(p, EPS, 1.0))
    return ((response - truth) ** 2).sum(axis=-1)


def _mixture_losses(W, S, stacks, own, truth, weights, n_visible, log_loss):
    """Loss of every episode (rows) for every pseudo-count (columns).

    ``W`` are the episodes' source weights, ``S`` their similarity (whose
    entries are the sources of ``stacks``). The squared error of every
    pseudo-count comes in closed form from three weighted sums; the log loss
    from the probabilities of the true class of the two parts.
    """
    n_e = len(stacks)
    has_sources = np.asarray(W.sum(axis=1)).ravel() > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.nan_to_num(n_visible[:, None] / (n_visible[:, None] + PSEUDO_COUNTS))
    # a target without sources keeps its own model; one without a model its sources
    lam = np.where(has_sources[:, None], lam, 1.0)
    lam[[o is None for o in own]] = 0.0
    W = W.toarray()
    loss = np.empty((n_e, PSEUDO_COUNTS.shape[0]))
    for e in range(n_e):
        w = W[e, S.indices[S.indptr[e] : S.indptr[e + 1]]]
        ensemble = np.einsum("j,jhr->hr", w, stacks[e])
        mine = ensemble if own[e] is None else own[e]
        if log_loss:
            p_ens = np.einsum("hr,hr->h", ensemble, truth[e])
            p_own = np.einsum("hr,hr->h", mine, truth[e])
            p = lam[e, :, None] * p_own + (1 - lam[e, :, None]) * p_ens
            loss[e] = -np.log(np.clip(p, EPS, 1.0)) @ weights[e]
            continue
        resid, diff = truth[e] - ensemble, mine - ensemble
        A = weights[e] @ np.einsum("hr,hr->h", diff, diff)
        B = weights[e] @ np.einsum("hr,hr->h", resid, diff)
        C = weights[e] @ np.einsum("hr,hr->h", resid, resid)
        loss[e] = lam[e] ** 2 * A - 2 * lam[e] * B + C
    return loss


def choose_mixture(
    rule,
    tune_temperature,
    estimator,
    X,
    target,
    sample_weight,
    episodes,
    scores,
    fittable,
    n_jobs,
) -> tuple[Choice, np.ndarray]:
    """The pseudo-count (and temperature) of a predictions rule, on the episodes.

    Parameters
    ----------
    rule : BaseTransferRule
        A rule that transfers predictions.
    tune_temperature : bool
        Whether to choose the rule's ``temperature`` among :data:`TEMPERATURES`.
    estimator : estimator object
        The wrapped estimator (fitted on each episode's visible rows).
    X, target, sample_weight
        The rows, encoded targets and row weights of the fit.
    episodes : Episodes
        The episodes, with their sources' responses.
    scores : scipy.sparse.csr_array of shape (n_episodes, n_tasks)
        The sources' scores on each episode's visible rows.
    fittable : ndarray of bool of shape (n_tasks,)
        Tasks with a model of their own.
    n_jobs : int or None
        Jobs for the episodes' fits.

    Returns
    -------
    choice : Choice
        The rule (with its temperature), the pseudo-count and the mean loss.
    losses : ndarray of shape (n_episodes,)
        Each episode's loss at the chosen settings.
    """
    own_all = _fit_responses(
        estimator, X, target.y, sample_weight, episodes, target.classes, n_jobs
    )
    own = [
        None if o is None else o[v.size :]
        for o, v in zip(own_all, episodes.visible, strict=True)
    ]
    stacks = _sources_on_hidden(episodes)
    truth, weights = _hidden_truth(target, sample_weight, episodes)
    log_loss = uses_log_loss(estimator, target)
    best = None
    for tau in TEMPERATURES if tune_temperature else (None,):
        candidate = rule if tau is None else clone(rule).set_params(temperature=tau)
        W = rule_weights(candidate, episodes.similarity, scores, fittable)
        loss = _mixture_losses(
            W,
            episodes.similarity,
            stacks,
            own,
            truth,
            weights,
            episodes.n_visible,
            log_loss,
        )
        mean = loss.mean(axis=0)
        j = int(np.argmin(mean))
        if best is None or mean[j] < best[0].loss:
            choice = Choice(candidate, float(PSEUDO_COUNTS[j]), float(mean[j]))
            best = choice, loss[:, j], W
    choice, losses, W = best
    # then the pseudo-count jointly with the offsets' (every eighth pseudo-count)
    rows = _episode_rows(target, sample_weight, episodes.visible, episodes.hidden)
    shifts = offset_counts(estimator, target)
    counts = np.unique(np.r_[PSEUDO_COUNTS[::8], choice.strength, np.inf])
    joint = np.stack(
        [
            _offset_losses(_mixtures(W, episodes, own_all, m), rows, log_loss, shifts)
            for m in counts
        ],
        axis=1,
    )  # (n_episodes, n_counts, n_offsets)
    mean = joint.mean(axis=0)
    i, j = np.unravel_index(np.argmin(mean), mean.shape)
    if mean[i, j] < choice.loss:
        offset = float(shifts[j])
        choice = Choice(choice.rule, float(counts[i]), float(mean[i, j]), offset)
        losses = joint[:, i, j]
    return choice, losses


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
        w_all = as_mean_one(np.concatenate([w_own, strength * w_src]))
        out.append(out_of_fold(estimator, X_all, y_all, w_all, X_test, classes))
    return np.stack(out)


def _best_strength(loss, grid) -> float:
    """The strength of least mean loss, refined between the grid's points.

    ``loss`` is ``(n_episodes, n_grid)``. A parabola through the mean losses at
    the best grid point and its two neighbours, in the logarithm of the
    strength, gives the strength at its vertex (kept between those neighbours);
    at an end of the grid, the end.
    """
    mean = loss.mean(axis=0)
    j = int(np.argmin(mean))
    if j == 0 or j == grid.shape[0] - 1:
        return float(grid[j])
    x = np.log(grid[j - 1 : j + 2])
    a, b, _ = np.polyfit(x, mean[j - 1 : j + 2], 2)
    if a <= 0:
        return float(grid[j])
    return float(np.exp(np.clip(-b / (2 * a), x[0], x[2])))


def choose_instance_strength(
    rule, estimator, X, target, sample_weight, index, episodes, scores, n_jobs
) -> tuple[Choice, np.ndarray]:
    """The weight of a source row relative to a target row, on the episodes.

    Each episode's visible rows (weight 1) and its sources' rows (a row of
    source ``a`` weighing ``strength * w_a / mean(w)``, ``w`` the rule's source
    weights) are fitted with a strength of :data:`INSTANCE_STRENGTHS` and
    predict its hidden rows: first every other strength of the grid (0.003,
    0.03, 0.3), then the one next to the best of those on the side where the
    parabola through them has its vertex; the strength of least mean loss is
    chosen, refined by a parabola (see :func:`_best_strength`). Four fits per
    episode.

    Parameters
    ----------
    rule : BaseTransferRule
        A rule that transfers instances.
    estimator, X, target, sample_weight
        As for :func:`choose_mixture`.
    index : TaskIndex
        The fitted tasks.
    episodes : Episodes
        The episodes.
    scores : scipy.sparse.csr_array of shape (n_episodes, n_tasks) or None
        The sources' scores on each episode's visible rows, if the rule uses them.
    n_jobs : int or None
        Jobs for the fits.

    Returns
    -------
    choice : Choice
        The rule, the strength and the mean loss.
    losses : ndarray of shape (n_episodes,)
        Each episode's loss at the chosen strength.
    """
    grid = INSTANCE_STRENGTHS
    keep = np.ones(index.n_tasks, dtype=bool)
    W = rule_weights(rule, episodes.similarity, scores, keep)
    y_fit = target.y if target.classes is None else target.codes
    classes = None if target.classes is None else np.arange(target.n_responses)

    def part(rows, extra=None):
        w = None if sample_weight is None else sample_weight[rows]
        if extra is not None:
            w = extra if w is None else w * extra
        return X[rows], y_fit[rows], w

    todo = [e for e in range(episodes.n_episodes) if W.indptr[e + 1] > W.indptr[e]]
    if not todo:
        return Choice(rule, 1.0, np.nan), np.full(0, np.nan)
    log_loss = uses_log_loss(estimator, target)
    shifts = offset_counts(estimator, target)
    rows = _episode_rows(
        target,
        sample_weight,
        [episodes.visible[e] for e in todo],
        [episodes.hidden[e] for e in todo],
    )

    def losses(strengths):
        """Loss of every episode for each of ``strengths`` and offset count."""
        results = Parallel(n_jobs=n_jobs)(
            delayed(run_job)(
                _strength_path,
                estimator,
                part(episodes.visible[e]),
                part(*source_rows(index, W, e)),
                X[np.concatenate([episodes.visible[e], episodes.hidden[e]])],
                classes,
                strengths,
            )
            for e in todo
        )
        return np.stack(
            [
                _offset_losses([resp[j] for resp in results], rows, log_loss, shifts)
                for j in range(len(strengths))
            ],
            axis=1,
        )  # (n_episodes, n_strengths, n_offsets)

    # every other point of the grid, then the one next to the best of them on
    # the side of the vertex of the parabola through them
    first = np.arange(1, grid.shape[0], 2)
    loss = np.full((len(todo), grid.shape[0], shifts.shape[0]), np.nan)
    loss[:, first] = losses(grid[first])
    curve = loss[:, first].mean(axis=0).min(axis=1)
    best = first[np.argmin(curve)]
    vertex = _best_strength(curve[None, :], grid[first])
    second = best - 1 if vertex < grid[best] or best == first[0] else best + 1
    loss[:, [second]] = losses(grid[[second]])
    done = np.flatnonzero(np.isfinite(loss[0, :, 0]))
    mean = loss[:, done].mean(axis=0)
    offset = int(np.unravel_index(np.argmin(mean), mean.shape)[1])
    curve = loss[:, done, offset]
    strength = _best_strength(curve, grid[done])
    # the loss at the chosen strength, interpolated as the strength was
    at = np.array([np.interp(np.log(strength), np.log(grid[done]), r) for r in curve])
    choice = Choice(rule, strength, float(at.mean()), float(shifts[offset]))
    return choice, at


def own_weights(m, index, weights, fittable) -> np.ndarray:
    """Weight ``n / (n + m)`` of each task's own model against its sources' ensemble.

    A task without sources keeps its own model (weight 1); a task without a
    model of its own (``fittable`` False) gets weight 0.
    """
    has_sources = np.asarray(weights.sum(axis=1)).ravel() > 0
    n = index.counts.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.nan_to_num(n / (n + m), nan=0.0)
    return np.where(fittable, np.where(has_sources, own, 1.0), 0.0)


def choose(rules, fixed, episodes, estimator, X, target, sample_weight, fit) -> tuple:
    """The rule and its settings: fixed, or chosen on the episodes.

    Parameters
    ----------
    rules : list of (BaseTransferRule, bool)
        The candidate rules, each with whether it was given by name (only a rule
        given by name has its temperature chosen).
    fixed : float or None
        The user's strength (one rule), or None to choose it.
    episodes : Episodes or None
        The episodes (None: too few rows to draw any).
    estimator, X, target, sample_weight
        The wrapped estimator and the data of the fit.
    fit : dict
        ``index``, ``scores`` (the sources' scores on the episodes' visible
        rows, or None), ``fittable`` and ``n_jobs``.

    Returns
    -------
    choice : Choice
        The rule, its strength and its mean loss on the episodes.
    losses : dict or None
        Mean loss on the episodes of each candidate rule, by name (None without
        episodes).
    """
    if fixed is not None:
        return Choice(rules[0][0], float(fixed), np.nan), None
    if episodes is None:
        # no evidence: the first candidate, at the strength that counts the
        # sources as much as the target (1 row, or a source row as a target row)
        return Choice(rules[0][0], 1.0, np.nan), None
    choices = []
    for rule, by_name in rules:
        if rule.transfers == "predictions":
            tune = by_name and "temperature" in rule.get_params()
            choice, _ = choose_mixture(
                rule,
                tune,
                estimator,
                X,
                target,
                sample_weight,
                episodes,
                fit["scores"],
                fit["fittable"],
                fit["n_jobs"],
            )
        else:
            choice, _ = choose_instance_strength(
                rule,
                estimator,
                X,
                target,
                sample_weight,
                fit["index"],
                episodes,
                fit["scores"],
                fit["n_jobs"],
            )
        choices.append(choice)
    losses = {c.rule.name: c.loss for c in choices}
    finite = [c for c in choices if np.isfinite(c.loss)]
    return (min(finite, key=lambda c: c.loss) if finite else choices[0]), losses
