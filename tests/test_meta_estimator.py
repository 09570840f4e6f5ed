import warnings
from copy import deepcopy
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import is_classifier, is_regressor
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import get_scorer, log_loss, make_scorer, max_error, r2_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import LinearSVC
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from sk_metameta import MetricMetaEstimator, task_distances
from sk_metameta.datasets import make_related_tasks
from sk_metameta.metrics.base import SampleMetric
from sk_metameta.task_features import CallableTaskFeatures
from sk_metameta.transfer.base import BaseTransferRule


def dense(matrix):
    """A (task x task) attribute or rule input as a dense array (NaN kept)."""
    if matrix is None or not sparse.issparse(matrix):
        return matrix if matrix is None else np.asarray(matrix, dtype=float)
    return matrix.toarray()


def stored(matrix):
    """Dense copy of a sparse matrix with NaN where no entry is stored."""
    M = sparse.csr_array(matrix)
    out = np.full(M.shape, np.nan)
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    out[rows, M.indices] = M.data
    return out


# -- test-local transfer rules (the estimator only relies on the rule contract) --------
class UniformPredictions(BaseTransferRule):
    """Every neighbour (positive similarity) counts the same."""

    name: ClassVar[str] = "uniform_predictions"
    transfers: ClassVar[str] = "predictions"

    def source_weights(self, similarity, transferability=None):
        return dense(similarity) > 0


class UniformInstances(UniformPredictions):
    name: ClassVar[str] = "uniform_instances"
    transfers: ClassVar[str] = "instances"


class ParameterRule(BaseTransferRule):
    name: ClassVar[str] = "some_parameter_rule"
    transfers: ClassVar[str] = "parameters"


class NegativeRule(UniformPredictions):
    name: ClassVar[str] = "negative"

    def source_weights(self, similarity, transferability=None):
        return -np.ones(similarity.shape)


class RecordingRule(UniformPredictions):
    """Keeps what it was given (rules are cloned, so in a class attribute)."""

    name: ClassVar[str] = "recording"
    seen: ClassVar[list] = []

    def source_weights(self, similarity, transferability=None):
        type(self).seen.append((dense(similarity), dense(transferability)))
        return super().source_weights(similarity, transferability)


class MeanGap(SampleMetric):
    """Distance between the tasks' mean rows, computed from the samples."""

    name: ClassVar[str] = "mean_gap"
    axioms: ClassVar[frozenset] = frozenset()

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        a, b = index.mean(X), index_other.mean(X_other)
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))


# -- data ------------------------------------------------------------------------------
def split_tasks(n_tasks, n_train, n_test, seed, **params):
    """Related tasks; the first ``n_train`` rows of each task for training."""
    X, y, tasks = make_related_tasks(
        n_tasks, n_train + n_test, random_state=seed, **params
    )
    position = np.arange(tasks.size) - np.searchsorted(tasks, tasks)
    train = position < n_train
    return (X[train], y[train], tasks[train]), (X[~train], y[~train], tasks[~train])


def classification_tasks(n_tasks=5, n_rows=24, seed=0):
    """Tasks with balanced binary labels (the per-task median splits the score)."""
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    coef = rng.normal(size=3) + 0.3 * rng.normal(size=(n_tasks, 3))
    X = rng.normal(size=(tasks.size, 3)) + 0.5 * tasks[:, None]
    score = np.einsum("ij,ij->i", X, coef[tasks]) + 0.5 * rng.normal(size=tasks.size)
    medians = np.array([np.median(score[tasks == t]) for t in range(n_tasks)])
    return X, np.where(score > medians[tasks], "up", "down"), tasks


@pytest.fixture
def regression():
    X, y, tasks = make_related_tasks(6, 12, n_features=3, random_state=0)
    return X, y, tasks


# -- transfer and its guard ------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_transfer_helps_on_related_tasks_with_few_rows(seed):
    (X, y, tasks), (X_test, y_test, tasks_test) = split_tasks(
        20, 8, 40, seed, noise=2.0, cluster_std=0.2, n_clusters=2
    )
    scores = {}
    for transfer in ["none", "ensemble", "instance"]:
        model = MetricMetaEstimator(Ridge(), transfer=transfer, n_neighbors=5)
        model.fit(X, y, tasks=tasks)
        scores[transfer] = r2_score(y_test, model.predict(X_test, tasks=tasks_test))
    assert scores["ensemble"] > scores["none"] + 0.05, scores
    assert scores["instance"] > scores["none"] + 0.05, scores


def test_auto_strength_guards_against_unrelated_sources():
    # clusters far apart, enough rows per task: sources from other clusters hurt,
    # and a rule that weighs every source the same offers them anyway
    (X, y, tasks), (X_test, y_test, tasks_test) = split_tasks(
        20, 15, 40, 0, noise=0.5, cluster_std=2.0
    )

    def score(**params):
        model = MetricMetaEstimator(Ridge(), **params).fit(X, y, tasks=tasks)
        return r2_score(y_test, model.predict(X_test, tasks=tasks_test)), model

    alone, _ = score(transfer="none")
    auto, model = score(transfer=UniformPredictions())
    forced, _ = score(transfer=UniformPredictions(), strength=5.0)
    assert auto >= alone - 0.01
    assert forced < alone - 0.03  # the guard is what protects the auto strength
    assert model.own_weights_.mean() > 0.8


