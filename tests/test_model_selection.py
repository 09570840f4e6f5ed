"""Tests of few-shot evaluation and the baselines (sk_metameta.model_selection)."""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import SkipTestWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.utils.estimator_checks import check_estimator

from sk_metameta import check_tasks
from sk_metameta.datasets import make_related_tasks
from sk_metameta.model_selection import (
    FewShotSplit,
    PerTaskModel,
    PooledModel,
    few_shot_evaluation,
)

# -- few-shot harness ----------------------------------------------------------------

_LOG = []


class SpyRegressor(RegressorMixin, BaseEstimator):
    """Predicts 0; records the row ids (column 0) it is fitted on and predicts."""

    def fit(self, X, y, *, tasks):
        _LOG.append(("fit", np.asarray(X)[:, 0].astype(int), np.asarray(tasks)))
        return self

    def predict(self, X, *, tasks):
        _LOG.append(("predict", np.asarray(X)[:, 0].astype(int), np.asarray(tasks)))
        return np.zeros(len(X))


def test_few_shot_protocol_splits_rows_as_documented():
    sizes = np.array([12, 30, 8, 25, 16, 40, 9])
    tasks = np.repeat(np.array(list("abcdefg")), sizes)
    n = tasks.size
    X = np.column_stack([np.arange(n), np.random.RandomState(0).rand(n)])
    y = np.random.RandomState(1).rand(n)
    _LOG.clear()
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        {"spy": SpyRegressor()},
        ks=[3, 6],
        n_folds=3,
        n_repeats=2,
        min_test_rows=4,
        random_state=0,
    )
    index = check_tasks(tasks)
    eligible = {3: index.counts >= 7, 6: index.counts >= 10}
    np.testing.assert_array_equal(result.n_targets, [7, 5])
    fits = [entry for entry in _LOG if entry[0] == "fit"]
    predicts = [entry for entry in _LOG if entry[0] == "predict"]
    # at most one fit per repeat, k and fold (a fold without targets is skipped)
    assert len(fits) == len(predicts) <= 2 * 2 * 3
    runs = []  # (k, {target: labelled row ids}) per fit, in order
    for (_, train, train_tasks), (_, test, test_tasks) in zip(
        fits, predicts, strict=True
    ):
        # every row is either in training or in the test set, never both
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).size == n
        np.testing.assert_array_equal(train_tasks, tasks[train])
        np.testing.assert_array_equal(test_tasks, tasks[test])
        targets = np.unique(test_tasks)
        n_labelled = {np.sum(train_tasks == t) for t in targets}
        assert len(n_labelled) == 1  # every target has exactly k labelled rows
        k = n_labelled.pop()
        assert k in (3, 6)
        for t in targets:
            assert np.sum(test_tasks == t) == index.counts[index.encode([t])[0]] - k
        assert np.all(eligible[k][index.encode(targets)])
        labelled = {t: set(train[train_tasks == t].tolist()) for t in targets}
        if runs and runs[-1][0] == k:
            assert not set(labelled) & set(runs[-1][1])  # folds are disjoint
            runs[-1][1].update(labelled)
        else:
            runs.append((k, labelled))
    # repeat by repeat, k by k: each eligible task is a target exactly once
    assert [k for k, _ in runs] == [3, 6, 3, 6]
    for k, labelled in runs:
        assert sorted(labelled) == sorted(index.labels[eligible[k]].tolist())
    # the labelled rows of a target at k=3 are among those at k=6
    for (_, small), (_, large) in [(runs[0], runs[1]), (runs[2], runs[3])]:
        for t, rows in large.items():
            assert small[t] <= rows
    # a new repeat draws new labelled rows
    assert runs[0][1] != runs[2][1]
    assert result.scores.shape == (1, 2, 2)


