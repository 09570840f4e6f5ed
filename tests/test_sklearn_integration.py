"""The estimators inside scikit-learn's tools: searches, cross-validation, pipelines.

Metadata routing is enabled per test with ``sklearn.config_context``; ``tasks`` must
reach every split's ``fit`` and ``predict`` with that split's labels.
"""

import pickle
from typing import ClassVar

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_metameta import MetricMetaEstimator, TransferRegressor, get_task_scorer
from sk_metameta.datasets import make_related_tasks


class RecordingMeta(MetricMetaEstimator):
    """Records the tasks each fit and predict receives (clones share the log)."""

    log: ClassVar[list] = []

    def fit(self, X, y, tasks=None, sample_weight=None):
        type(self).log.append(("fit", _copy(tasks), len(X)))
        return super().fit(X, y, tasks=tasks, sample_weight=sample_weight)

    def predict(self, X, tasks=None):
        type(self).log.append(("predict", _copy(tasks), len(X)))
        return super().predict(X, tasks=tasks)


class RecordingTransfer(TransferRegressor):
    """TransferRegressor that records the tasks of each fit and predict."""

    log: ClassVar[list] = []

    def fit(self, X, y, tasks=None, sample_weight=None):
        type(self).log.append(("fit", _copy(tasks), len(X)))
        return super().fit(X, y, tasks=tasks, sample_weight=sample_weight)

    def predict(self, X, tasks=None):
        type(self).log.append(("predict", _copy(tasks), len(X)))
        return super().predict(X, tasks=tasks)


def _copy(tasks):
    return None if tasks is None else np.asarray(tasks).copy()


def regression_data(seed=0):
    return make_related_tasks(8, 15, n_features=3, random_state=seed)


def classification_data(seed=0):
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.arange(6), 20)
    X = rng.normal(size=(120, 3)) + 0.3 * tasks[:, None]
    score = X @ np.array([1.0, -1.0, 0.5]) + 0.3 * rng.normal(size=120)
    medians = np.array([np.median(score[tasks == t]) for t in range(6)])
    return X, (score > medians[tasks]).astype(int), tasks


ESTIMATORS = {
    "meta-ridge": lambda: MetricMetaEstimator(Ridge(), random_state=0),
    "transfer-regressor": TransferRegressor,
}


def assert_split_log(log, splits, tasks):
    """Each split's fit got its training tasks, then its predict the test tasks."""
    fits = [i for i, entry in enumerate(log) if entry[0] == "fit"]
    assert len(fits) >= len(splits)
    for k, (train, test) in enumerate(splits):
        fit_entry, predict_entry = log[fits[k]], log[fits[k] + 1]
        assert fit_entry[0] == "fit" and predict_entry[0] == "predict"
        assert_array_equal(fit_entry[1], tasks[train])
        assert_array_equal(predict_entry[1], tasks[test])
        assert predict_entry[2] == len(test)


# -- each split's tasks reach fit and predict ------------------------------------------
RECORDING = {
    "meta": (
        lambda: RecordingMeta(Ridge()),
        {"transfer": ["none", "ensemble"], "strength": ["auto", 2.0]},
    ),
    "transfer-regressor": (
        RecordingTransfer,
        {"transfer": ["none", "prior"], "alpha": [0.1, 1.0]},
    ),
}


@pytest.mark.parametrize("grouped", [True, False], ids=["GroupKFold", "KFold"])
@pytest.mark.parametrize("kind", RECORDING)
def test_grid_search_routes_each_splits_tasks(kind, grouped):
    # grouped: held-out tasks are new to the model; otherwise rows of seen tasks
    make, grid = RECORDING[kind]
    estimator = make()
    log = type(estimator).log
    log.clear()
    X, y, tasks = regression_data()
    cv = GroupKFold(n_splits=4) if grouped else KFold(3, shuffle=True, random_state=0)
    params = {"tasks": tasks, "groups": tasks} if grouped else {"tasks": tasks}
    search = GridSearchCV(estimator, grid, cv=cv, scoring=get_task_scorer("r2"))
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, **params)
    splits = list(cv.split(X, y, groups=tasks if grouped else None))
    n_candidates = 4
    per_candidate = len(log[:-1]) // n_candidates
    assert per_candidate == 2 * len(splits)  # a fit and a predict per split
    for c in range(n_candidates):
        assert_split_log(
            log[c * per_candidate : (c + 1) * per_candidate], splits, tasks
        )
    assert log[-1][0] == "fit"  # the refit, on every task
    assert_array_equal(log[-1][1], tasks)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_grid_search_over_rule_metric_and_strength_with_groups():
    X, y, tasks = regression_data()
    search = GridSearchCV(
        MetricMetaEstimator(Ridge()),
        {
            "transfer": ["none", "ensemble", "instance"],
            "metric": ["euclidean", "manhattan"],
            "strength": ["auto", 1.0],
        },
        cv=GroupKFold(n_splits=4),
        scoring=get_task_scorer("neg_mean_squared_error"),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks, groups=tasks)
        assert search.score(X, y, tasks=tasks) <= 0
    assert len(search.cv_results_["params"]) == 12
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.get_params()["transfer"] == search.best_params_["transfer"]
    assert_array_equal(best.tasks_, np.arange(8))


