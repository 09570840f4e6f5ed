"""The learned task metric (metric="learned") and the fitted-metric contract."""

import pickle

import numpy as np
import pytest
import sklearn
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold

from sk_metameta import MetricMetaEstimator, TransferRegressor, get_task_scorer
from sk_metameta import task_distances as compute_task_distances
from sk_metameta._task_space import (
    TaskSpace,
    linear_task_models,
    ridge_task_models,
)
from sk_metameta._tasks import check_tasks
from sk_metameta.metrics import (
    PSEUDOMETRIC,
    FittedFeatureMetric,
    LearnedMetric,
    StandardizedEuclideanMetric,
)
from sk_metameta.metrics._learned import _loss_and_gradient
from sk_metameta.model_selection import few_shot_evaluation
from sk_metameta.neighbors import find_task_neighbors
from sk_metameta.testing import check_metric


def relevant_and_irrelevant(n_tasks=120, random_state=0):
    """Task features: 2 relevant, 3 irrelevant ones spread 5 times as widely."""
    rng = np.random.default_rng(random_state)
    F = rng.normal(size=(n_tasks, 5)) * np.array([1.0, 1.0, 5.0, 5.0, 5.0])
    models = np.column_stack(
        [np.sin(2 * F[:, 0]), np.cos(2 * F[:, 1]), F[:, 0] * F[:, 1]]
    )
    return F, models + 0.05 * rng.normal(size=models.shape)


def tasks_with_relevant_means(n_tasks=40, n_rows=30, random_state=0):
    """Rows of tasks whose model depends on the mean of x0 only, not of x1."""
    rng = np.random.default_rng(random_state)
    centres = rng.normal(size=(n_tasks, 2)) * np.array([1.0, 4.0])
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = centres[tasks] + rng.normal(size=(tasks.size, 2))
    slope = 2.0 * np.sin(1.5 * centres[:, 0])
    y = slope[tasks] * X[:, 0] + 0.3 * rng.normal(size=tasks.size)
    return X, y, tasks


# -- the objective --------------------------------------------------------------------
def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    Z, Y = rng.normal(size=(25, 4)), rng.normal(size=(25, 3))
    w = rng.uniform(0.2, 1.0, 4)
    S = _loss_and_gradient(Z * np.sqrt(w), Z, Y)[1]

    def loss(v):
        return _loss_and_gradient(Z * np.sqrt(v), Z, Y)[0]

    numeric = [(loss(w + 1e-6 * e) - loss(w - 1e-6 * e)) / 2e-6 for e in np.eye(4)]
    np.testing.assert_allclose(np.diag(S), numeric, rtol=1e-5, atol=1e-7)

    L = rng.normal(size=(2, 4))
    grad = 2.0 * L @ _loss_and_gradient(Z @ L.T, Z, Y)[1]
    numeric = np.zeros_like(L)
    for i in range(2):
        for j in range(4):
            step = np.zeros_like(L)
            step[i, j] = 1e-6
            up = _loss_and_gradient(Z @ (L + step).T, Z, Y)[0]
            down = _loss_and_gradient(Z @ (L - step).T, Z, Y)[0]
            numeric[i, j] = (up - down) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_loss_is_the_leave_one_out_kernel_regression_error():
    rng = np.random.default_rng(2)
    U, Y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    K = np.exp(-cdist(U, U, "sqeuclidean"))
    np.fill_diagonal(K, 0.0)
    Y_hat = K @ Y / K.sum(axis=1, keepdims=True)
    expected = ((Y_hat - Y) ** 2).sum()
    assert _loss_and_gradient(U, U, Y)[0] == pytest.approx(expected, rel=1e-12)


# -- the metric ----------------------------------------------------------------------
@pytest.mark.parametrize("structure", ["diagonal", "low_rank", "full"])
def test_learns_which_task_features_matter(structure):
    F, models = relevant_and_irrelevant()
    metric = LearnedMetric(structure=structure).fit(F, models)
    weights = metric.feature_weights_
    assert weights.shape == (5,) and weights.sum() == pytest.approx(1.0)
    assert weights[:2].sum() > 0.8, weights
    assert metric.loss_ < 0.5 * metric.initial_loss_
    rows = 5 if structure != "low_rank" else 3
    assert metric.components_.shape == (rows, 5)


def test_learned_neighbours_predict_models_better_than_fixed_metrics():
    F, models = relevant_and_irrelevant(n_tasks=200)
    train, test = F[:150], F[150:]
    metric = LearnedMetric().fit(train, models[:150])

    def error(D):
        nearest = np.argsort(D, axis=1)[:, :5]
        return ((models[150:] - models[:150][nearest].mean(axis=1)) ** 2).mean()

    learned = error(metric.pairwise(test, train))
    scale = np.sqrt(train.var(axis=0))
    fixed = error(StandardizedEuclideanMetric(variances=scale**2).pairwise(test, train))
    assert learned < 0.5 * fixed