def test_float_strength_sets_own_weights_and_zero_means_no_transfer(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(Ridge(), transfer=UniformPredictions(), strength=4.0)
    model.fit(X, y, tasks=tasks)
    assert_allclose(model.own_weights_, 12 / (12 + 4.0))
    alone = MetricMetaEstimator(Ridge(), transfer="none").fit(X, y, tasks=tasks)
    zero = MetricMetaEstimator(Ridge(), transfer=UniformPredictions(), strength=0.0)
    zero.fit(X, y, tasks=tasks)
    assert_allclose(zero.own_weights_, 1.0)
    assert_allclose(zero.predict(X, tasks=tasks), alone.predict(X, tasks=tasks))
    # with transfer, a prediction is the own model's mixed with the sources'
    t = 2
    rows = tasks == t
    W = dense(model.source_weights_)
    sources = np.flatnonzero(W[t])
    expected = model.own_weights_[t] * model.estimators_[t].predict(X[rows])
    for s in sources:
        expected += (
            (1 - model.own_weights_[t])
            * W[t, s]
            * model.estimators_[s].predict(X[rows])
        )
    assert_allclose(model.predict(X[rows], tasks=tasks[rows]), expected)


def test_source_weights_are_normalised_and_kept_to_neighbours(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(Ridge(), transfer=UniformPredictions(), n_neighbors=2)
    model.fit(X, y, tasks=tasks)
    W = dense(model.source_weights_)
    assert_allclose(W.sum(axis=1), 1.0)
    assert ((W > 0).sum(axis=1) <= 2).all()
    assert_array_equal(np.diag(W), 0.0)
    assert_array_equal(np.diag(dense(model.similarity_)), 0.0)
    # each target draws on its two nearest tasks
    D = task_distances(X, tasks=tasks).distances + np.diag(np.full(6, np.inf))
    nearest = np.sort(np.argsort(D, axis=1, kind="stable")[:, :2], axis=1)
    assert_array_equal(np.sort(np.argsort(-W, axis=1)[:, :2], axis=1), nearest)
    # transferability is measured on neighbours only
    assert_array_equal(np.isfinite(stored(model.transferability_)), W > 0)


def test_instance_rule_adds_weighted_source_rows():
    X = np.array([[0.0], [1.0], [0.0], [1.0], [9.0], [10.0]])
    y = np.array([0.0, 1.0, 0.2, 1.2, 50.0, 60.0])
    tasks = np.array(["a", "a", "b", "b", "c", "c"])
    model = MetricMetaEstimator(
        Ridge(alpha=1e-8), transfer=UniformInstances(), n_neighbors=1, strength=0.5
    ).fit(X, y, tasks=tasks)
    # a's model is Ridge on a's rows (weight 1) and b's (weight 0.5)
    expected = Ridge(alpha=1e-8).fit(X[:4], y[:4], sample_weight=[1, 1, 0.5, 0.5])
    assert_allclose(model.estimators_[0].coef_, expected.coef_)
    assert_allclose(model.own_weights_, 1.0)


def _shared_or_own_tasks(shared, n_tasks=12, n_rows=10, seed=0):
    """Tasks with one shared linear function, or each with a function of its own."""
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.normal(size=(tasks.size, 3))
    coef = np.tile(rng.normal(size=3), (n_tasks, 1))
    if not shared:
        coef = 3.0 * rng.normal(size=(n_tasks, 3))
    y = np.einsum("ij,ij->i", X, coef[tasks]) + 0.5 * rng.normal(size=tasks.size)
    return X, y, tasks


def test_instance_auto_strength_follows_how_related_the_tasks_are():
    strengths = {}
    for shared in (True, False):
        X, y, tasks = _shared_or_own_tasks(shared)
        model = MetricMetaEstimator(
            Ridge(alpha=1e-3), transfer="instance", random_state=0
        )
        strength = model.fit(X, y, tasks=tasks).strength_
        assert_array_equal(strength, strength[0])  # one value for all tasks
        strengths[shared] = strength[0]
        assert 0.001 <= strengths[shared] <= 1.0
    # one function for all tasks: the sources' rows are as good as the target's
    assert strengths[True] >= 0.1, strengths
    # a function per task: source rows only add error
    assert strengths[False] <= 0.005, strengths


def test_instance_auto_strength_is_the_fixed_strength_it_chose():
    X, y, tasks = _shared_or_own_tasks(True, seed=1)
    auto = MetricMetaEstimator(Ridge(), transfer="instance").fit(X, y, tasks=tasks)
    chosen = auto.strength_[0]
    fixed = MetricMetaEstimator(Ridge(), transfer="instance", strength=chosen)
    fixed.fit(X, y, tasks=tasks)
    assert_array_equal(fixed.strength_, auto.strength_)
    # a fixed strength has no offsets: the same models, without them
    unmoved = deepcopy(auto)
    unmoved.offsets_ = np.zeros_like(auto.offsets_)
    assert_allclose(fixed.predict(X, tasks=tasks), unmoved.predict(X, tasks=tasks))


@pytest.mark.parametrize("seed", [0, 1])
def test_instance_auto_strength_is_near_the_best_fixed_one_on_held_out_rows(seed):
    (X, y, tasks), (X_test, y_test, tasks_test) = split_tasks(
        20, 8, 40, seed, noise=2.0, cluster_std=0.5, n_clusters=4
    )
    scores = {}
    for strength in ("auto", 0.001, 0.01, 0.1, 1.0):
        model = MetricMetaEstimator(Ridge(), transfer="instance", strength=strength)
        model.fit(X, y, tasks=tasks)
        scores[strength] = r2_score(y_test, model.predict(X_test, tasks=tasks_test))
    best = max(scores[s] for s in (0.001, 0.01, 0.1, 1.0))
    assert scores["auto"] >= best - 0.02, scores
    assert scores["auto"] > scores[1.0] + 0.1, scores  # the former fixed default


def test_strength_attribute_of_each_kind_of_rule(regression):
    X, y, tasks = regression
    none = MetricMetaEstimator(Ridge(), transfer="none").fit(X, y, tasks=tasks)
    assert none.strength_ is None
    fixed = MetricMetaEstimator(Ridge(), transfer="ensemble", strength=3.0)
    assert_array_equal(fixed.fit(X, y, tasks=tasks).strength_, 3.0)
    auto = MetricMetaEstimator(Ridge(), transfer="ensemble").fit(X, y, tasks=tasks)
    n = np.bincount(np.unique(tasks, return_inverse=True)[1])
    assert_allclose(auto.own_weights_, n / (n + auto.strength_))


# -- classifiers -----------------------------------------------------------------------
def test_classes_are_aligned_when_tasks_saw_different_classes():
    rng = np.random.default_rng(0)
    tasks = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 2)) + tasks[:, None]
    y = np.empty(60, dtype=object)
    y[tasks == 0] = np.where(X[tasks == 0, 0] > 0, "a", "b")
    y[tasks == 1] = np.where(X[tasks == 1, 0] > 1, "b", "c")
    y[tasks == 2] = np.where(X[tasks == 2, 0] > 2, "a", "c")
    alone = MetricMetaEstimator(LogisticRegression(), transfer="none")
    alone.fit(X, y, tasks=tasks)
    assert alone.classes_.tolist() == ["a", "b", "c"]
    proba = alone.predict_proba(X[tasks == 1], tasks=tasks[tasks == 1])
    assert_array_equal(proba[:, 0], 0.0)  # task 1 never saw "a"
    assert_allclose(proba[:, 1:], alone.estimators_[1].predict_proba(X[tasks == 1]))
    assert_array_equal(
        alone.predict(X, tasks=tasks),
        np.concatenate(
            [m.predict(X[tasks == t]) for t, m in enumerate(alone.estimators_)]
        ),
    )

    model = MetricMetaEstimator(
        LogisticRegression(), transfer=UniformPredictions(), strength=10.0
    ).fit(X, y, tasks=tasks)
    proba = model.predict_proba(X, tasks=tasks)
    assert_allclose(proba.sum(axis=1), 1.0)
    lam = model.own_weights_[1]
    rows = tasks == 1
    expected = np.zeros((rows.sum(), 3))
    expected[:, [1, 2]] += lam * model.estimators_[1].predict_proba(X[rows])
    expected[:, [0, 1]] += (1 - lam) / 2 * model.estimators_[0].predict_proba(X[rows])
    expected[:, [0, 2]] += (1 - lam) / 2 * model.estimators_[2].predict_proba(X[rows])
    assert_allclose(proba[rows], expected)
    assert_array_equal(model.predict(X, tasks=tasks), model.classes_[proba.argmax(1)])
    assert_allclose(model.predict_log_proba(X, tasks=tasks), np.log(proba))


