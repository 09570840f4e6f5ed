"""What per-task models answer, and how well a source's model does on a target.

The *transferability* of source ``s`` to target ``t`` is the score (the
estimator's ``scoring``) of ``s``'s own model on ``t``'s labelled rows. Every
source model predicts once, on the rows of all the targets that may draw on it
(the neighbour graph); the scores of all those targets come from one vectorized
reduction per source for the scorers of :mod:`sk_metameta._scores`, and from the
scikit-learn scorer itself, target by target, for any other.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import get_scorer
from sklearn.utils import get_tags
from sklearn.utils.parallel import Parallel, delayed

from .._scores import get_score
from .._threads import one_blas_thread

__all__ = [
    "Target",
    "class_columns",
    "episode_transferability",
    "fill_unscored",
    "run_job",
    "validate_once",
    "outputs",
    "transferability",
]


@dataclass
class Target:
    """The targets of a fit, encoded once.

    Attributes
    ----------
    y : ndarray
        The targets as given (validated).
    classes : ndarray of shape (n_classes,) or None
        Sorted class labels, for a classifier.
    codes : ndarray of shape (n_samples,) or None
        Each row's class number in ``classes``.
    """

    y: np.ndarray
    classes: np.ndarray | None = None
    codes: np.ndarray | None = None

    @property
    def n_responses(self) -> int:
        """Columns of a response: classes, or outputs of a regressor."""
        if self.classes is not None:
            return int(self.classes.shape[0])
        return int(self.y.reshape(self.y.shape[0], -1).shape[1])

    def responses(self, rows) -> np.ndarray:
        """The true response of ``rows``: one-hot classes, or the outputs."""
        if self.classes is None:
            return self.y[rows].reshape(len(rows), -1).astype(float)
        Y = np.zeros((len(rows), self.classes.shape[0]))
        Y[np.arange(len(rows)), self.codes[rows]] = 1.0
        return Y

    @property
    def numeric(self) -> np.ndarray:
        """Numbers describing ``y`` for task features (class codes, or ``y``)."""
        return self.y if self.classes is None else self.codes.astype(float)


def run_job(func, *args, **kwargs):
    """``func(*args, **kwargs)`` as a job of per-task work (through joblib).

    With BLAS limited to one thread (a joblib worker does not inherit the limit
    of the process that started it), and without scikit-learn's checks that the
    fit already made once: the data are finite (``assume_finite``) and the
    wrapped estimator's parameters valid (``skip_parameter_validation``, see
    :func:`validate_once`). On thousands of small fits those checks cost more
    than the fits.
    """
    with (
        one_blas_thread(),
        config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        return func(*args, **kwargs)


def validate_once(estimator) -> None:
    """Check the wrapped estimator's parameters once, before the jobs skip it."""
    check = getattr(clone(estimator), "_validate_params", None)
    if check is not None:
        check()


def class_columns(classes, labels):
    """Columns of ``labels`` in the sorted global ``classes``."""
    labels = np.asarray(labels)
    cols = np.clip(np.searchsorted(classes, labels), 0, classes.shape[0] - 1)
    if not np.array_equal(classes[cols], labels):
        raise ValueError(
            f"a per-task model predicts labels {labels[classes[cols] != labels][:3]} "
            f"that are not among the classes seen in fit {classes.tolist()}."
        )
    return cols


def outputs(model, X, classes, *, labels=True, response=True):
    """Predicted labels and the response of one per-task model.

    The response is the prediction for a regressor, of shape ``(n, n_outputs)``,
    and for a classifier the probabilities of the global ``classes`` (one-hot
    votes when the model has no ``predict_proba``), of shape ``(n, n_classes)``.
    """
    if classes is None:
        pred = np.asarray(model.predict(X), dtype=float)
        return pred, pred.reshape(pred.shape[0], -1)
    pred = model.predict(X) if labels or not hasattr(model, "predict_proba") else None
    resp = None
    if response:
        resp = np.zeros((X.shape[0], classes.shape[0]))
        if hasattr(model, "predict_proba"):
            resp[:, class_columns(classes, model.classes_)] = model.predict_proba(X)
        else:
            resp[np.arange(X.shape[0]), class_columns(classes, pred)] = 1.0
    return pred, resp