def test_unfitted_metric_is_standardized_euclidean():
    A = np.random.default_rng(3).normal(size=(6, 3)) * [1.0, 10.0, 100.0]
    np.testing.assert_array_equal(
        LearnedMetric().pairwise(A), StandardizedEuclideanMetric().pairwise(A)
    )


def test_fitted_distances_are_euclidean_after_the_learned_map():
    F, models = relevant_and_irrelevant(n_tasks=30)
    metric = LearnedMetric(structure="full").fit(F, models)
    A, B = F[:4], F[4:9]
    expected = cdist(A @ metric.components_.T, B @ metric.components_.T)
    np.testing.assert_allclose(metric.pairwise(A, B), expected, rtol=1e-12)
    np.testing.assert_allclose(metric.transform(A), A @ metric.components_.T)
    # the scale is fixed at fit: a distance does not depend on the other tasks
    assert metric.pairwise(A[:2])[0, 1] == pytest.approx(metric.pairwise(A)[0, 1])


def test_fit_validates_and_names():
    F, models = relevant_and_irrelevant(n_tasks=20)
    metric = LearnedMetric().fit(F, models)
    assert metric.feature_names_in_.tolist() == ["f0", "f1", "f2", "f3", "f4"]
    assert metric.n_features_in_ == 5
    with pytest.raises(ValueError, match="fitted on 5 task features"):
        metric.pairwise(F[:, :3])
    with pytest.raises(ValueError, match="task_models has 19 rows"):
        LearnedMetric().fit(F, models[:-1])
    with pytest.raises(ValueError, match="3 feature names for 5"):
        LearnedMetric().fit(F, models, feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="task_models contains NaN"):
        LearnedMetric().fit(F, np.full_like(models, np.nan))
    # clone forgets the fit
    assert not hasattr(clone(metric), "components_")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"structure": "spd"}, "structure must be one of"),
        ({"n_components": 2}, "n_components is for structure='low_rank'"),
        ({"structure": "low_rank", "n_components": 0}, "n_components must be"),
        ({"max_iter": 0}, "max_iter must be an int >= 1"),
        ({"max_tasks": 2}, "max_tasks must be an int >= 3"),
        ({"tol": -1.0}, "tol must be a number >= 0"),
    ],
)
def test_bad_parameters_are_named(params, match):
    F, models = relevant_and_irrelevant(n_tasks=10)
    with pytest.raises(ValueError, match=match):
        LearnedMetric(**params).fit(F, models)


def test_constant_feature_gets_no_weight_and_degenerate_fits_keep_the_start():
    F, models = relevant_and_irrelevant(n_tasks=40)
    F[:, 3] = 7.0
    metric = LearnedMetric().fit(F, models)
    assert metric.feature_weights_[3] == 0.0
    # every task model alike: nothing to learn, every feature alike
    same = LearnedMetric().fit(F, np.ones((40, 2)))
    assert same.n_iter_ == 0 and same.loss_ == 1.0
    np.testing.assert_allclose(same.feature_weights_[[0, 1, 2, 4]], 0.25)
    # two tasks: nothing to compare
    two = LearnedMetric().fit(F[:2], models[:2])
    assert np.isfinite(two.pairwise(F[:2])).all()


def test_many_tasks_learn_on_a_reproducible_subset():
    F, models = relevant_and_irrelevant(n_tasks=300)
    a = LearnedMetric(max_tasks=100, random_state=0).fit(F, models)
    b = LearnedMetric(max_tasks=100, random_state=0).fit(F, models)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.feature_weights_[:2].sum() > 0.8


def test_declares_a_pseudometric_and_passes_the_kit():
    assert LearnedMetric.axioms == PSEUDOMETRIC
    for structure in ("diagonal", "low_rank", "full"):
        check_metric(LearnedMetric(structure=structure), max_examples=25)


def test_kit_checks_the_fitted_metric():
    class SquaredAfterFit(FittedFeatureMetric):
        name, summary, axioms = "sq_after_fit", "Squared after fit.", PSEUDOMETRIC

        def _fit(self, F, Y):
            self.fitted_ = True

        def _pairwise(self, A, B):
            D = cdist(A, B)
            return D**2 if hasattr(self, "fitted_") else D

    check_metric(SquaredAfterFit(), axioms=(), max_examples=10)  # contract ok
    with pytest.raises(AssertionError, match=r"fitted.*triangle_inequality"):
        check_metric(SquaredAfterFit(), max_examples=60)

    class FitReturnsNone(SquaredAfterFit):
        def fit(self, task_features, task_models, *, feature_names=None):
            super().fit(task_features, task_models, feature_names=feature_names)

    with pytest.raises(AssertionError, match="fit must return self"):
        check_metric(FitReturnsNone(), max_examples=5)