class NoSourceForThree(UniformPredictions):
    """Task 3 draws on no source."""

    name: ClassVar[str] = "no_source_for_three"

    def source_weights(self, similarity, transferability=None):
        W = (dense(similarity) > 0).astype(float)
        W[3] = 0.0
        return W


def test_one_class_task_is_a_clear_error():
    X, y, tasks = classification_tasks()
    y = y.copy()
    y[tasks == 3] = "up"
    with pytest.raises(ValueError, match=r"1 task\(s\) have rows of one class only: 3"):
        MetricMetaEstimator(LogisticRegression(), transfer="none").fit(
            X, y, tasks=tasks
        )
    with pytest.raises(ValueError, match="one class only: 3 \\(class 'up'\\)"):
        MetricMetaEstimator(LogisticRegression(), transfer="none").fit(
            X, y, tasks=tasks
        )
    # a predictions rule that gives the task no source cannot predict it either
    with pytest.raises(ValueError, match=r"one class only and no source model.*: 3"):
        MetricMetaEstimator(LogisticRegression(), transfer=NoSourceForThree()).fit(
            X, y, tasks=tasks
        )
    # an instances rule fits task 3 on its rows and its sources': two classes
    model = MetricMetaEstimator(LogisticRegression(), transfer=UniformInstances())
    model.fit(X, y, tasks=tasks)
    assert model.estimators_[3].classes_.tolist() == ["down", "up"]
    assert np.isnan(stored(model.transferability_)[:, 3]).all()  # no model of 3 alone


@pytest.mark.parametrize("transfer", ["ensemble", "select"])
@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
def test_one_class_task_predicts_from_its_sources(transfer, scoring):
    X, y, tasks = classification_tasks(n_tasks=6)
    y = y.copy()
    three = tasks == 3
    y[three] = "up"
    # few rows of one class in task 3, as in few-shot use
    keep = ~three | (np.cumsum(three) <= 5)
    X, y, tasks = X[keep], y[keep], tasks[keep]
    three = tasks == 3
    model = MetricMetaEstimator(
        LogisticRegression(), transfer=transfer, scoring=scoring
    )
    model.fit(X, y, tasks=tasks)
    assert model.estimators_[3] is None
    assert model.own_weights_[3] == 0.0
    assert model.explain(3)["own_weight"] == 0.0
    assert model.classes_.tolist() == ["down", "up"]
    # no source draws on task 3, which has no model; task 3's sources are scored
    assert_array_equal(dense(model.source_weights_)[:, 3], 0.0)
    assert np.isnan(stored(model.transferability_)[:, 3]).all()
    sources = np.flatnonzero(dense(model.source_weights_)[3])
    assert sources.size >= 2
    assert_allclose(dense(model.source_weights_)[3].sum(), 1.0)
    for s in range(6):
        if s == 3:
            continue
        p = model.estimators_[s].predict_proba(X[three])
        if scoring == "accuracy":
            expected = np.mean(model.estimators_[s].predict(X[three]) == "up")
        else:
            expected = -log_loss(y[three], p, labels=model.classes_)
        assert_allclose(stored(model.transferability_)[3, s], expected)
    # task 3's probabilities are its sources' weighted ensemble, aligned to classes_
    proba = model.predict_proba(X[three], tasks=tasks[three])
    expected = sum(
        dense(model.source_weights_)[3, s]
        * model.estimators_[s].predict_proba(X[three])
        for s in sources
    )
    assert all(
        model.estimators_[s].classes_.tolist() == ["down", "up"] for s in sources
    )
    assert_allclose(proba, expected)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[:, 1].std() > 1e-3  # not a constant
    # the weights follow transferability: not the sources' plain average
    plain = np.mean(
        [model.estimators_[s].predict_proba(X[three]) for s in range(6) if s != 3],
        axis=0,
    )
    assert np.abs(proba - plain).max() > 1e-3
    assert_array_equal(
        model.predict(X[three], tasks=tasks[three]), model.classes_[proba.argmax(1)]
    )
    # the other tasks still predict, and a new task zero-shot skips task 3
    assert model.predict_proba(X, tasks=tasks).shape == (X.shape[0], 2)
    assert model.predict_proba(X[three], tasks=np.full(5, 99)).shape == (5, 2)


def test_classifier_without_predict_proba_votes():
    X, y, tasks = classification_tasks()
    model = MetricMetaEstimator(
        LinearSVC(), transfer=UniformPredictions(), strength=1.0
    )
    assert not hasattr(model, "predict_proba")
    model.fit(X, y, tasks=tasks)
    assert not hasattr(model, "predict_proba")
    votes = np.zeros((X.shape[0], 2))
    for t in range(5):
        rows = tasks == t
        for m, weight in enumerate(dense(model.source_weights_)[t] * (1 - 24 / 25)):
            if weight:
                hit = model.estimators_[m].predict(X[rows]) == "up"
                votes[rows, hit.astype(int)] += weight
        hit = model.estimators_[t].predict(X[rows]) == "up"
        votes[rows, hit.astype(int)] += 24 / 25
    assert_array_equal(model.predict(X, tasks=tasks), model.classes_[votes.argmax(1)])


# -- transferability -------------------------------------------------------------------
@pytest.mark.parametrize(
    "scoring",
    [
        "r2",
        "neg_mean_squared_error",
        "neg_root_mean_squared_error",
        "neg_mean_absolute_error",
        "neg_max_error",
    ],
)
def test_transferability_regression_matches_sklearn_scorers(regression, scoring):
    X, y, tasks = regression
    weights = np.linspace(0.5, 2.0, X.shape[0])
    for sample_weight in [None] if scoring == "neg_max_error" else [None, weights]:
        model = MetricMetaEstimator(
            Ridge(), transfer=UniformPredictions(), scoring=scoring
        )
        model.fit(X, y, tasks=tasks, sample_weight=sample_weight)
        scorer = get_scorer(scoring)
        for t in range(6):
            for s in range(6):
                rows = tasks == t
                kwargs = {}
                if sample_weight is not None:
                    kwargs["sample_weight"] = sample_weight[rows]
                if t == s:
                    assert np.isnan(stored(model.transferability_)[t, s])
                    continue
                expected = scorer(model.estimators_[s], X[rows], y[rows], **kwargs)
                assert stored(model.transferability_)[t, s] == pytest.approx(expected)


