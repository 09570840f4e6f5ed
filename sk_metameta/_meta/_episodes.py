"""Episodes drawn from the source tasks: the few-shot situation, simulated.

The truth is known on the fitted tasks. An *episode* takes one task that has
sources, keeps ``k`` of its rows (its *visible* rows, drawn at random as the
labelled rows of :class:`~sk_metameta.model_selection.FewShotSplit` are) and
hides the others; transfer to it from the other tasks, seeing only the visible
rows, is scored on the hidden rows. An episode's target is placed in the task
space from its visible rows alone (its task features, its nearest other tasks
and their similarities), and its sources' scores come from those rows too, so
that it sees exactly what a target with ``k`` labelled rows sees. The settings
of a transfer rule that the estimator chooses from data (how much the sources
count, how sharply their scores select them, which rule) are chosen once for
all targets, by the loss averaged over the episodes: a target's own few rows
are too few to choose from.

``k`` is the typical row count of the few-row tasks: the median row count of
the quarter of the tasks with the fewest rows. Episodes are drawn from the
tasks with at least ``k`` + :data:`MIN_HIDDEN_ROWS` rows (or, when no task has
that many, from every task of two rows or more, with a quarter of its rows
hidden, at least one),
in a random order, cycling through them with new visible rows until
``n_episodes`` are drawn. An episode is scored on at most
:data:`MAX_HIDDEN_ROWS` of its hidden rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils.parallel import Parallel, delayed

from .._tasks import TaskIndex
from ..model_selection._split import ranks_in_tasks
from ..neighbors import TaskNeighbors, find_task_neighbors, nearest_sources
from ._responses import outputs, run_job

__all__ = [
    "MAX_HIDDEN_ROWS",
    "MIN_HIDDEN_ROWS",
    "Episodes",
    "draw_episodes",
    "episode_k",
    "episode_responses",
    "locate_episodes",
]

#: Least number of hidden rows of an episode's task (as ``min_test_rows`` of the
#: few-shot protocol).
MIN_HIDDEN_ROWS = 5

#: Most hidden rows an episode is scored on.
MAX_HIDDEN_ROWS = 200


@dataclass
class Episodes:
    """Episodes: a task, its visible and hidden rows, its sources as it sees them.

    Attributes
    ----------
    tasks : ndarray of int of shape (n_episodes,)
        The task of each episode (a number in the fitted tasks).
    visible : list of ndarray of int
        Rows (of ``X``) the episode's target sees, one array per episode.
    hidden : list of ndarray of int
        Rows it is scored on.
    similarity : scipy.sparse.csr_array of shape (n_episodes, n_tasks)
        Similarity of each episode's target, described by its visible rows, to
        its nearest other tasks (its sources).
    responses : list of ndarray or None
        For each episode, its sources' responses (in the order of the entries
        of ``similarity``) on its visible then hidden rows, of shape
        ``(n_sources, n_visible + n_hidden, n_responses)``; zero for a source
        without a model. ``None`` until computed.
    labels : list of ndarray or None
        The sources' predicted labels on the same rows (classifiers).
    scores : scipy.sparse.csr_array of shape (n_episodes, n_tasks) or None
        The sources' scores on each episode's visible rows (its
        transferability).
    """

    tasks: np.ndarray
    visible: list
    hidden: list
    similarity: sparse.csr_array | None = None
    responses: list | None = None
    labels: list | None = None
    scores: sparse.csr_array | None = None

    @property
    def n_episodes(self) -> int:
        """Number of episodes."""
        return int(self.tasks.shape[0])

    @property
    def n_visible(self) -> np.ndarray:
        """Number of visible rows of each episode."""
        return np.array([rows.size for rows in self.visible], dtype=float)

    def sources(self, e: int) -> np.ndarray:
        """Sources of episode ``e`` (the entries of its row of ``similarity``)."""
        S = self.similarity
        return S.indices[S.indptr[e] : S.indptr[e + 1]]


def episode_k(counts: np.ndarray) -> int:
    """Visible rows of an episode: the typical row count of the few-row tasks.

    The median row count of the quarter of the tasks with the fewest rows.
    """
    smallest = np.sort(counts)[: max(1, counts.size // 4)]
    return max(1, int(np.median(smallest)))


def draw_episodes(index: TaskIndex, has_sources, n_episodes: int, rng):
    """Draw ``n_episodes`` episodes from the tasks that have sources.

    Parameters
    ----------
    index : TaskIndex
        The fitted tasks.
    has_sources : ndarray of bool of shape (n_tasks,)
        Tasks that have sources in the task graph.
    n_episodes : int
        Number of episodes.
    rng : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    episodes : Episodes or None
        Without similarity and responses yet; ``None`` when no task with
        sources has two rows.
    """
    counts = index.counts
    k = episode_k(counts)
    candidates = np.flatnonzero(has_sources & (counts >= k + MIN_HIDDEN_ROWS))
    visible_of = np.full(index.n_tasks, k)
    if candidates.size == 0:
        candidates = np.flatnonzero(has_sources & (counts >= 2))
        visible_of = counts - np.maximum(counts // 4, 1)
    if candidates.size == 0:
        return None
    order = rng.permutation(candidates)
    tasks, visible, hidden = [], [], []
    while len(tasks) < n_episodes:
        rank = ranks_in_tasks(index, rng)
        for t in order[: n_episodes - len(tasks)]:
            rows = index.rows(t)
            k_t = visible_of[t]
            tasks.append(t)
            visible.append(rows[rank[rows] < k_t])
            hidden.append(
                rows[(rank[rows] >= k_t) & (rank[rows] < k_t + MAX_HIDDEN_ROWS)]
            )
    return Episodes(np.array(tasks, dtype=np.intp), visible, hidden)


def _without_self(found: TaskNeighbors, tasks, n_neighbors) -> TaskNeighbors:
    """Neighbours with each episode's own task removed (or the farthest one)."""
    mine = found.indices == tasks[:, None]
    last = ~mine.any(axis=1)
    mine[last, -1] = True
    n_keep = found.indices.shape[1] - 1
    if n_neighbors is not None:
        n_keep = min(n_keep, n_neighbors)
    keep = ~mine
    indices = found.indices[keep].reshape(tasks.size, -1)[:, :n_keep]
    distances = found.distances[keep].reshape(tasks.size, -1)[:, :n_keep]
    return TaskNeighbors(indices, distances, found.n_sources)


