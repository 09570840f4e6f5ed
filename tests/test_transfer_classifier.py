"""TransferClassifier: per-task logistic models under a prior learned across tasks."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, GroupKFold

from sk_metameta import TransferClassifier, get_task_scorer
from sk_metameta.transfer import HierarchicalTransfer


def binary_tasks(n_tasks=30, n_rows=40, p=3, spread=0.5, seed=0):
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=p + 1)
    theta = centre + spread * rng.normal(size=(n_tasks, p + 1))
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.normal(size=(tasks.size, p))
    eta = theta[tasks, 0] + np.einsum("ij,ij->i", X, theta[tasks, 1:])
    y = np.where(rng.random(tasks.size) < expit(eta), "yes", "no")
    return X, y, tasks, theta


def two_class_tasks(y, tasks):
    """The tasks whose rows hold both classes."""
    return np.array([t for t in np.unique(tasks) if np.unique(y[tasks == t]).size > 1])


def test_without_transfer_each_task_is_a_logistic_regression():
    X, y, tasks, _ = binary_tasks(n_tasks=4)
    model = TransferClassifier(transfer="none", C=0.5).fit(X, y, tasks=tasks)
    for t in range(4):
        rows = tasks == t
        alone = LogisticRegression(C=0.5).fit(X[rows], y[rows])
        assert_allclose(model.coef_[t, 0], alone.coef_[0], atol=2e-3)
        assert_allclose(model.intercept_[t, 0], alone.intercept_[0], atol=2e-3)
        assert_allclose(
            model.predict_proba(X[rows], tasks=tasks[rows]),
            alone.predict_proba(X[rows]),
            atol=1e-3,
        )


def test_one_task_is_logistic_regression_binary_and_multinomial():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 3))
    for y in (X[:, 0] > 0, np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])):
        model = TransferClassifier(C=2.0).fit(X, y)
        sk = LogisticRegression(C=2.0).fit(X, y)
        assert_allclose(model.predict_proba(X), sk.predict_proba(X), atol=2e-3)
        assert model.classes_.tolist() == sk.classes_.tolist()


@pytest.mark.parametrize("seed", [2, 3])
def test_learned_prior_beats_per_task_and_pooled_with_few_rows(seed):
    X, y, tasks, _ = binary_tasks(n_tasks=40, n_rows=10, spread=1.0, seed=seed)
    X_test, y_test, tasks_test, _ = binary_tasks(
        n_tasks=40, n_rows=200, spread=1.0, seed=seed
    )
    model = TransferClassifier().fit(X, y, tasks=tasks)
    loss = log_loss(y_test, model.predict_proba(X_test, tasks=tasks_test))
    pooled = LogisticRegression().fit(X, y)
    assert loss < log_loss(y_test, pooled.predict_proba(X_test)) - 0.01
    alone = TransferClassifier(transfer="none", C=0.3)
    alone.fit(
        X[np.isin(tasks, kept := two_class_tasks(y, tasks))],
        y[np.isin(tasks, kept)],
        tasks=tasks[np.isin(tasks, kept)],
    )
    test = np.isin(tasks_test, kept)
    per_task = log_loss(
        y_test[test], alone.predict_proba(X_test[test], tasks=tasks_test[test])
    )
    ours = log_loss(
        y_test[test], model.predict_proba(X_test[test], tasks=tasks_test[test])
    )
    assert ours < per_task - 0.05
    # the tasks' models are pulled toward their sources, each by its own amount
    assert ((model.strength_ > 0.1) & (model.strength_ < 1)).all()
    assert model.prior_covariance_.shape == (4, 4)


def test_multinomial_classes_are_consistent_across_tasks():
    rng = np.random.default_rng(3)
    tasks = np.repeat(np.arange(12), 30)
    X = rng.normal(size=(tasks.size, 2))
    score = X[:, 0] + 0.2 * rng.normal(size=tasks.size)
    y = np.array(["a", "b", "c"])[np.digitize(score, [-0.6, 0.6])]
    y[tasks == 5] = "b"  # a task that saw one class only
    model = TransferClassifier().fit(X, y, tasks=tasks)
    assert model.coef_.shape == (12, 3, 2)
    proba = model.predict_proba(X, tasks=tasks)
    assert proba.shape == (tasks.size, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    # the one-class task still gives every class a probability, from its sources
    five = proba[tasks == 5]
    assert (five[:, [0, 2]] > 0.01).any(axis=0).all()
    assert_array_equal(model.predict(X, tasks=tasks), model.classes_[proba.argmax(1)])
    assert_allclose(model.predict_log_proba(X, tasks=tasks), np.log(proba), rtol=1e-10)
    with pytest.raises(ValueError, match=r"one class only: 5"):
        TransferClassifier(transfer="none").fit(X, y, tasks=tasks)


def test_new_tasks_are_predicted_from_their_nearest_tasks():
    X, y, tasks, _ = binary_tasks(n_tasks=20, n_rows=30, seed=4)
    model = TransferClassifier(n_neighbors=5).fit(X, y, tasks=tasks)
    proba = model.predict_proba(X[:10], tasks=np.full(10, 999))
    assert proba.shape == (10, 2) and np.isfinite(proba).all()
    # a new task whose rows are a fitted task's is near that task's prior
    info = model.explain(0)
    assert info.transfer == "hierarchical" and len(info.sources) == 5
    assert sum(s.weight for s in info.sources) == pytest.approx(1.0)


def test_integer_weights_equal_repeated_rows():
    X, y, tasks, _ = binary_tasks(n_tasks=10, n_rows=20, seed=5)
    weights = np.random.default_rng(5).integers(0, 3, size=len(y))
    weights[::20] = 1
    model = TransferClassifier(kernel="uniform", n_neighbors=None, tol=1e-10)
    weighted = clone(model).fit(X, y, tasks=tasks, sample_weight=weights)
    rows = np.repeat(np.arange(len(y)), weights)
    repeated = clone(model).fit(X[rows], y[rows], tasks=tasks[rows])
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-9)


def test_grid_search_with_routed_tasks():
    X, y, tasks, _ = binary_tasks(n_tasks=12, n_rows=20, seed=6)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            TransferClassifier(),
            {"transfer": ["none", "hierarchical"]},
            cv=GroupKFold(3),
            scoring=get_task_scorer("neg_log_loss"),
        ).fit(X, y, tasks=tasks, groups=tasks)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(transfer="ensemble"), "use sk_metameta.MetricMetaEstimator"),
        (dict(transfer=HierarchicalTransfer(dof=-1.0)), None),
    ],
)
def test_bad_rules_are_refused(params, match):
    X, y, tasks, _ = binary_tasks(n_tasks=4, n_rows=10)
    model = TransferClassifier(**params)
    if match is None:
        with pytest.raises(ValueError):
            model.fit(X, y, tasks=tasks)
    else:
        with pytest.raises(ValueError, match=match):
            model.fit(X, y, tasks=tasks)


def test_one_class_in_all_data_is_a_clear_error():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="at least 2 classes"):
        TransferClassifier().fit(X, np.ones(6), tasks=[0, 0, 0, 1, 1, 1])


def test_tasks_separable_on_their_own_rows_fit_without_warnings():
    rng = np.random.default_rng(8)
    tasks = np.repeat(np.arange(8), 12)
    X = rng.normal(size=(tasks.size, 2))
    y = np.where(X[:, 0] > 0, "up", "down")  # every task perfectly separable
    model = TransferClassifier().fit(X, y, tasks=tasks)
    proba = model.predict_proba(X, tasks=tasks)
    assert np.isfinite(proba).all() and np.isfinite(model.coef_).all()
    assert (model.predict(X, tasks=tasks) == y).mean() > 0.9