@pytest.mark.parametrize("scoring", ["accuracy", "neg_log_loss", "f1_macro"])
def test_transferability_classification_matches_sklearn_scorers(scoring):
    X, y, tasks = classification_tasks()
    model = MetricMetaEstimator(
        LogisticRegression(), transfer=UniformPredictions(), scoring=scoring
    ).fit(X, y, tasks=tasks)
    scorer = get_scorer(scoring)
    off_diagonal = ~np.eye(5, dtype=bool)
    expected = np.full((5, 5), np.nan)
    for t, s in zip(*np.nonzero(off_diagonal), strict=True):
        rows = tasks == t
        expected[t, s] = scorer(model.estimators_[s], X[rows], y[rows])
    assert_allclose(stored(model.transferability_), expected)


def test_transferability_callable_scorer_and_log_loss_on_one_class_target():
    X, y, tasks = classification_tasks()
    # a callable scorer receives each source model (its other attributes too)
    calls = []

    def scorer(estimator, X_target, y_target):
        calls.append(estimator.coef_.shape)
        return float(np.mean(estimator.predict(X_target) == y_target))

    model = MetricMetaEstimator(
        LogisticRegression(), transfer=UniformPredictions(), scoring=scorer, strength=2
    ).fit(X, y, tasks=tasks)
    accuracy = MetricMetaEstimator(
        LogisticRegression(), transfer=UniformPredictions()
    ).fit(X, y, tasks=tasks)
    assert len(calls) == 20 and set(calls) == {(1, 3)}
    assert_allclose(stored(model.transferability_), stored(accuracy.transferability_))
    # with strength="auto" it also scores each episode's sources on its visible rows
    calls.clear()
    MetricMetaEstimator(
        LogisticRegression(),
        transfer=UniformPredictions(),
        scoring=scorer,
        n_episodes=7,
    ).fit(X, y, tasks=tasks)
    assert len(calls) == 20 + 7 * 4 and set(calls) == {(1, 3)}

    # log loss is defined on the global classes even when a target has one class
    y = y.copy()
    y[(tasks == 4) & (y == "down")] = "up"
    model = MetricMetaEstimator(
        LogisticRegression(), transfer=UniformInstances(), scoring="neg_log_loss"
    ).fit(X, y, tasks=tasks)
    rows = tasks == 4
    source = LogisticRegression().fit(X[tasks == 0], y[tasks == 0])
    expected = -log_loss(y[rows], source.predict_proba(X[rows]), labels=["down", "up"])
    assert stored(model.transferability_)[4, 0] == pytest.approx(expected)


def test_rule_receives_finite_transferability():
    RecordingRule.seen.clear()
    X, y, tasks = make_related_tasks(5, 1 + np.arange(5) % 2 * 5, random_state=0)
    # tasks of one row: r2 is undefined on them, as for sklearn's r2_score
    model = MetricMetaEstimator(Ridge(), transfer=RecordingRule()).fit(
        X, y, tasks=tasks
    )
    similarity, transferability = RecordingRule.seen[-1]
    assert np.isfinite(transferability).all()
    assert np.isnan(stored(model.transferability_)[0]).all()
    assert np.isfinite(stored(model.transferability_)[1, [0, 2, 3, 4]]).all()
    assert_allclose(similarity, dense(model.similarity_))


