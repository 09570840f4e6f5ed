"""TransferRegressor: equivalences, transfer rules end to end, zero-shot, errors."""

import pickle

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils.estimator_checks import check_estimator

from sk_metameta import TasksMissingWarning, TransferRegressor, get_task_scorer
from sk_metameta.task_features import MomentFeatures
from sk_metameta.transfer import AdditiveTransfer, PriorTransfer

RULES = ["none", "additive", "interpolate", "prior", "ensemble", "instance", "select"]


def related(n_tasks=8, n_rows=15, p=3, seed=0, spread=0.3, shift=1.0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=p)
    Xs, ys, ts = [], [], []
    for t in range(n_tasks):
        m = shift * rng.normal(size=p)
        X = m + rng.normal(size=(n_rows, p))
        w_t = w + 0.5 * m + spread * rng.normal(size=p)
        Xs.append(X)
        ys.append(1.0 + X @ w_t + 0.3 * rng.normal(size=n_rows))
        ts.append(np.full(n_rows, t))
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(ts)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.1, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_task_is_ridge(fit_intercept, alpha, weighted):
    X, y, _ = related(n_tasks=1, n_rows=30)
    sw = np.random.default_rng(1).uniform(0.5, 2, size=30) if weighted else None
    ours = TransferRegressor(alpha=alpha, fit_intercept=fit_intercept)
    ours.fit(X, y, sample_weight=sw)
    ridge = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_[0], ridge.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_[0], ridge.intercept_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), ridge.predict(X), atol=1e-8)
    assert ours.tasks_.tolist() == [None]


@settings(deadline=None)
@given(
    sizes=st.lists(st.integers(2, 12), min_size=2, max_size=6),
    alpha=st.floats(0.01, 10.0),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_none_is_independent_ridge_per_task(
    sizes, alpha, fit_intercept, weighted, seed
):
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.arange(len(sizes)) * 7, sizes)  # non-contiguous labels
    rng.shuffle(tasks)
    X = rng.normal(size=(tasks.size, 3)) * [1.0, 10.0, 0.1] + 5.0
    y = X @ rng.normal(size=3) + rng.normal(size=tasks.size)
    sw = rng.uniform(0.2, 3.0, size=tasks.size) if weighted else None
    model = TransferRegressor(transfer="none", alpha=alpha, fit_intercept=fit_intercept)
    model.fit(X, y, tasks=tasks, sample_weight=sw)
    pred = model.predict(X, tasks=tasks)
    for i, label in enumerate(model.tasks_):
        rows = tasks == label
        ridge = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(
            X[rows], y[rows], sample_weight=None if sw is None else sw[rows]
        )
        scale = 1 + np.abs(ridge.coef_).max()
        np.testing.assert_allclose(model.coef_[i], ridge.coef_, atol=1e-7 * scale)
        np.testing.assert_allclose(
            pred[rows], ridge.predict(X[rows]), atol=1e-6 * (1 + np.abs(y).max())
        )


@pytest.mark.parametrize("normalize", [False, True])
def test_additive_matches_the_formula(normalize):
    X, y, tasks = related(n_tasks=3, n_rows=10)
    strength = 0.2
    model = TransferRegressor(
        transfer=AdditiveTransfer(strength=strength, normalize=normalize),
        kernel="uniform",
        n_neighbors=None,
    ).fit(X, y, tasks=tasks)
    own = [Ridge().fit(X[tasks == t], y[tasks == t]).coef_ for t in range(3)]
    s = 0.5 if normalize else 1.0  # uniform kernel: 1 for both other tasks
    for b in range(3):
        expected = own[b] + strength * sum(s * own[a] for a in range(3) if a != b)
        np.testing.assert_allclose(model.coef_[b], expected, atol=1e-10)
        rows = tasks == b
        np.testing.assert_allclose(
            model.intercept_[b], y[rows].mean() - X[rows].mean(axis=0) @ expected
        )