def test_few_shot_matches_a_hand_written_loop():
    X, y, tasks = make_related_tasks(
        n_tasks=6, n_samples_per_task=15, n_features=2, random_state=0
    )
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        {"pooled": LinearRegression()},
        ks=[4],
        n_folds=6,
        scoring="mse",
        random_state=0,
    )
    # leave-one-task-out with a pooled linear regression, recomputed by hand
    _LOG.clear()
    spy_X = np.column_stack([np.arange(len(y)), X])
    few_shot_evaluation(
        spy_X, y, tasks, {"spy": SpyRegressor()}, ks=[4], n_folds=6, random_state=0
    )
    fits = [e for e in _LOG if e[0] == "fit"]
    predicts = [e for e in _LOG if e[0] == "predict"]
    errors = []
    for (_, train, _), (_, test, _) in zip(fits, predicts, strict=True):
        model = LinearRegression().fit(X[train], y[train])
        errors.append((model.predict(X[test]) - y[test]) ** 2)
    assert result.scores[0, 0, 0] == pytest.approx(np.concatenate(errors).mean())
    assert not result.greater_is_better


def test_few_shot_average_over_tasks():
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=15, random_state=1)
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        {"ridge": Ridge()},
        ks=[5],
        n_folds=3,
        average="tasks",
        random_state=0,
    )
    assert result.task_scores.shape == (1, 1, 1, 6)
    assert result.scores[0, 0, 0] == pytest.approx(result.task_scores[0, 0, 0].mean())
    rows = few_shot_evaluation(
        X, y, tasks, {"ridge": Ridge()}, ks=[5], n_folds=3, random_state=0
    )
    assert rows.task_scores is None
    assert rows.scores[0, 0, 0] != pytest.approx(result.scores[0, 0, 0])


def test_few_shot_classification_log_loss():
    X, y, tasks = make_related_tasks(
        n_tasks=8, n_samples_per_task=30, task_type="classification", random_state=0
    )
    logistic = LogisticRegression(solver="newton-cholesky")
    methods = {
        "per task": PerTaskModel(logistic),
        "pooled": PooledModel(logistic),
        "pooled + intercept": PooledModel(logistic, task_intercept=True),
    }
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        methods,
        ks=[5, 20],
        n_folds=2,
        scoring="log_loss",
        random_state=0,
    )
    assert result.scoring == "log_loss" and not result.greater_is_better
    assert np.all(np.isfinite(result.scores)) and np.all(result.scores > 0)
    # the per-task model learns with more labelled rows
    assert result.scores[0, 1, 0] < result.scores[0, 0, 0]
    text = result.table()
    assert "log loss" in text and "lower is better" in text


def test_few_shot_accuracy_with_string_labels():
    X, y, tasks = make_related_tasks(
        n_tasks=6, n_samples_per_task=30, task_type="classification", random_state=0
    )
    labels = np.where(y == 1, "yes", "no")
    logistic = LogisticRegression(solver="newton-cholesky")
    methods = {"pooled": logistic, "per task": PerTaskModel(logistic)}
    kwargs = {"ks": [5], "n_folds": 2, "random_state": 0}
    text = few_shot_evaluation(X, labels, tasks, methods, scoring="accuracy", **kwargs)
    numeric = few_shot_evaluation(X, y, tasks, methods, scoring="accuracy", **kwargs)
    np.testing.assert_allclose(text.scores, numeric.scores)
    assert np.all((text.scores > 0.5) & (text.scores <= 1.0))


def test_few_shot_result_table_and_frame():
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=20, random_state=0)
    methods = {"pooled": Ridge(), "per task": PerTaskModel(Ridge())}
    result = few_shot_evaluation(
        X, y, tasks, methods, ks=[5, 10], n_folds=2, n_repeats=3, random_state=0
    )
    lines = result.table().splitlines()
    assert lines[2].split() == ["method", "k=5", "k=10", "fit", "s"]
    assert [line.split()[0] for line in lines[3:]] == ["pooled", "per"]
    assert "±" in lines[3]
    frame = result.to_frame()
    assert frame.shape == (2 * 2 * 3, 5)
    assert list(frame.columns) == [
        "method",
        "k",
        "repeat",
        "explained_variance",
        "fit_time",
    ]
    assert result.mean_scores().shape == (2, 2)
    assert np.all(result.fit_times >= 0)