# -- in the task space and the estimators ---------------------------------------------
def test_find_task_neighbors_keeps_a_fitted_metric():
    F, models = relevant_and_irrelevant(n_tasks=40)
    metric = LearnedMetric().fit(F, models)
    found = find_task_neighbors(F, metric=metric, n_neighbors=3)
    D = metric.pairwise(F)
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(found.distances, np.sort(D, axis=1)[:, :3])


def test_task_space_fits_the_metric_on_the_task_models_it_is_given():
    X, y, tasks = tasks_with_relevant_means()
    index = check_tasks(tasks, X.shape[0])
    models = ridge_task_models(X, y, index)
    calls = []

    def supervision():
        calls.append(1)
        return models

    space = TaskSpace("moments", "learned", n_neighbors=5)
    space.fit(X, y, index, task_models=supervision, input_features=["a", "b"])
    assert calls == [1]
    metric = space.metric_
    assert metric.feature_names_in_.tolist() == ["mean_a", "mean_b", "std_a", "std_b"]
    assert np.argmax(metric.feature_weights_) == 0  # mean_a decides the slope
    # the neighbour search runs in the metric's embedding: same as the metric
    D = metric.pairwise(space.features_)
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(space.neighbors_.distances, np.sort(D, axis=1)[:, :5])
    # a fixed metric never asks for the task models
    TaskSpace("moments", "euclidean").fit(X, y, index, task_models=supervision)
    assert calls == [1]


def test_linear_task_models_measure_prediction_differences():
    X, y, tasks = tasks_with_relevant_means(n_tasks=6)
    index = check_tasks(tasks, X.shape[0])
    models = ridge_task_models(X, y, index, alpha=1e-8)
    Z = np.column_stack([np.ones(len(X)), (X - X.mean(0)) / X.std(0)])
    coef = [
        np.linalg.lstsq(Z[tasks == t], y[tasks == t] - y.mean(), rcond=None)[0]
        for t in range(6)
    ]
    diff = Z @ (coef[0] - coef[1])
    expected = np.sqrt((diff**2).mean())  # RMS difference over all training rows
    assert np.linalg.norm(models[0] - models[1]) == pytest.approx(expected, rel=1e-6)
    assert linear_task_models.__module__ == "sk_metameta._task_space"


def test_transfer_regressor_learns_the_metric_from_its_own_models():
    X, y, tasks = tasks_with_relevant_means()
    model = TransferRegressor(metric="learned", n_neighbors=5).fit(X, y, tasks=tasks)
    metric = model.metric_
    assert isinstance(metric, LearnedMetric)
    assert metric.feature_names_in_.tolist() == [
        "mean_x0",
        "mean_x1",
        "std_x0",
        "std_x1",
    ]
    assert np.argmax(metric.feature_weights_) == 0
    assert metric.feature_weights_[1] < 0.1  # the wide but irrelevant mean
    # sources are near in mean_x0, whatever mean_x1
    F = model.task_features_
    gap = np.abs(F[model.neighbors_[:, 0], 0] - F[:, 0]).mean()
    euclid = TransferRegressor(n_neighbors=5).fit(X, y, tasks=tasks)
    gap_euclid = np.abs(F[euclid.neighbors_[:, 0], 0] - F[:, 0]).mean()
    assert gap < 0.5 * gap_euclid
    # the estimator's metric parameter stays unfitted; pickling keeps the fit
    assert model.metric == "learned"
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.metric_.components_, metric.components_)
    # zero-shot: a new task is located with the learned metric
    new = X[:30] + np.array([0.0, 20.0])
    assert np.isfinite(model.predict(new, tasks=np.full(30, 99))).all()


def test_supervision_comes_from_the_rows_of_fit_only():
    X, y, tasks = tasks_with_relevant_means()
    fit_rows = np.arange(len(X)) % 30 < 20
    a = TransferRegressor(metric="learned").fit(
        X[fit_rows], y[fit_rows], tasks=tasks[fit_rows]
    )
    y_other = y.copy()
    y_other[~fit_rows] = 1e6  # held-out rows never reach the metric
    b = TransferRegressor(metric="learned").fit(
        X[fit_rows], y_other[fit_rows], tasks=tasks[fit_rows]
    )
    np.testing.assert_array_equal(a.metric_.components_, b.metric_.components_)