# -- unseen tasks and tasks=None -------------------------------------------------------
def test_unseen_task_is_predicted_from_its_nearest_tasks(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(Ridge(), transfer=UniformPredictions(), n_neighbors=2)
    model.fit(X, y, tasks=tasks)
    X_new = X[tasks == 4] + 0.01
    features = model.task_feature_extractor_.transform(X_new, tasks=np.zeros(12))
    distances = model.metric_.pairwise(features, model.task_features_)[0]
    nearest = np.argsort(distances)[:2]
    expected = np.mean([model.estimators_[m].predict(X_new) for m in nearest], axis=0)
    mixed = np.vstack([X_new, X[tasks == 0]])
    assert_allclose(model.predict(X_new, tasks=[99] * 12), expected)
    # rows of seen and unseen tasks together
    both = model.predict(mixed, tasks=np.r_[[99] * 12, [0] * 12])
    assert_allclose(both[:12], expected)
    assert_allclose(both[12:], model.predict(X[tasks == 0], tasks=[0] * 12))


class SimilarityPredictions(BaseTransferRule):
    """The base rule's weights: similarities normalised per target."""

    name: ClassVar[str] = "similarity_predictions"
    transfers: ClassVar[str] = "predictions"


def test_unseen_task_uses_the_bandwidth_fixed_at_fit(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(Ridge(), transfer=SimilarityPredictions())
    model.fit(X, y, tasks=tasks)
    D = model.task_distances_[~np.eye(6, dtype=bool)]
    assert model.bandwidth_ == pytest.approx(np.median(D))
    X_new = X[tasks == 1][:4] + 3.0  # few rows: their own median would differ
    features = model.task_feature_extractor_.transform(X_new, tasks=np.zeros(4))
    distances = model.metric_.pairwise(features, model.task_features_)[0]
    weights = np.exp(-0.5 * (distances / model.bandwidth_) ** 2)
    weights /= weights.sum()
    models = model.estimators_
    expected = sum(w * m.predict(X_new) for w, m in zip(weights, models, strict=True))
    assert_allclose(model.predict(X_new, tasks=[9] * 4), expected)


def test_unseen_task_with_a_sample_metric_matches_feature_version(regression):
    X, y, tasks = regression
    common = dict(transfer=UniformPredictions(), n_neighbors=2, bandwidth=1.0)
    samples = MetricMetaEstimator(Ridge(), metric=MeanGap(), **common)
    features = MetricMetaEstimator(
        Ridge(), task_features=lambda X: X.mean(axis=0), **common
    )
    samples.fit(X, y, tasks=tasks)
    features.fit(X, y, tasks=tasks)
    assert samples.task_features_ is None
    assert_allclose(dense(samples.task_distances_), dense(features.task_distances_))
    X_new = X[:12] * 0.5 + 1.0
    assert_allclose(
        samples.predict(X_new, tasks=[50] * 12),
        features.predict(X_new, tasks=[50] * 12),
    )


def test_unseen_task_needs_x_only_task_features(regression):
    X, y, tasks = regression
    needs_y = CallableTaskFeatures(lambda X, y: [y.mean()], requires_y=True)
    model = MetricMetaEstimator(Ridge(), task_features=needs_y).fit(X, y, tasks=tasks)
    model.predict(X, tasks=tasks)  # seen tasks are fine
    with pytest.raises(ValueError, match=r"\[7\] were not seen in fit.*need y"):
        model.predict(X[:3], tasks=[7, 7, 7])


def test_predict_without_tasks_after_multitask_fit_warns(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(Ridge()).fit(X, y, tasks=tasks)
    with pytest.warns(
        UserWarning, match="fitted on 6 tasks but predict got tasks=None"
    ):
        pred = model.predict(X[:5])
    assert_allclose(pred, model.predict(X[:5], tasks=[-1] * 5))
    with pytest.warns(UserWarning, match="tasks=None"):
        model.score(X, y)


def test_tasks_none_behaves_like_the_base_estimator(regression):
    X, y, _ = regression
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = MetricMetaEstimator(Ridge(alpha=3.0)).fit(X, y)
        assert model.tasks_.tolist() == [None]
        assert_allclose(model.predict(X), Ridge(alpha=3.0).fit(X, y).predict(X))
        assert_allclose(model.predict(X, tasks=np.arange(X.shape[0])), model.predict(X))
    Xc, yc, _ = classification_tasks()
    model = MetricMetaEstimator(LogisticRegression(C=0.5)).fit(Xc, yc)
    base = LogisticRegression(C=0.5).fit(Xc, yc)
    assert_allclose(model.predict_proba(Xc), base.predict_proba(Xc))
    assert_array_equal(model.predict(Xc), base.predict(Xc))
    assert model.score(Xc, yc) == base.score(Xc, yc)
    assert model.explain(None)["sources"] == ()


# -- input checks ----------------------------------------------------------------------
def test_instance_rule_needs_sample_weight_support(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(KNeighborsRegressor(n_neighbors=2), transfer="instance")
    with pytest.raises(ValueError, match=r"KNeighborsRegressor\.fit does not accept"):
        model.fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="does not take it"):
        MetricMetaEstimator(KNeighborsRegressor(n_neighbors=2)).fit(
            X, y, tasks=tasks, sample_weight=np.ones(X.shape[0])
        )
    # predictions rules work with it
    MetricMetaEstimator(KNeighborsRegressor(n_neighbors=2)).fit(X, y, tasks=tasks)


def test_parameter_rules_point_to_transfer_regressor(regression):
    X, y, tasks = regression
    with pytest.raises(ValueError, match=r"use sk_metameta\.TransferRegressor"):
        MetricMetaEstimator(Ridge(), transfer=ParameterRule()).fit(X, y, tasks=tasks)


def test_invalid_rule_weights_name_the_rule(regression):
    X, y, tasks = regression
    with pytest.raises(
        ValueError, match=r"rule 'negative'.* returned a negative source"
    ):
        MetricMetaEstimator(Ridge(), transfer=NegativeRule()).fit(X, y, tasks=tasks)


def test_n_neighbors_more_than_sources(regression):
    X, y, tasks = regression
    with pytest.raises(
        ValueError, match=r"n_neighbors=6 but each target task has only 5"
    ):
        MetricMetaEstimator(Ridge(), n_neighbors=6).fit(X, y, tasks=tasks)
    MetricMetaEstimator(Ridge(), n_neighbors=5).fit(X, y, tasks=tasks)


def test_a_failing_task_fit_names_the_task(regression):
    X, y, tasks = regression
    label = np.unique(tasks)[2].item()
    sample_weight = np.where(tasks == label, 0.0, 1.0)
    with pytest.raises(
        ValueError,
        match=rf"fitting Ridge on task {label!r} \(\d+ rows\) failed: Sample weights",
    ):
        MetricMetaEstimator(Ridge(), transfer="none").fit(
            X, y, tasks=tasks, sample_weight=sample_weight
        )


def test_string_targets_of_a_regressor_and_mixed_class_labels(regression):
    X, _, tasks = regression
    with pytest.raises(ValueError, match=r"y must be numeric for a regressor.*'x'"):
        MetricMetaEstimator(Ridge()).fit(X, np.array(["x"] * X.shape[0]), tasks=tasks)
    mixed = np.array(["a", 1] * (X.shape[0] // 2), dtype=object)
    with pytest.raises(ValueError, match="mixes class labels of types int, str"):
        MetricMetaEstimator(LogisticRegression()).fit(X, mixed, tasks=tasks)


def test_negative_sample_weight_is_refused(regression):
    X, y, tasks = regression
    sample_weight = np.ones(X.shape[0])
    sample_weight[3] = -1.0
    with pytest.raises(ValueError, match=r"Negative values.*sample_weight"):
        MetricMetaEstimator(Ridge()).fit(X, y, tasks=tasks, sample_weight=sample_weight)


def test_wrong_length_tasks(regression):
    X, y, tasks = regression
    with pytest.raises(ValueError, match="tasks has 71 labels but X has 72 rows"):
        MetricMetaEstimator(Ridge()).fit(X, y, tasks=tasks[:-1])
    model = MetricMetaEstimator(Ridge()).fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="tasks has 3 labels but X has 5 rows"):
        model.predict(X[:5], tasks=tasks[:3])
    with pytest.raises(ValueError, match="labels of the same kind"):
        model.predict(X[:2], tasks=["a", "b"])


def test_nan_is_refused(regression):
    X, y, tasks = regression
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MetricMetaEstimator(Ridge()).fit(X, y_nan, tasks=tasks)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MetricMetaEstimator(Ridge()).fit(X_nan, y, tasks=tasks)
    model = MetricMetaEstimator(Ridge()).fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(X_nan, tasks=tasks)
    with pytest.raises(ValueError, match="missing labels"):
        model.predict(X[:2], tasks=[0, None])


def test_parameter_validation_and_estimator_type(regression):
    X, y, tasks = regression
    with pytest.raises(InvalidParameterError, match="strength"):
        MetricMetaEstimator(Ridge(), strength=-1.0).fit(X, y, tasks=tasks)
    with pytest.raises(InvalidParameterError, match="transfer"):
        MetricMetaEstimator(Ridge(), transfer=3).fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="unknown transfer rule 'nope'"):
        MetricMetaEstimator(Ridge(), transfer="nope").fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="classifier or a regressor; KMeans"):
        MetricMetaEstimator(KMeans(n_clusters=2)).fit(X, y, tasks=tasks)


def test_tags_follow_the_wrapped_estimator():
    regressor = MetricMetaEstimator(Ridge())
    classifier = MetricMetaEstimator(LogisticRegression())
    assert is_regressor(regressor) and not is_classifier(regressor)
    assert is_classifier(classifier) and not is_regressor(classifier)
    assert get_tags(regressor).target_tags.multi_output
    assert not get_tags(classifier).target_tags.multi_output
    assert not get_tags(regressor).input_tags.sparse
    assert hasattr(classifier, "predict_proba")
    assert not hasattr(regressor, "predict_proba")


def test_multioutput_regression(regression):
    X, y, tasks = regression
    Y = np.column_stack([y, 2 * y + 1])
    model = MetricMetaEstimator(Ridge(), transfer="none").fit(X, Y, tasks=tasks)
    pred = model.predict(X, tasks=tasks)
    assert pred.shape == (72, 2)
    rows = tasks == 1
    assert_allclose(pred[rows], Ridge().fit(X[rows], Y[rows]).predict(X[rows]))
    model = MetricMetaEstimator(Ridge(), transfer=UniformPredictions()).fit(
        X, Y, tasks=tasks
    )
    assert model.predict(X, tasks=tasks).shape == (72, 2)
    assert np.isfinite(stored(model.transferability_)[~np.eye(6, dtype=bool)]).all()


def test_sample_weight_reaches_the_per_task_fits(regression):
    X, y, tasks = regression
    weights = np.where(np.arange(72) % 3 == 0, 0.0, 1.0)
    model = MetricMetaEstimator(Ridge(), transfer="none")
    model.fit(X, y, tasks=tasks, sample_weight=weights)
    keep = weights > 0
    dropped = MetricMetaEstimator(Ridge(), transfer="none")
    dropped.fit(X[keep], y[keep], tasks=tasks[keep])
    assert_allclose(model.predict(X, tasks=tasks), dropped.predict(X, tasks=tasks))


def test_pandas_input_and_string_tasks(regression):
    X, y, tasks = regression
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    labels = pd.Series([f"site-{t}" for t in tasks])
    model = MetricMetaEstimator(Ridge(), random_state=0).fit(frame, y, tasks=labels)
    assert model.feature_names_in_.tolist() == ["a", "b", "c"]
    assert model.tasks_.tolist() == [f"site-{t}" for t in range(6)]
    plain = MetricMetaEstimator(Ridge(), random_state=0)
    plain.fit(X, y, tasks=labels.to_numpy())
    assert_allclose(model.predict(frame, tasks=labels), plain.predict(X, tasks=labels))
    assert model.explain("site-3")["task"] == "site-3"


# -- parallelism and explanation -------------------------------------------------------
@pytest.mark.parametrize("transfer", ["ensemble", "instance"])
def test_n_jobs_gives_the_same_model(regression, transfer):
    X, y, tasks = regression
    params = {"transfer": transfer, "random_state": 0}
    one = MetricMetaEstimator(Ridge(), n_jobs=1, **params).fit(X, y, tasks=tasks)
    two = MetricMetaEstimator(Ridge(), n_jobs=2, **params).fit(X, y, tasks=tasks)
    with parallel_config(backend="threading", n_jobs=2):
        threads = MetricMetaEstimator(Ridge(), **params).fit(X, y, tasks=tasks)
    for other in (two, threads):
        assert_allclose(other.predict(X, tasks=tasks), one.predict(X, tasks=tasks))
        assert_allclose(dense(other.source_weights_), dense(one.source_weights_))
        assert_allclose(other.own_weights_, one.own_weights_)
        assert_allclose(other.strength_, one.strength_)
        if transfer == "instance":  # its source weights do not use the scores
            assert other.transferability_ is None and one.transferability_ is None
            continue
        assert_allclose(stored(other.transferability_), stored(one.transferability_))


def test_explain(regression):
    X, y, tasks = regression
    model = MetricMetaEstimator(Ridge(), transfer=UniformPredictions(), n_neighbors=3)
    model.fit(X, y, tasks=tasks)
    info = model.explain(2)
    assert info["task"] == 2 and info["n_rows"] == 12
    assert info["transfer"] == "uniform_predictions"
    assert info["transfers"] == "predictions"
    assert info["own_weight"] == pytest.approx(model.own_weights_[2])
    assert len(info["sources"]) == 3
    weights = [source["weight"] for source in info["sources"]]
    assert weights == sorted(weights, reverse=True)
    assert sum(weights) == pytest.approx(1.0)
    for source in info["sources"]:
        s = source["task"]
        assert isinstance(s, int)
        assert source["distance"] == pytest.approx(model.task_distances_[2, s])
        assert source["similarity"] == pytest.approx(dense(model.similarity_)[2, s])
        assert source["transferability"] == pytest.approx(
            stored(model.transferability_)[2, s]
        )
    with pytest.raises(ValueError, match="task 17 was not seen in fit"):
        model.explain(17)
    alone = MetricMetaEstimator(Ridge(), transfer="none").fit(X, y, tasks=tasks)
    assert alone.explain(0)["sources"] == () and alone.explain(0)["own_weight"] == 1.0


def test_scorer_without_sample_weight_is_a_clear_error(regression):
    X, y, tasks = regression
    # the scorer weighs the sources of a predictions rule
    model = MetricMetaEstimator(
        Ridge(), transfer="ensemble", scoring=make_scorer(max_error)
    )
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        model.fit(X, y, tasks=tasks, sample_weight=np.ones(72))


def test_auto_strength_is_one_pseudo_count_chosen_from_data():
    # tasks of different sizes share one strength m: own weight n / (n + m)
    X, y, tasks = make_related_tasks(
        8, 30, n_features=3, noise=2.0, cluster_std=0.2, n_clusters=1, random_state=1
    )
    keep = np.concatenate([np.flatnonzero(tasks == t)[: 6 + 3 * t] for t in range(8)])
    X, y, tasks = X[keep], y[keep], tasks[keep]
    model = MetricMetaEstimator(Ridge(), transfer=UniformPredictions())
    model.fit(X, y, tasks=tasks)
    n = np.bincount(tasks).astype(float)
    own = model.own_weights_
    assert ((own > 0) & (own < 1)).all()
    m = n * (1 - own) / own
    assert_allclose(m, m[0])
    assert np.all(np.diff(own) > 0)  # bigger tasks trust their own model more
    fixed = MetricMetaEstimator(Ridge(), transfer=UniformPredictions(), strength=m[0])
    fixed.fit(X, y, tasks=tasks)
    assert_allclose(fixed.own_weights_, own)


# -- episodes: how much to transfer, learned on the source tasks ----------------------
def _few_and_many(n_few=4, n_many=16, k=5, seed=0):
    """Tasks of 30 rows, the first ``n_few`` of them cut to ``k`` rows."""
    X, y, tasks = make_related_tasks(
        n_few + n_many, 30, n_features=3, noise=1.0, random_state=seed
    )
    position = np.arange(tasks.size) - np.searchsorted(tasks, tasks)
    keep = (tasks >= n_few) | (position < k)
    return X[keep], y[keep], tasks[keep]


def test_episodes_keep_k_rows_of_a_task_and_place_it_from_them():
    from sk_metameta._meta._episodes import (
        draw_episodes,
        episode_k,
        locate_episodes,
    )
    from sk_metameta._task_space import TaskSpace
    from sk_metameta._tasks import check_tasks
    from sk_metameta.neighbors import find_task_neighbors

    X, y, tasks = _few_and_many()
    index = check_tasks(tasks)
    # the typical row count of the few-row tasks: the median of the smallest
    # quarter of the row counts (4 tasks of 5 rows, 16 of 30)
    assert episode_k(index.counts) == 5
    has_sources = np.ones(index.n_tasks, dtype=bool)
    episodes = draw_episodes(index, has_sources, 40, np.random.RandomState(0))
    assert episodes.n_episodes == 40
    # drawn from the tasks with k + 5 rows, each once before any twice
    assert set(episodes.tasks[:16]) == set(range(4, 20))
    for t, visible, hidden in zip(
        episodes.tasks, episodes.visible, episodes.hidden, strict=True
    ):
        rows = np.flatnonzero(tasks == t)
        assert visible.size == 5 and hidden.size == 25
        assert np.intersect1d(visible, hidden).size == 0
        assert np.union1d(visible, hidden).tolist() == rows.tolist()
    # a task drawn twice sees other rows the second time
    assert not np.array_equal(episodes.visible[0], episodes.visible[16])
    # its sources are the nearest other tasks seen from its visible rows only
    space = TaskSpace("moments", "euclidean", n_neighbors=3).fit(X, y, index)
    locate_episodes(space, X, y, index, episodes)
    sources = [episodes.sources(e) for e in range(episodes.n_episodes)]
    for e, t in enumerate(episodes.tasks):
        assert t not in sources[e] and sources[e].size == 3
    e = 0
    visible = check_tasks(np.zeros(5, dtype=int))
    F = space.extractor_.transform(X[episodes.visible[e]], tasks=visible)
    found = find_task_neighbors(F, space.features_, n_neighbors=4, exclude_self=False)
    expected = [s for s in found.indices[0] if s != episodes.tasks[e]][:3]
    assert sorted(expected) == sorted(sources[e].tolist())


def test_auto_transfer_is_instance_when_the_estimator_takes_sample_weight():
    X, y, tasks = _few_and_many()
    model = MetricMetaEstimator(Ridge(), random_state=0).fit(X, y, tasks=tasks)
    assert model.transfer_rule_.name == "instance"
    assert list(model.episode_loss_) == ["instance"]
    knn = MetricMetaEstimator(KNeighborsRegressor(n_neighbors=3), random_state=0)
    assert knn.fit(X, y, tasks=tasks).transfer_rule_.name == "ensemble"
    # a fixed strength means something else for each rule: name the rule
    with pytest.raises(ValueError, match=r"strength=2\.0 with transfer='auto'"):
        MetricMetaEstimator(Ridge(), strength=2.0).fit(X, y, tasks=tasks)


def test_a_list_of_rules_fits_the_one_of_least_episode_loss():
    X, y, tasks = _few_and_many()
    rules = ["ensemble", "instance"]
    model = MetricMetaEstimator(Ridge(), transfer=rules, random_state=0)
    model.fit(X, y, tasks=tasks)
    assert sorted(model.episode_loss_) == rules
    best = min(model.episode_loss_, key=model.episode_loss_.get)
    assert model.transfer_rule_.name == best
    # each rule alone, with the same episodes, chooses the same settings
    alone = MetricMetaEstimator(Ridge(), transfer=best, random_state=0)
    alone.fit(X, y, tasks=tasks)
    assert_allclose(alone.strength_, model.strength_)
    assert alone.episode_loss_[best] == pytest.approx(model.episode_loss_[best])
    assert_allclose(alone.predict(X, tasks=tasks), model.predict(X, tasks=tasks))
    # an estimator whose fit takes no sample_weight cannot transfer instances
    knn = MetricMetaEstimator(KNeighborsRegressor(n_neighbors=3), transfer=rules)
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        knn.fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match=r"strength=2\.0 with transfer=\["):
        MetricMetaEstimator(Ridge(), transfer=rules, strength=2.0).fit(
            X, y, tasks=tasks
        )
    with pytest.raises(ValueError, match="at least one rule"):
        MetricMetaEstimator(Ridge(), transfer=[]).fit(X, y, tasks=tasks)


def test_temperature_is_chosen_for_a_rule_given_by_name_only():
    from sk_metameta._meta._strength import TEMPERATURES
    from sk_metameta.transfer import EnsembleTransfer

    X, y, tasks = _few_and_many()
    named = MetricMetaEstimator(Ridge(), transfer="ensemble", random_state=0)
    assert named.fit(X, y, tasks=tasks).transfer_rule_.temperature in TEMPERATURES
    given = EnsembleTransfer(temperature=3.0)
    model = MetricMetaEstimator(Ridge(), transfer=given, random_state=0)
    assert model.fit(X, y, tasks=tasks).transfer_rule_.temperature == 3.0
    assert given.temperature == 3.0  # the user's rule is not changed


class CountingRidge(Ridge):
    """Ridge that counts its fits (in this process: n_jobs=1)."""

    n_fits: ClassVar[int] = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    ("transfer", "fits"),
    [
        # own models, and one fit per episode on its visible rows
        ("ensemble", lambda T, E: T + E),
        # four fits per episode, and one per task on its and its sources' rows
        ("instance", lambda T, E: 4 * E + T),
        # "instance" for Ridge
        ("auto", lambda T, E: 4 * E + T),
        # both, and the refits of the rule chosen if it is "instance"
        (["ensemble", "instance"], lambda T, E: T + E + 4 * E),
    ],
    ids=["ensemble", "instance", "auto", "both"],
)
def test_episodes_are_a_fixed_budget_of_fits(transfer, fits):
    X, y, tasks = _few_and_many()
    for n_episodes in (10, 30):
        CountingRidge.n_fits = 0
        model = MetricMetaEstimator(
            CountingRidge(), transfer=transfer, n_episodes=n_episodes, random_state=0
        ).fit(X, y, tasks=tasks)
        both = isinstance(transfer, list)
        refits = 20 if both and model.transfer_rule_.name == "instance" else 0
        assert CountingRidge.n_fits == fits(20, n_episodes) + refits