def test_few_shot_is_reproducible():
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=20, random_state=0)
    methods = {"per task": PerTaskModel(Ridge())}
    a = few_shot_evaluation(X, y, tasks, methods, ks=[5], n_folds=2, random_state=4)
    b = few_shot_evaluation(X, y, tasks, methods, ks=[5], n_folds=2, random_state=4)
    c = few_shot_evaluation(X, y, tasks, methods, ks=[5], n_folds=2, random_state=5)
    assert a.scores[0, 0, 0] == b.scores[0, 0, 0]
    assert a.scores[0, 0, 0] != c.scores[0, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_folds": 1}, "n_folds must be between 2"),
        ({"n_folds": 7}, "n_folds must be between 2"),
        ({"ks": [0]}, "ks must be positive"),
        ({"ks": [20]}, "no task has the k \\+ min_test_rows = 25 rows"),
        ({"scoring": "f2"}, "unknown scoring 'f2'"),
        ({"average": "median"}, "average must be"),
        ({"n_repeats": 0}, "n_repeats must be"),
        ({"methods": {}}, "non-empty mapping"),
    ],
)
def test_few_shot_errors(kwargs, match):
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=15, random_state=0)
    kwargs = {"methods": {"ridge": Ridge()}, **kwargs}
    with pytest.raises(ValueError, match=match):
        few_shot_evaluation(X, y, tasks, **kwargs)


def test_progress_bar_on_a_terminal(terminal_stderr):
    X, y, tasks = make_related_tasks(n_tasks=4, n_samples_per_task=12, random_state=0)
    with terminal_stderr() as stderr:
        few_shot_evaluation(X, y, tasks, {"ridge": Ridge()}, ks=[5], n_folds=2)
    err = stderr.getvalue()
    assert "few-shot fits" in err and "/2 " in err and "fit/s" in err


def test_progress_silent_when_asked(terminal_stderr):
    X, y, tasks = make_related_tasks(n_tasks=4, n_samples_per_task=12, random_state=0)
    with terminal_stderr() as stderr:
        few_shot_evaluation(
            X, y, tasks, {"ridge": Ridge()}, ks=[5], n_folds=2, progress=False
        )
    assert stderr.getvalue() == ""


def test_progress_writes_nothing_to_a_stderr_that_is_not_a_terminal(capsys):
    X, y, tasks = make_related_tasks(n_tasks=4, n_samples_per_task=12, random_state=0)
    few_shot_evaluation(X, y, tasks, {"ridge": Ridge()}, ks=[5], n_folds=2)
    assert capsys.readouterr().err == ""


def result_of(scores, greater_is_better=True, methods=None):
    from sk_metameta.model_selection import FewShotResult

    scores = np.asarray(scores, dtype=float)
    return FewShotResult(
        methods=methods or [f"m{i}" for i in range(scores.shape[0])],
        ks=[5, 10][: scores.shape[1]],
        scoring="r2" if greater_is_better else "mse",
        label="R^2" if greater_is_better else "mean squared error",
        greater_is_better=greater_is_better,
        average="rows",
        scores=scores,
        fit_times=np.zeros_like(scores),
        n_targets=np.array([4, 4][: scores.shape[1]]),
        n_tasks=4,
        n_folds=2,
        task_labels=np.arange(4),
    )


def test_verdict_names_the_winner_its_lead_and_the_noise():
    # m1 wins by 0.1 in every repeat give or take 0.01: beyond noise
    base = np.array([0.50, 0.52, 0.48, 0.51, 0.49])
    lead = np.array([0.10, 0.11, 0.09, 0.10, 0.10])
    result = result_of([[base], [base + lead], [base - 0.3]])
    (line,) = result.verdict()
    sd = np.std(base + lead)
    assert line.startswith(f"k=5: m1 is best, R^2 0.600 ± {sd:.3f}; ")
    assert "0.100 better than the runner-up, m0 at 0.500: beyond noise" in line
    from scipy import stats

    p = stats.ttest_rel(base + lead, base).pvalue
    assert f"paired t-test over 5 repeats: p = {p:.2g})." in line
    # a lead that changes sign between repeats is within noise
    noisy = result_of([[base], [base + np.array([0.05, -0.04, 0.03, -0.03, 0.0])]])
    assert "within noise" in noisy.verdict()[0]
    assert noisy.verdict()[0].startswith("k=5: m1 is best")