def test_dataframe_column_names_name_the_task_features():
    pd = pytest.importorskip("pandas")
    X, y, tasks = tasks_with_relevant_means(n_tasks=10)
    frame = pd.DataFrame(X, columns=["price", "temp"])
    model = TransferRegressor(metric="learned").fit(frame, y, tasks=tasks)
    assert model.metric_.feature_names_in_.tolist()[:2] == ["mean_price", "mean_temp"]


def test_metric_meta_estimator_with_the_learned_metric():
    X, y, tasks = tasks_with_relevant_means(n_tasks=15)
    model = MetricMetaEstimator(Ridge(), metric="learned").fit(X, y, tasks=tasks)
    assert np.argmax(model.metric_.feature_weights_) == 0
    labels = (y > np.median(y)).astype(int)
    clf = MetricMetaEstimator(LogisticRegression(), metric="learned")
    clf.fit(X, labels, tasks=tasks)
    assert clf.metric_.feature_weights_.sum() == pytest.approx(1.0)


def test_transfer_classifier_with_the_learned_metric():
    from sk_metameta import TransferClassifier

    X, y, tasks = tasks_with_relevant_means(n_tasks=15)
    noise = np.random.default_rng(0).normal(scale=1.5, size=y.size)
    labels = (y + noise > 0).astype(int)  # not separable within a task
    model = TransferClassifier(metric="learned").fit(X, labels, tasks=tasks)
    assert model.metric_.n_features_in_ == 4
    assert model.metric_.feature_weights_.sum() == pytest.approx(1.0)
    assert np.argmax(model.metric_.feature_weights_) == 0


def test_task_distances_fits_the_metric_and_needs_y():
    X, y, tasks = tasks_with_relevant_means(n_tasks=12)
    D, labels, F = compute_task_distances(X, y, tasks=tasks, metric="learned")
    assert D.shape == (12, 12) and np.allclose(D, D.T)
    assert labels.tolist() == list(range(12)) and F.shape == (12, 4)
    with pytest.raises(ValueError, match="learned from the tasks' models"):
        compute_task_distances(X, tasks=tasks, metric="learned")


def test_grid_search_over_metrics_with_routed_tasks():
    X, y, tasks = tasks_with_relevant_means(n_tasks=20, n_rows=20)
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            TransferRegressor(n_neighbors=5),
            {"metric": ["euclidean", "standardized_euclidean", "learned"]},
            cv=GroupKFold(n_splits=4),
            scoring=get_task_scorer("r2"),
        )
        search.fit(X, y, tasks=tasks, groups=tasks)
    assert search.cv_results_["param_metric"].tolist() == [
        "euclidean",
        "standardized_euclidean",
        "learned",
    ]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.metric == search.best_params_["metric"]
    assert np.isfinite(best.predict(X[:5], tasks=tasks[:5])).all()


def test_few_shot_evaluation_with_the_learned_metric():
    X, y, tasks = tasks_with_relevant_means(n_tasks=20)
    # the "prior" rule builds each task's prior from its nearest sources alone,
    # so the metric decides it (the learned prior of the default adapts its
    # pull to whatever metric, and both metrics do about as well with it)
    methods = {
        "euclidean": TransferRegressor(transfer="prior"),
        "learned": TransferRegressor(transfer="prior", metric="learned"),
    }
    result = few_shot_evaluation(
        X, y, tasks, methods, ks=(5,), n_folds=4, random_state=0, progress=False
    )
    assert np.isfinite(result.scores).all()
    mean = result.mean_scores()
    assert mean[1, 0] > mean[0, 0]  # the slope depends on mean_x0 only


def test_similarity_command_learns_the_metric(tmp_path, capsys):
    from sk_metameta.cli import main

    X, y, tasks = tasks_with_relevant_means(n_tasks=12, n_rows=15)
    path = tmp_path / "tasks.csv"
    rows = np.column_stack([tasks, X, y])
    np.savetxt(path, rows, delimiter=",", header="t,a,b,y", comments="", fmt="%.10g")
    argv = ["similarity", str(path), "--tasks", "t", "--metric", "learned"]
    assert main([*argv, "--target", "y", "--n-neighbors", "2", "--digits", "10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    got = np.array([float(line.split(",")[2]) for line in lines]).reshape(12, 2)
    D = compute_task_distances(X, y, tasks=tasks, metric="learned").distances
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(got, np.sort(D, axis=1)[:, :2], rtol=1e-8)
    assert main([*argv, "--no-target"]) != 0
    assert "learned from the tasks' models, which need y" in capsys.readouterr().err