def test_additive_hand_computed():
    # two exact lines fitted without penalty: task "a" has slope 2, task "b" 1;
    # uniform kernel, so s_ab = 1 and w_new = w + 0.5 * w_other
    x = np.array([-1.0, 0.0, 1.0])
    X = np.r_[x, x][:, None]
    y = np.r_[2 * x, 1 * x + 3.0]
    model = TransferRegressor(
        transfer=AdditiveTransfer(strength=0.5, normalize=False),
        kernel="uniform",
        alpha=0.0,
    ).fit(X, y, tasks=["a"] * 3 + ["b"] * 3)
    np.testing.assert_allclose(model.coef_.ravel(), [2 + 0.5 * 1, 1 + 0.5 * 2])
    # intercepts refitted on each task's rows: mean(y) - mean(x) * w = mean(y)
    np.testing.assert_allclose(model.intercept_, [0.0, 3.0], atol=1e-12)
    assert model.explain("a")["sources"][0]["weight"] == pytest.approx(0.5)


def test_interpolate_matches_the_formula():
    X, y, tasks = related(n_tasks=4, n_rows=10)
    model = TransferRegressor(
        transfer="interpolate", kernel="uniform", n_neighbors=None
    ).fit(X, y, tasks=tasks)
    own = np.array([Ridge().fit(X[tasks == t], y[tasks == t]).coef_ for t in range(4)])
    for b in range(4):
        mean = np.delete(own, b, axis=0).mean(axis=0)
        np.testing.assert_allclose(model.coef_[b], 0.5 * own[b] + 0.5 * mean)


def test_prior_strength_limits_end_to_end():
    X, y, tasks = related(n_tasks=5, n_rows=12)
    none = TransferRegressor(transfer="none").fit(X, y, tasks=tasks)
    zero = TransferRegressor(transfer=PriorTransfer(strength=0.0)).fit(
        X, y, tasks=tasks
    )
    np.testing.assert_allclose(zero.coef_, none.coef_, atol=1e-10)
    huge = TransferRegressor(
        transfer=PriorTransfer(strength=1e10, intercept_ratio=1.0, temperature=0.0),
        kernel="uniform",
        n_neighbors=2,
    ).fit(X, y, tasks=tasks)
    for t in range(5):
        sources = huge.neighbors_[t]
        rows = np.isin(tasks, sources)
        prior = Ridge().fit(X[rows], y[rows])
        np.testing.assert_allclose(huge.coef_[t], prior.coef_, atol=1e-6)
        np.testing.assert_allclose(huge.intercept_[t], prior.intercept_, atol=1e-6)


@settings(deadline=None)
@given(seed=st.integers(0, 10_000), rule=st.sampled_from(RULES))
def test_row_order_and_task_labels_do_not_matter(seed, rule):
    X, y, tasks = related(n_tasks=6, n_rows=8, seed=seed % 50)
    rng = np.random.default_rng(seed)
    model = TransferRegressor(transfer=rule, n_neighbors=3).fit(X, y, tasks=tasks)
    pred = model.predict(X, tasks=tasks)
    perm = rng.permutation(y.size)
    # new labels in another sorted order: task order changes everywhere
    relabel = np.array(["f", "b", "d", "a", "e", "c"])[tasks]
    other = TransferRegressor(transfer=rule, n_neighbors=3)
    other.fit(X[perm], y[perm], tasks=relabel[perm])
    np.testing.assert_allclose(
        other.predict(X, tasks=relabel), pred, rtol=1e-7, atol=1e-7
    )


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_fits_predicts_and_explains(rule):
    X, y, tasks = related()
    model = TransferRegressor(transfer=rule, n_neighbors=4).fit(X, y, tasks=tasks)
    assert model.coef_.shape == (8, 3) and model.intercept_.shape == (8,)
    # a rule that transfers nothing searches no sources in fit
    assert model.neighbors_.shape == (8, 0 if rule == "none" else 4)
    assert model.source_weights_.shape == (8, 8)
    assert np.all(model.source_weights_.diagonal() == 0)
    assert model.score(X, y, tasks=tasks) > 0.6
    info = model.explain(3)
    assert info["task"] == 3 and info["n_rows"] == 15 and info["transfer"] == rule
    W = model.source_weights_.toarray()
    assert [s["task"] for s in info["sources"]] == [
        int(s) for s in np.argsort(-W[3], kind="stable") if W[3, s] > 0
    ]
    for s in info["sources"]:
        assert s["weight"] == pytest.approx(W[3, s["task"]])
        assert s["task"] in model.neighbors_[3]
    # zero-shot for a new task
    new = model.predict(X[:5] + 0.1, tasks=np.full(5, 99))
    assert new.shape == (5,) and np.isfinite(new).all()