def test_instance_fit_weights_average_one():
    # the estimator's regularisation acts on a target's and its sources' rows as
    # on that many rows: the relative weights are scaled to average one
    X = np.array([[0.0], [1.0], [0.0], [1.0], [9.0], [10.0]])
    y = np.array([0.0, 1.0, 0.2, 1.2, 50.0, 60.0])
    tasks = np.array(["a", "a", "b", "b", "c", "c"])
    model = MetricMetaEstimator(
        Ridge(alpha=3.0), transfer=UniformInstances(), n_neighbors=1, strength=0.5
    ).fit(X, y, tasks=tasks)
    w = np.array([1, 1, 0.5, 0.5])
    expected = Ridge(alpha=3.0).fit(X[:4], y[:4], sample_weight=w * 4 / w.sum())
    assert_allclose(model.estimators_[0].coef_, expected.coef_)
    unscaled = Ridge(alpha=3.0).fit(X[:4], y[:4], sample_weight=w)
    assert not np.allclose(unscaled.coef_, expected.coef_)


def test_n_folds_is_deprecated(regression):
    X, y, tasks = regression
    with pytest.warns(FutureWarning, match="n_folds is deprecated"):
        MetricMetaEstimator(Ridge(), n_folds=3).fit(X, y, tasks=tasks)