def test_verdict_for_a_loss_and_for_a_single_repeat():
    result = result_of([[[2.0], [1.0]], [[1.5], [3.0]]], greater_is_better=False)
    first, second = result.verdict()
    assert first.startswith("k=5: m1 is best, mean squared error 1.500; ")
    assert "0.500 better than the runner-up, m0 at 2.000" in first
    assert "noise unknown: one repeat has no spread" in first
    assert second.startswith("k=10: m0 is best")


def test_identical_methods_are_grouped_and_skipped_as_runner_up():
    scores = [[[0.2, 0.3]], [[0.5, 0.6]], [[0.2, 0.3]], [[0.5, 0.6]], [[0.1, 0.1]]]
    result = result_of(scores)
    assert result.identical_methods() == [["m0", "m2"], ["m1", "m3"]]
    (line,) = result.verdict()
    assert "m1 is best" in line and "runner-up, m0 at 0.250" in line
    alone = result_of([[[0.2, 0.3]], [[0.2, 0.3]]])
    assert alone.verdict() == ["k=5: m0 is best, R^2 0.250 ± 0.050."]


def test_table_states_the_spread():
    result = result_of([[[0.2, 0.3]], [[0.5, 0.6]]])
    assert "2 repeat(s) (cells: mean±sd over repeats)" in result.table()
    assert "cells" not in result_of([[[0.2]], [[0.5]]]).table()


# -- baselines -----------------------------------------------------------------------


def test_per_task_model_fits_each_task_alone():
    X, y, tasks = make_related_tasks(n_tasks=3, n_samples_per_task=10, random_state=0)
    model = PerTaskModel(Ridge(alpha=0.5)).fit(X, y, tasks=tasks)
    for t in range(3):
        rows = tasks == t
        alone = Ridge(alpha=0.5).fit(X[rows], y[rows])
        np.testing.assert_allclose(
            model.predict(X[rows], tasks=tasks[rows]), alone.predict(X[rows])
        )
    with pytest.raises(ValueError, match=r"no model for tasks \[7\]"):
        model.predict(X[:2], tasks=[7, 7])
    with pytest.raises(ValueError, match="fitted on 3 tasks; give the task"):
        model.predict(X[:2])
    single = PerTaskModel(Ridge(alpha=0.5)).fit(X, y)
    np.testing.assert_allclose(single.predict(X), Ridge(alpha=0.5).fit(X, y).predict(X))


def test_per_task_classifier_with_one_class_uses_smoothed_frequencies():
    X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 1, 1, 1, 1, 1, 1])
    tasks = np.array([0, 0, 0, 1, 1, 1, 1])
    model = PerTaskModel(LogisticRegression()).fit(X, y, tasks=tasks)
    proba = model.predict_proba([[5.0], [5.0]], tasks=[1, 0])
    np.testing.assert_allclose(proba[0], [1 / 6, 5 / 6])  # (0 + 1) / (4 + 2)
    assert proba[1, 1] > 0.5
    assert model.predict([[5.0]], tasks=[1]).tolist() == [1]


def test_pooled_model_with_task_intercept_matches_one_hot_ridge():
    X, y, tasks = make_related_tasks(n_tasks=4, n_samples_per_task=10, random_state=0)
    model = PooledModel(Ridge(alpha=2.0), task_intercept=True).fit(X, y, tasks=tasks)
    onehot = (tasks[:, None] == np.arange(4)).astype(float)
    direct = Ridge(alpha=2.0).fit(np.hstack([X, onehot]), y)
    np.testing.assert_allclose(
        model.predict(X, tasks=tasks), direct.predict(np.hstack([X, onehot]))
    )
    # an unseen task gets the pooled part only
    np.testing.assert_allclose(
        model.predict(X[:3], tasks=[9, 9, 9]),
        direct.predict(np.hstack([X[:3], np.zeros((3, 4))])),
    )
    plain = PooledModel(Ridge()).fit(X, y)
    np.testing.assert_allclose(plain.predict(X), Ridge().fit(X, y).predict(X))