def test_transfer_helps_few_shot_targets_and_guards_unrelated_ones():
    rng = np.random.default_rng(0)
    X, y, tasks = related(n_tasks=12, n_rows=40, seed=1)
    # target 100 is related and has 5 rows; target 200 is unrelated (40 rows)
    Xr = rng.normal(size=(205, 3))
    w_rel = Ridge().fit(X, y).coef_
    yr = 1.0 + Xr @ w_rel + 0.3 * rng.normal(size=205)
    Xu = rng.normal(size=(240, 3))
    yu = -3.0 - 2.0 * Xu @ w_rel + 0.3 * rng.normal(size=240)
    Xtr = np.vstack([X, Xr[:5], Xu[:40]])
    ytr = np.concatenate([y, yr[:5], yu[:40]])
    ttr = np.concatenate([tasks, np.full(5, 100), np.full(40, 200)])
    model = TransferRegressor().fit(Xtr, ytr, tasks=ttr)
    alone = TransferRegressor(transfer="none").fit(Xtr, ytr, tasks=ttr)

    def mse(m, Xt, yt, t):
        return np.mean((m.predict(Xt, tasks=np.full(len(yt), t)) - yt) ** 2)

    related_err = mse(model, Xr[5:], yr[5:], 100)
    assert related_err < 0.8 * mse(alone, Xr[5:], yr[5:], 100)
    unrelated_err = mse(model, Xu[40:], yu[40:], 200)
    assert unrelated_err < 1.2 * mse(alone, Xu[40:], yu[40:], 200)
    assert model.explain(200)["strength"] < model.explain(100)["strength"]


def test_zero_shot_uses_the_nearest_tasks_prior():
    X, y, tasks = related(n_tasks=6, n_rows=12)
    model = TransferRegressor(
        n_neighbors=2,
        kernel="uniform",
        transfer=PriorTransfer(strength=3.0),
    ).fit(X, y, tasks=tasks)
    rng = np.random.default_rng(5)
    X_new = X[tasks == 4][:6] + 0.01 * rng.normal(size=(6, 3))
    F = MomentFeatures().fit_transform(X, tasks=tasks)
    f_new = MomentFeatures().fit_transform(X_new, tasks=np.zeros(6))
    nearest = np.argsort(cdist(f_new, F)[0])[:2]
    rows = np.isin(tasks, nearest)
    prior = Ridge().fit(X[rows], y[rows])
    pred = model.predict(X_new, tasks=np.full(6, 99))
    np.testing.assert_allclose(pred, prior.predict(X_new), atol=1e-8)


def test_zero_shot_with_y_features_is_a_clear_error():
    X, y, tasks = related(n_tasks=5)
    model = TransferRegressor(task_features="moments_xy").fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match=r"\[42\] were not seen.*need y"):
        model.predict(X[:3], tasks=[42, 42, 42])
    # seen tasks still predict
    assert model.predict(X[:3], tasks=tasks[:3]).shape == (3,)


@pytest.mark.parametrize("rule", ["prior", "none"])
def test_sample_metric_fits_and_predicts_new_tasks(rule):
    X, y, tasks = related(n_tasks=5, n_rows=12)
    model = TransferRegressor(metric="mmd", n_neighbors=2, transfer=rule)
    model.fit(X, y, tasks=tasks)
    assert model.task_features_ is None
    assert model.neighbors_.shape == (5, 2)
    pred = model.predict(X[:12] + 0.05, tasks=np.full(12, -1))
    assert np.isfinite(pred).all()
    assert model.score(X, y, tasks=tasks) > 0.8


def test_predict_without_tasks_warns_and_uses_the_pooled_model():
    X, y, tasks = related()
    model = TransferRegressor().fit(X, y, tasks=tasks)
    with pytest.warns(TasksMissingWarning, match="tasks=None"):
        pred = model.predict(X)
    np.testing.assert_allclose(pred, Ridge().fit(X, y).predict(X), atol=1e-8)
    with pytest.warns(TasksMissingWarning):
        model.score(X, y)