class BlasThreadsRidge(Ridge):
    """Ridge that records how many BLAS threads its fit could use."""

    def fit(self, X, y, sample_weight=None):
        from threadpoolctl import threadpool_info

        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        self.blas_threads_ = max(blas)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_per_task_fits_run_with_one_blas_thread(regression, n_jobs):
    # joblib workers are other processes: they do not inherit the limit
    X, y, tasks = regression
    model = MetricMetaEstimator(
        BlasThreadsRidge(), transfer="ensemble", n_jobs=n_jobs, random_state=0
    ).fit(X, y, tasks=tasks)
    assert [m.blas_threads_ for m in model.estimators_] == [1] * 6


# -- offsets: transferred predictions recentred on each task's rows --------------------
def test_task_offsets_are_shrunk_mean_residuals_and_calibrated_log_odds():
    from sk_metameta._meta._offsets import shifted, task_offsets

    rng = np.random.default_rng(0)
    codes = np.repeat([0, 1, 2], [4, 10, 6])
    response = rng.normal(size=(20, 1))
    truth = response + np.array([1.0, -2.0, 0.5])[codes, None]
    delta = task_offsets(response, truth, codes, 4, 2.0, log=False)
    assert_allclose(delta[:3, 0], [4 / 6, -20 / 12, 3 / 8])  # n / (n + m) of it
    assert_allclose(delta[3], 0.0)  # a task without rows
    assert_allclose(task_offsets(response, truth, codes, 3, np.inf, log=False), 0.0)
    # a classifier: with m = 0 the moved probabilities of a task average its
    # class frequencies (the maximum of its likelihood); m > 0 moves them less
    p = rng.uniform(0.2, 0.8, size=20)
    proba = np.column_stack([1 - p, p])
    y = (rng.uniform(size=20) < np.where(codes == 1, 0.9, 0.3)).astype(int)
    onehot = np.eye(2)[y]
    free = task_offsets(proba, onehot, codes, 3, 0.0, log=True)
    moved = shifted(proba, free[codes], log=True)
    for t in range(3):
        assert_allclose(
            moved[codes == t].mean(0), onehot[codes == t].mean(0), atol=1e-4
        )
    shrunk = shifted(
        proba, task_offsets(proba, onehot, codes, 3, 5.0, log=True)[codes], True
    )
    for t in range(3):
        before, after = proba[codes == t, 1].mean(), shrunk[codes == t, 1].mean()
        target = onehot[codes == t, 1].mean()
        assert abs(after - target) < abs(before - target)