def locate_episodes(space, X, y, index: TaskIndex, episodes: Episodes) -> None:
    """Each episode's sources and similarities, from its visible rows only.

    Parameters
    ----------
    space : TaskSpace
        The fitted task space.
    X : ndarray of shape (n_samples, n_features)
        All rows.
    y : ndarray of shape (n_samples,)
        The numbers describing ``y`` for the task space (as in fit).
    index : TaskIndex
        The fitted tasks.
    episodes : Episodes
        Their ``similarity`` is set.
    """
    rows = np.concatenate(episodes.visible)
    sizes = episodes.n_visible.astype(np.intp)
    sub = TaskIndex(
        np.arange(episodes.n_episodes), np.repeat(np.arange(sizes.size), sizes)
    )
    T = index.n_tasks
    k = space.n_neighbors_
    wanted = None if k is None else min(k + 1, T)
    if space.extractor_ is not None:
        extractor = space.extractor_
        y_rows = y[rows] if extractor.requires_y else None
        F = np.asarray(extractor.transform(X[rows], y_rows, tasks=sub), dtype=float)
        found = find_task_neighbors(
            F,
            space.features_,
            metric=space.metric_,
            n_neighbors=wanted,
            exclude_self=False,
        )
    else:
        D = np.asarray(
            space.metric_.pairwise(X[rows], sub, X, index, y=y[rows], y_other=y),
            dtype=float,
        )
        D[np.arange(episodes.n_episodes), episodes.tasks] = np.inf
        found = nearest_sources(D, wanted, exclude_self=False)
    neighbors = _without_self(found, episodes.tasks, k)
    episodes.similarity = sparse.csr_array(space.similarity(neighbors))


def episode_responses(models, X, classes, episodes: Episodes, n_jobs) -> None:
    """Each episode's sources' responses (and labels) on its visible and hidden rows.

    Every source model predicts once, on the rows of all the episodes that draw
    on it. Sets ``episodes.responses`` and ``episodes.labels``.
    """
    S = sparse.csc_array(episodes.similarity)
    S.sort_indices()
    rows_of = [
        np.concatenate([v, h])
        for v, h in zip(episodes.visible, episodes.hidden, strict=True)
    ]
    used = [
        s
        for s in range(S.shape[1])
        if S.indptr[s + 1] > S.indptr[s] and models[s] is not None
    ]

    def rows_of_source(s):
        return np.concatenate(
            [rows_of[e] for e in S.indices[S.indptr[s] : S.indptr[s + 1]]]
        )

    found = Parallel(n_jobs=n_jobs)(
        delayed(run_job)(outputs, models[s], X[rows_of_source(s)], classes)
        for s in used
    )
    by_source = dict(zip(used, found, strict=True))
    n_resp = next(iter(found))[1].shape[1] if found else 1
    sizes = np.array([rows.size for rows in rows_of])
    # where each episode's rows start among the rows of each source's episodes
    starts = sparse.csc_array(
        (
            np.concatenate(
                [
                    np.cumsum(sizes[S.indices[S.indptr[s] : S.indptr[s + 1]]])
                    - sizes[S.indices[S.indptr[s] : S.indptr[s + 1]]]
                    for s in range(S.shape[1])
                ]
            )
            + 1,  # stored as start + 1: a start of 0 is an entry too
            S.indices,
            S.indptr,
        ),
        shape=S.shape,
    ).tocsr()
    responses, labels = [], []
    for e in range(episodes.n_episodes):
        n = rows_of[e].size
        sources = episodes.sources(e)
        resp = np.zeros((sources.size, n, n_resp))
        lab = [None] * sources.size
        for j, s in enumerate(sources):
            if s not in by_source:
                continue
            start = int(starts[e, s]) - 1
            lab_s, resp_s = by_source[s]
            resp[j] = resp_s[start : start + n]
            lab[j] = lab_s[start : start + n]
        responses.append(resp)
        labels.append(lab)
    episodes.responses, episodes.labels = responses, labels