def test_default_scoring_uses_the_estimators_score_with_tasks():
    # without scoring=, GridSearchCV calls estimator.score, which requests tasks
    X, y, tasks = regression_data()
    RecordingMeta.log.clear()
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(RecordingMeta(Ridge()), {"transfer": ["none"]}, cv=cv)
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks)
    assert_split_log(RecordingMeta.log, list(cv.split(X)), tasks)


def test_cross_validate_leave_one_group_out_in_a_pipeline():
    X, y, tasks = regression_data()
    RecordingMeta.log.clear()
    pipe = make_pipeline(StandardScaler(), RecordingMeta(Ridge(), n_neighbors=3))
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            pipe,
            X,
            y,
            cv=LeaveOneGroupOut(),
            scoring=get_task_scorer("r2"),
            params={"tasks": tasks, "groups": tasks},
            return_estimator=True,
        )
    splits = list(LeaveOneGroupOut().split(X, y, groups=tasks))
    assert_split_log(RecordingMeta.log, splits, tasks)
    assert len(result["test_score"]) == 8
    # each held-out task was new to its model: predicted zero-shot
    for (_, test), fitted in zip(splits, result["estimator"], strict=True):
        assert tasks[test][0] not in fitted[-1].tasks_


def test_pipeline_grid_search_classifier_with_proba_scorer():
    X, y, tasks = classification_data()
    pipe = make_pipeline(StandardScaler(), MetricMetaEstimator(LogisticRegression()))
    search = GridSearchCV(
        pipe,
        {"metricmetaestimator__transfer": ["none", "ensemble", "instance"]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring=get_task_scorer("neg_log_loss"),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks)
        proba = search.best_estimator_.predict_proba(X, tasks=tasks)
    assert proba.shape == (120, 2)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_string_scorer_calls_predict_without_tasks_and_warns():
    # sklearn's string scorers never pass metadata to predict: the pitfall the
    # task-aware scorers exist for
    X, y, tasks = regression_data()
    search = GridSearchCV(
        MetricMetaEstimator(Ridge()),
        {"transfer": ["none"]},
        cv=KFold(2, shuffle=True, random_state=0),
        scoring="r2",
    )
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.warns(UserWarning, match="predict got tasks=None"):
            search.fit(X, y, tasks=tasks)


def test_without_routing_the_scorer_gets_no_tasks_and_predict_warns():
    # routing off: GridSearchCV slices fit parameters for fit, but gives the
    # scorer nothing, so predict sees tasks=None
    X, y, tasks = regression_data()
    search = GridSearchCV(
        MetricMetaEstimator(Ridge()),
        {"transfer": ["none"]},
        cv=GroupKFold(n_splits=2),
        scoring=get_task_scorer("r2"),
    )
    with pytest.warns(UserWarning, match="predict got tasks=None"):
        search.fit(X, y, tasks=tasks, groups=tasks)


# -- both estimators -------------------------------------------------------------------
@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_cross_validate_both_estimators_over_tasks(make):
    X, y, tasks = regression_data(1)
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            make_pipeline(StandardScaler(), make()),
            X,
            y,
            cv=GroupKFold(n_splits=4),
            scoring=get_task_scorer("r2"),
            params={"tasks": tasks, "groups": tasks},
        )
    assert np.isfinite(result["test_score"]).all()


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_clone_and_pickle_round_trips(make):
    X, y, tasks = regression_data(2)
    estimator = make()
    copy = clone(estimator)
    assert repr(copy.get_params()) == repr(estimator.get_params())
    fitted = estimator.fit(X, y, tasks=tasks)
    again = pickle.loads(pickle.dumps(fitted))
    assert_allclose(again.predict(X, tasks=tasks), fitted.predict(X, tasks=tasks))
    new_task = np.full(5, 100)
    assert_allclose(
        again.predict(X[:5], tasks=new_task), fitted.predict(X[:5], new_task)
    )
    unfitted = clone(fitted)
    assert not hasattr(unfitted, "tasks_")
    assert_allclose(
        unfitted.fit(X, y, tasks=tasks).predict(X, tasks=tasks),
        fitted.predict(X, tasks=tasks),
    )


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_predict_without_tasks_after_multitask_fit_warns(make):
    X, y, tasks = regression_data()
    fitted = make().fit(X, y, tasks=tasks)
    with pytest.warns(UserWarning, match="tasks=None"):
        fitted.predict(X)


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_tasks_are_requested_by_default(make):
    routing = make().get_metadata_routing()
    for method in ("fit", "predict", "score"):
        assert getattr(routing, method).requests["tasks"] is True
