import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    get_scorer,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils.metadata_routing import get_routing_for_object

from sk_metameta import get_task_scorer, make_task_scorer
from sk_metameta._scoring import TaskScorer


class OffsetRegressor(RegressorMixin, BaseEstimator):
    """Predicts the task label plus x: a model that needs ``tasks`` to be right."""

    __metadata_request__fit = {"tasks": True}  # noqa: RUF012
    __metadata_request__predict = {"tasks": True}  # noqa: RUF012

    def fit(self, X, y, tasks=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X, tasks=None):
        X = np.asarray(X, dtype=float)
        offset = 0.0 if tasks is None else np.asarray(tasks, dtype=float)
        return X[:, 0] + offset


class TaskClassifier(ClassifierMixin, BaseEstimator):
    """Probability of class 1 is 0.9 for odd tasks, 0.2 for even ones."""

    __metadata_request__predict = {"tasks": True}  # noqa: RUF012
    __metadata_request__predict_proba = {"tasks": True}  # noqa: RUF012

    def fit(self, X, y, tasks=None):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X, tasks):
        p1 = np.where(np.asarray(tasks) % 2 == 1, 0.9, 0.2)
        return np.column_stack([1 - p1, p1])

    def predict(self, X, tasks):
        return self.classes_[(self.predict_proba(X, tasks)[:, 1] > 0.5).astype(int)]


def data():
    X = np.arange(8.0).reshape(-1, 1)
    tasks = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    y = X[:, 0] + tasks
    return X, y, tasks


def test_tasks_reach_predict():
    X, y, tasks = data()
    model = OffsetRegressor().fit(X, y)
    scorer = get_task_scorer("neg_mean_absolute_error")
    assert scorer(model, X, y, tasks=tasks) == 0.0
    # without tasks the offsets are missing, as with sklearn's own scorer
    expected = get_scorer("neg_mean_absolute_error")(model, X, y)
    assert scorer(model, X, y) == expected
    assert expected == -np.mean(tasks)


def test_make_task_scorer_sign_kwargs_and_response_method():
    X, y, tasks = data()
    model = OffsetRegressor().fit(X, y)
    mae = make_task_scorer(mean_absolute_error, greater_is_better=False)
    assert mae(model, X, y + 1.0, tasks=tasks) == -1.0
    r2 = make_task_scorer(r2_score, multioutput="raw_values")
    assert r2(model, X, y, tasks=tasks).tolist() == [1.0]

    y_clf = np.where(tasks % 2 == 1, "b", "a")
    clf = TaskClassifier().fit(X, y_clf)
    proba = clf.predict_proba(X, tasks)
    auc = make_task_scorer(roc_auc_score, response_method="predict_proba")
    assert auc(clf, X, y_clf, tasks=tasks) == roc_auc_score(y_clf, proba[:, 1])
    loss = get_task_scorer("neg_log_loss")
    assert loss(clf, X, y_clf, tasks=tasks) == pytest.approx(-log_loss(y_clf, proba))
    accuracy = get_task_scorer("accuracy")
    assert accuracy(clf, X, y_clf, tasks=tasks) == 1.0


def test_sample_weight_reaches_the_metric():
    X, y, tasks = data()
    model = OffsetRegressor().fit(X, y)
    mae = get_task_scorer("neg_mean_absolute_error")
    y_shifted = y.copy()
    y_shifted[0] += 4.0
    weights = np.array([1.0, 0, 0, 0, 0, 0, 0, 1.0])
    assert mae(model, X, y_shifted, tasks=tasks, sample_weight=weights) == -2.0


def test_get_task_scorer_inputs():
    scorer = get_task_scorer("r2")
    assert get_task_scorer(scorer) is scorer
    wrapped = get_task_scorer(get_scorer("r2"))
    assert isinstance(wrapped, TaskScorer)
    with pytest.raises(ValueError, match="not a valid scoring value"):
        get_task_scorer("no_such_scorer")
    with pytest.raises(TypeError, match="scorer name or a callable"):
        get_task_scorer(3)
    with pytest.raises(TypeError, match="must be callable"):
        TaskScorer("r2")


def test_repr_and_pickle():
    scorer = make_task_scorer(mean_absolute_error, greater_is_better=False)
    assert repr(scorer).startswith("make_task_scorer(mean_absolute_error")
    assert "greater_is_better=False" in repr(scorer)
    X, y, tasks = data()
    model = OffsetRegressor().fit(X, y)
    again = pickle.loads(pickle.dumps(scorer))
    assert again(model, X, y + 1, tasks=tasks) == scorer(model, X, y + 1, tasks=tasks)


def test_metadata_request_declares_tasks():
    scorer = get_task_scorer("r2")
    requests = get_routing_for_object(scorer).score.requests
    assert requests["tasks"] is True
    assert requests["sample_weight"] is None  # as sklearn's scorers: not requested
    with pytest.raises(RuntimeError, match="metadata routing is enabled"):
        scorer.set_score_request(sample_weight=True)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sample_weight=True)
        assert get_routing_for_object(scorer).score.requests["sample_weight"] is True
        scorer.set_score_request(tasks="task_ids")
        assert get_routing_for_object(scorer).score.requests["tasks"] == "task_ids"
        with pytest.raises(ValueError, match="alias"):
            scorer.set_score_request(tasks="not an identifier")


def test_cross_validate_routes_each_splits_tasks_to_the_scorer():
    X, y, tasks = data()
    seen = []

    class Spy(OffsetRegressor):
        def predict(self, X, tasks=None):
            seen.append(None if tasks is None else np.asarray(tasks).tolist())
            return super().predict(X, tasks)

    cv = GroupKFold(n_splits=2)
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            Spy(),
            X,
            y,
            cv=cv,
            scoring=get_task_scorer("neg_mean_absolute_error"),
            params={"tasks": tasks, "groups": tasks},
        )
    assert result["test_score"].tolist() == [0.0, 0.0]
    expected = [tasks[test].tolist() for _, test in cv.split(X, y, groups=tasks)]
    assert seen == expected


def test_plain_estimators_still_score_without_tasks():
    X, y, _ = data()
    model = LinearRegression().fit(X, y)
    assert get_task_scorer("r2")(model, X, y) == pytest.approx(model.score(X, y))
    clf = LogisticRegression().fit(X, y > 5)
    assert get_task_scorer("accuracy")(clf, X, y > 5) == clf.score(X, y > 5)


def test_grid_search_predict_needs_the_best_estimator_for_tasks():
    # scikit-learn's search routes tasks to fit and the scorer, never to predict
    from sklearn.model_selection import GridSearchCV

    X, y, tasks = data()
    search = GridSearchCV(
        OffsetRegressor(),
        {},  # OffsetRegressor has no parameter: one candidate
        scoring=get_task_scorer("neg_mean_absolute_error"),
        cv=GroupKFold(n_splits=2),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks, groups=tasks)
    assert search.best_score_ == 0.0  # tasks reached the scorer's predict
    with pytest.raises(TypeError, match="unexpected keyword argument 'tasks'"):
        search.predict(X, tasks=tasks)
    np.testing.assert_array_equal(search.best_estimator_.predict(X, tasks=tasks), y)