def _shifted_tasks(n_tasks=24, n_rows=30, seed=0):
    """One linear function for all tasks, each task with an intercept of its own."""
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.normal(size=(tasks.size, 3))
    level = 3.0 * rng.normal(size=n_tasks)
    y = X @ np.array([1.0, -2.0, 0.5]) + level[tasks] + rng.normal(size=tasks.size)
    return X, y, tasks


def test_offsets_recentre_each_task_on_its_rows():
    X, y, tasks = _shifted_tasks()
    position = np.arange(tasks.size) - np.searchsorted(tasks, tasks)
    train = (tasks >= 6) | (position < 8)  # six targets with 8 labelled rows
    test = ~train
    model = MetricMetaEstimator(Ridge(), random_state=0)
    model.fit(X[train], y[train], tasks=tasks[train])
    # the levels differ: the offsets are chosen, and fitted on each task's rows
    assert np.isfinite(model.offset_strength_)
    assert model.offsets_.shape == (24, 1)
    assert np.abs(model.offsets_).max() > 0.5
    # a prediction is the transferred one moved by its task's offset
    plain = deepcopy(model)
    plain.offsets_ = np.zeros_like(model.offsets_)
    rows = test & (tasks == 2)
    assert_allclose(
        model.predict(X[rows], tasks=tasks[rows]),
        plain.predict(X[rows], tasks=tasks[rows]) + model.offsets_[2, 0],
    )
    # a task not seen in fit has none
    new_task = np.full(rows.sum(), 99)
    assert_allclose(
        model.predict(X[rows], tasks=new_task), plain.predict(X[rows], tasks=new_task)
    )
    # a fixed strength: no offsets
    fixed = MetricMetaEstimator(Ridge(), transfer="ensemble", strength=3.0)
    fixed.fit(X[train], y[train], tasks=tasks[train])
    assert fixed.offset_strength_ == np.inf and not fixed.offsets_.any()
    # and the targets are predicted as well as by a pooled model with a task
    # intercept, the model of these data
    from sk_metameta.model_selection import PooledModel

    pooled = PooledModel(Ridge(), task_intercept=True)
    pooled.fit(X[train], y[train], tasks=tasks[train])
    ours = r2_score(y[test], model.predict(X[test], tasks=tasks[test]))
    theirs = r2_score(y[test], pooled.predict(X[test], tasks=tasks[test]))
    assert ours > theirs - 0.02, (ours, theirs)


def test_classifier_offsets_move_labels_and_probabilities_together():
    X, y, tasks = classification_tasks(n_tasks=8, n_rows=30, seed=1)
    model = MetricMetaEstimator(LogisticRegression(), random_state=0)
    model.fit(X, y, tasks=tasks)
    model.offsets_ = np.linspace(-2, 2, 16).reshape(8, 2)  # as if fitted
    proba = model.predict_proba(X, tasks=tasks)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(
        model.predict(X, tasks=tasks), model.classes_[np.argmax(proba, axis=1)]
    )