@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        (
            dict(n_neighbors=8),
            {},
            "n_neighbors=8 but each target task has only 7 source",
        ),
        # checked at fit even by a rule that needs no sources until a new task
        (
            dict(n_neighbors=8, transfer="none"),
            {},
            "n_neighbors=8 but each target task has only 7 source",
        ),
        (dict(), {"sample_weight": -np.ones(120)}, "Negative values.*sample_weight"),
        (dict(n_neighbors=2), {"tasks": None}, "only one task"),
        (dict(transfer="nonsense"), {}, "transfer='nonsense'.*available"),
        (dict(metric="nonsense"), {}, "metric='nonsense'.*available"),
    ],
)
def test_fit_errors(params, fit_kwargs, match):
    X, y, tasks = related()
    kwargs = {"tasks": tasks, **fit_kwargs}
    with pytest.raises(ValueError, match=match):
        TransferRegressor(**params).fit(X, y, **kwargs)


def test_bad_data_errors():
    X, y, tasks = related()
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TransferRegressor().fit(X, y_nan, tasks=tasks)
    with pytest.raises(ValueError, match=r"y must be numeric.*'x'"):
        TransferRegressor().fit(X, np.array(["x"] * X.shape[0]), tasks=tasks)
    with pytest.raises(ValueError, match="tasks has 119 labels but X has 120 rows"):
        TransferRegressor().fit(X, y, tasks=tasks[1:])
    model = TransferRegressor().fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="tasks has 3 labels but X has 4 rows"):
        model.predict(X[:4], tasks=tasks[:3])
    with pytest.raises(ValueError, match="task 'zzz' was not seen"):
        model.explain("zzz")


def test_clone_and_pickle_keep_predictions():
    X, y, tasks = related()
    model = TransferRegressor(metric="manhattan", n_neighbors=3).fit(X, y, tasks=tasks)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        again.predict(X, tasks=tasks), model.predict(X, tasks=tasks)
    )
    np.testing.assert_array_equal(
        again.predict(X[:4], tasks=[50] * 4), model.predict(X[:4], tasks=[50] * 4)
    )
    fresh = clone(model).fit(X, y, tasks=tasks)
    np.testing.assert_allclose(fresh.coef_, model.coef_)
    assert clone(TransferRegressor(transfer=PriorTransfer(strength=2.0))).get_params()[
        "transfer"
    ].strength == pytest.approx(2.0)


def test_grid_search_with_tasks_routed():
    X, y, tasks = related(n_tasks=8)
    search = GridSearchCV(
        TransferRegressor(),
        {"transfer": ["none", "prior"], "n_neighbors": [2, "auto"]},
        cv=GroupKFold(n_splits=4),
        scoring=get_task_scorer("r2"),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks, groups=tasks)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.tasks_.tolist() == list(range(8))


def test_check_estimator_passes():
    results = check_estimator(TransferRegressor(), on_fail=None, on_skip=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []


# -- neighbour search used by the estimators -------------------------------------
def test_many_tasks_use_a_neighbour_index(monkeypatch):
    import sk_metameta._forest_search as forest
    import sk_metameta.neighbors as sim

    monkeypatch.setattr(sim, "_APPROX_MIN_SOURCES", 50)
    calls = []
    original = forest.forest_search
    monkeypatch.setattr(
        forest, "forest_search", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    X, y, tasks = related(n_tasks=120, n_rows=6, p=5)
    model = TransferRegressor(n_neighbors=5).fit(X, y, tasks=tasks)
    assert calls and model.neighbors_.shape == (120, 5)
    assert model.source_weights_.nnz <= 120 * 5


def test_one_labelled_task_predicts_new_tasks_with_its_model():
    X, y, _ = related(n_tasks=1, n_rows=10)
    model = TransferRegressor().fit(X, y, tasks=["a"] * 10)
    np.testing.assert_array_equal(
        model.predict(X[:3], tasks=["b"] * 3), model.predict(X[:3], tasks=["a"] * 3)
    )