@pytest.mark.parametrize(
    "estimator",
    [
        PerTaskModel(Ridge()),
        PerTaskModel(LogisticRegression(solver="newton-cholesky")),
        PooledModel(Ridge()),
        PooledModel(Ridge(), task_intercept=True),
        PooledModel(LogisticRegression(solver="newton-cholesky"), task_intercept=True),
    ],
    ids=repr,
)
def test_baselines_pass_the_scikit_learn_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkipTestWarning)
        results = check_estimator(estimator, on_fail=None)
    failed = [
        (r["check_name"], repr(r["exception"]))
        for r in results
        if r["status"] == "failed"
    ]
    assert failed == []
    assert len(results) > 40


@pytest.mark.parametrize("scoring", ["r2", "mse", "explained_variance"])
def test_task_average_is_the_metric_on_each_task(scoring):
    from sklearn.metrics import explained_variance_score, mean_squared_error, r2_score

    metric = {
        "r2": r2_score,
        "mse": mean_squared_error,
        "explained_variance": explained_variance_score,
    }[scoring]
    X, y, tasks = make_related_tasks(n_tasks=7, n_samples_per_task=14, random_state=2)
    kwargs = {"ks": [3, 6], "n_folds": 3, "n_repeats": 2, "random_state": 0}
    methods = {"ridge": Ridge(), "per task": PerTaskModel(Ridge())}
    table = few_shot_evaluation(
        X, y, tasks, methods, scoring=scoring, average="tasks", **kwargs
    )
    # a function of the user is scored task by task: the same numbers
    loop = few_shot_evaluation(
        X, y, tasks, methods, scoring=metric, average="tasks", **kwargs
    )
    np.testing.assert_allclose(table.task_scores, loop.task_scores, rtol=1e-10)
    np.testing.assert_allclose(table.scores, loop.scores, rtol=1e-10)
    assert np.isfinite(table.task_scores).all()


def test_task_average_of_log_loss_matches_sklearn_per_task():
    from sklearn.metrics import log_loss

    X, y, tasks = make_related_tasks(
        n_tasks=6, n_samples_per_task=30, task_type="classification", random_state=0
    )
    logistic = PooledModel(LogisticRegression(), task_intercept=True)
    kwargs = {"ks": [5], "n_folds": 2, "random_state": 0, "average": "tasks"}
    result = few_shot_evaluation(
        X, y, tasks, {"pooled": logistic}, scoring="log_loss", **kwargs
    )
    # the same splits, scored by hand with sklearn on each task's test rows
    _LOG.clear()
    spy_X = np.column_stack([np.arange(len(y)), X])
    few_shot_evaluation(spy_X, y, tasks, {"spy": SpyRegressor()}, **kwargs)
    fits = [e for e in _LOG if e[0] == "fit"]
    predicts = [e for e in _LOG if e[0] == "predict"]
    expected = np.full(6, np.nan)
    for (_, train, _), (_, test, test_tasks) in zip(fits, predicts, strict=True):
        model = PooledModel(LogisticRegression(), task_intercept=True)
        model.fit(X[train], y[train], tasks=tasks[train])
        proba = model.predict_proba(X[test], tasks=test_tasks)
        for t in np.unique(test_tasks):
            rows = test_tasks == t
            expected[t] = log_loss(y[test][rows], proba[rows], labels=[0, 1])
    np.testing.assert_allclose(result.task_scores[0, 0, 0], expected, rtol=1e-10)


# -- FewShotSplit ---------------------------------------------------------------------
def _uneven_tasks():
    sizes = np.array([12, 30, 8, 25, 16, 40, 9, 20])
    tasks = np.repeat(np.array(list("abcdefgh")), sizes)
    return np.zeros((tasks.size, 1)), tasks, check_tasks(tasks)