class _Responses:
    """A per-task model seen through the predictions it already made.

    A scikit-learn scorer calls ``predict`` / ``predict_proba`` on the rows of
    one target task; the answers are the source model's outputs on those rows,
    computed once, with probabilities aligned to the global classes. Any other
    attribute is the model's own.
    """

    def __init__(self, model, labels, proba, classes):
        self._model = model
        self._labels = labels
        self._proba = proba
        self._classes = classes

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_model", "_labels", "_proba"):
            raise AttributeError(name)
        if name == "classes_" and self._classes is not None:
            return self._classes
        if name == "predict":
            answer = self._labels
        elif name == "predict_proba":
            self._model.predict_proba  # noqa: B018 (AttributeError if it has none)
            answer = self._proba
        else:
            return getattr(self._model, name)

        def method(X):
            return answer

        method.__name__ = name  # scorers pick the response handling by name
        return method

    def __sklearn_tags__(self):
        return get_tags(self._model)


#: scikit-learn scorer names whose per-task scores come from the table of
#: :mod:`sk_metameta._scores` (the others are called target by target).
_TABLE_SCORERS = (
    "r2",
    "explained_variance",
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
    "accuracy",
    "neg_log_loss",
)


def resolve_scoring(scoring, estimator, is_clf):
    """The evaluation metric: ``(table entry, None)`` or ``(None, scorer)``."""
    if scoring is None:
        scoring = "accuracy" if is_clf else "r2"
    if not isinstance(scoring, str):
        return None, scoring
    kind = "classifier" if is_clf else "regressor"
    if scoring in _TABLE_SCORERS:
        entry = get_score(scoring)
        if entry.kind == kind and (
            entry.response != "predict_proba" or hasattr(estimator, "predict_proba")
        ):
            return entry, None
    try:
        return None, get_scorer(scoring)
    except ValueError as exc:
        raise ValueError(f"scoring={scoring!r}: {exc}") from None