def test_few_shot_split_keeps_k_rows_of_each_target_and_all_of_the_sources():
    X, tasks, index = _uneven_tasks()
    cv = FewShotSplit(k=4, n_splits=3, min_test_rows=6, random_state=0)
    eligible = index.labels[index.counts >= 10]  # every task but "c" and "g"
    splits = list(cv.split(X, groups=tasks))
    assert len(splits) == cv.get_n_splits() == 3
    seen = []
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).size == tasks.size
        targets = np.unique(tasks[test])
        seen.extend(targets.tolist())
        for t in np.unique(tasks):
            n_train, n_all = np.sum(tasks[train] == t), np.sum(tasks == t)
            assert n_train == (4 if t in targets else n_all)
    # every eligible task is a target exactly once, the folds as even as can be
    assert sorted(seen) == sorted(eligible.tolist())
    assert sorted(len(np.unique(tasks[test])) for _, test in splits) == [2, 2, 2]
    # an int seed gives the same splits on every call; another seed others
    again = list(cv.split(X, groups=tasks))
    for (train, test), (train2, test2) in zip(splits, again, strict=True):
        assert_array_equal(train, train2)
        assert_array_equal(test, test2)
    other = list(FewShotSplit(4, n_splits=3, random_state=1).split(X, groups=tasks))
    assert any(
        not np.array_equal(a[1], b[1]) for a, b in zip(splits, other, strict=True)
    )


def test_few_shot_split_is_the_protocol_of_few_shot_evaluation():
    X, tasks, _ = _uneven_tasks()
    X = np.column_stack([np.arange(tasks.size), X])
    y = np.random.RandomState(0).rand(tasks.size)
    _LOG.clear()
    kwargs = {"n_folds": 3, "min_test_rows": 6, "random_state": 0}
    few_shot_evaluation(X, y, tasks, {"spy": SpyRegressor()}, ks=[4], **kwargs)
    fits = [entry[1] for entry in _LOG if entry[0] == "fit"]
    predicts = [entry[1] for entry in _LOG if entry[0] == "predict"]
    cv = FewShotSplit(k=4, n_splits=3, min_test_rows=6, random_state=0)
    splits = list(cv.split(X, groups=tasks))
    assert len(fits) == len(splits) == 3
    for fitted, predicted, (train, test) in zip(fits, predicts, splits, strict=True):
        assert_array_equal(np.sort(fitted), train)
        assert_array_equal(np.sort(predicted), test)


@pytest.mark.parametrize(
    ("params", "groups", "match"),
    [
        ({}, None, "pass groups=tasks"),
        ({"k": 0}, "tasks", "k must be an int >= 1"),
        ({"n_splits": 1}, "tasks", "n_splits must be an int >= 2"),
        ({"min_test_rows": 0}, "tasks", "min_test_rows must be an int >= 1"),
        ({"k": 30, "n_splits": 2}, "tasks", "at least 2 tasks with k \\+ min_test"),
    ],
)
def test_few_shot_split_errors(params, groups, match):
    X, tasks, _ = _uneven_tasks()
    cv = FewShotSplit(**params)
    with pytest.raises(ValueError, match=match):
        next(cv.split(X, groups=tasks if groups else None))


def test_few_shot_split_in_a_grid_search_with_routed_tasks():
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    from sk_metameta import MetricMetaEstimator, get_task_scorer

    X, y, tasks = make_related_tasks(
        n_tasks=12, n_samples_per_task=25, noise=1.0, random_state=0
    )
    cv = FewShotSplit(k=5, n_splits=3, random_state=0)
    grid = {"transfer": ["none", "ensemble"]}
    search = GridSearchCV(
        MetricMetaEstimator(Ridge(), random_state=0),
        grid,
        cv=cv,
        scoring=get_task_scorer("r2"),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks, groups=tasks)
    # each split's score is the model fitted on its training rows, scored on the
    # targets' other rows with their tasks
    for i, params in enumerate(search.cv_results_["params"]):
        for j, (train, test) in enumerate(cv.split(X, groups=tasks)):
            model = clone(search.estimator).set_params(**params)
            model.fit(X[train], y[train], tasks=tasks[train])
            expected = model.score(X[test], y[test], tasks=tasks[test])
            assert search.cv_results_[f"split{j}_test_score"][i] == pytest.approx(
                expected
            )
    # with 5 labelled rows a target is better off with transfer: the few-shot
    # protocol tells the settings apart (GroupKFold would score them the same)
    assert search.best_params_ == {"transfer": "ensemble"}
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0] + 0.1