def _scorer_scores(scorer, model, X, target, rows, codes, labels, resp, w, name):
    """Scores of one source model on each target, by a scikit-learn scorer."""
    is_clf = target.classes is not None
    scores = {}
    bounds = np.flatnonzero(np.diff(codes)) + 1
    for seg in np.split(np.arange(rows.size), bounds):
        stand_in = _Responses(
            model, labels[seg], resp[seg] if is_clf else None, target.classes
        )
        kwargs = {} if w is None else {"sample_weight": w[seg]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            try:
                scores[codes[seg[0]]] = scorer(
                    stand_in, X[rows[seg]], target.y[rows[seg]], **kwargs
                )
            except TypeError as exc:
                if w is None or "sample_weight" not in str(exc):
                    raise
                raise ValueError(
                    f"scoring={name!r} does not accept sample_weight, which fit "
                    "was given: choose a scoring that takes sample weights, or fit "
                    "without them."
                ) from exc
    return scores


def transferability(
    models, X, target, sample_weight, index, graph, scoring, n_jobs, *, name=None
):
    """Score every source model on the rows of the targets that may draw on it.

    Parameters
    ----------
    models : list of fitted estimators or None
        Each task's model fitted on its own rows (None: no such model).
    X : ndarray of shape (n_samples, n_features)
        All rows.
    target : Target
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights.
    index : TaskIndex
        The tasks.
    graph : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        Which targets (rows) may draw on which sources (columns).
    scoring : tuple
        ``(per-task score, None)`` or ``(None, scorer)`` from
        :func:`resolve_scoring`.
    n_jobs : int or None
        Jobs for the predictions.
    name : str or callable, default=None
        The ``scoring`` parameter, named in error messages.

    Returns
    -------
    scores : scipy.sparse.csr_array of shape (n_tasks, n_tasks)
        On the entries of ``graph``; NaN for a source without a model.
    """
    T = index.n_tasks
    by_source = sparse.csc_array(graph)
    by_source.sort_indices()
    targets_of = [
        by_source.indices[by_source.indptr[s] : by_source.indptr[s + 1]]
        for s in range(T)
    ]
    target_rows = [
        np.concatenate([index.rows(t) for t in targets] or [np.empty(0, np.intp)])
        for targets in targets_of
    ]
    used = [s for s in range(T) if target_rows[s].size and models[s] is not None]
    outputs_ = [None] * T
    found = Parallel(n_jobs=n_jobs)(
        delayed(run_job)(outputs, models[s], X[target_rows[s]], target.classes)
        for s in used
    )
    for s, out in zip(used, found, strict=True):
        outputs_[s] = out
    per_task, scorer = scoring
    entries_t, entries_s, values = [], [], []
    for s, targets in enumerate(targets_of):
        if outputs_[s] is None:
            entries_t.append(targets)
            entries_s.append(np.full(targets.size, s))
            values.append(np.full(targets.size, np.nan))
            continue
        rows = target_rows[s]
        labels, resp = outputs_[s]
        codes = index.codes[rows]
        w = None if sample_weight is None else sample_weight[rows]
        if per_task is not None:
            # greater is better, as scikit-learn's scorers
            response = labels if per_task.name == "accuracy" else resp
            got = (
                per_task.sign
                * per_task.task_scores(
                    target.y[rows],
                    response,
                    codes,
                    T,
                    classes=target.classes,
                    sample_weight=w,
                )[targets]
            )
        else:
            found = _scorer_scores(
                scorer, models[s], X, target, rows, codes, labels, resp, w, name
            )
            got = np.array([found[t] for t in targets], dtype=float)
        entries_t.append(targets)
        entries_s.append(np.full(targets.size, s))
        values.append(np.asarray(got, dtype=float))
    scores = sparse.csr_array(
        (
            np.concatenate(values) if values else np.empty(0),
            (
                np.concatenate(entries_t) if values else np.empty(0, np.intp),
                np.concatenate(entries_s) if values else np.empty(0, np.intp),
            ),
        ),
        shape=(T, T),
    )
    scores.sort_indices()
    return scores


def fill_unscored(scores: sparse.csr_array) -> sparse.csr_array:
    """Copy of the transferability for the rule: NaN become the row's worst score."""
    S = sparse.csr_array(scores, copy=True)
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    finite = np.isfinite(S.data)
    worst = np.full(S.shape[0], np.inf)
    np.minimum.at(worst, rows[finite], S.data[finite])
    worst = np.where(np.isfinite(worst), worst, 0.0)
    S.data = np.where(finite, S.data, worst[rows])
    return S


def episode_transferability(episodes, models, X, target, sample_weight, scoring, name):
    """Score of each episode's sources on the rows its target keeps visible.

    The transferability an episode's target would have with only its visible
    rows labelled: the same scoring, on those rows, of the sources' responses
    in ``episodes.responses``.

    Parameters
    ----------
    episodes : Episodes
        The episodes, with their sources' responses.
    models : list of fitted estimators or None
        The tasks' own models (for a scikit-learn scorer).
    X : ndarray of shape (n_samples, n_features)
        All rows.
    target : Target
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights.
    scoring : tuple
        As for :func:`transferability`.
    name : str or callable
        The ``scoring`` parameter, named in errors.

    Returns
    -------
    scores : scipy.sparse.csr_array of shape (n_episodes, n_tasks)
        On the entries of ``episodes.similarity``; NaN for a source without a
        model.
    """
    S = episodes.similarity
    per_task, scorer = scoring
    values = np.full(S.nnz, np.nan)
    pairs, ys, resps, weights, codes = [], [], [], [], []
    for e in range(episodes.n_episodes):
        rows = episodes.visible[e]
        k = rows.size
        w = None if sample_weight is None else sample_weight[rows]
        for j, s in enumerate(episodes.sources(e)):
            if models[s] is None:
                continue
            lab = episodes.labels[e][j]
            lab = None if lab is None else lab[:k]
            resp = episodes.responses[e][j, :k]
            entry = S.indptr[e] + j
            if per_task is None:
                zeros = np.zeros(k, dtype=np.intp)
                got = _scorer_scores(
                    scorer, models[s], X, target, rows, zeros, lab, resp, w, name
                )
                values[entry] = got[0]
                continue
            codes.append(np.full(k, len(pairs)))
            pairs.append(entry)
            ys.append(target.y[rows])
            resps.append(lab if per_task.name == "accuracy" else resp)
            weights.append(np.ones(k) if w is None else w)
    if pairs:
        values[np.array(pairs)] = per_task.sign * per_task.task_scores(
            np.concatenate(ys),
            np.concatenate(resps),
            np.concatenate(codes),
            len(pairs),
            classes=target.classes,
            sample_weight=np.concatenate(weights),
        )
    return sparse.csr_array((values, S.indices, S.indptr), shape=S.shape)
