"""The hierarchical rule: a prior over task models learned across tasks."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from sk_metameta import TransferRegressor
from sk_metameta.transfer import HierarchicalTransfer


def simulate(n_tasks=40, n_rows=30, p=2, psi=(1.0, 0.5, 0.1), noise=0.5, seed=0):
    """Tasks drawn from the Gaussian model: theta_t ~ N(mu, diag(psi))."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=p + 1)
    theta = mu + rng.normal(size=(n_tasks, p + 1)) * np.sqrt(psi)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.normal(size=(tasks.size, p))
    y = theta[tasks, 0] + np.einsum("ij,ij->i", X, theta[tasks, 1:])
    return X, y + noise * rng.normal(size=tasks.size), tasks, theta


def global_gaussian(**params):
    """The rule as the classic multilevel model: one global prior, no heavy tails."""
    rule = HierarchicalTransfer(dof=np.inf, covariance="full", **params)
    return TransferRegressor(transfer=rule, kernel="uniform", n_neighbors=None)


def test_no_between_task_variance_gives_the_pooled_fit_of_the_sources():
    X, y, tasks, _ = simulate(n_tasks=6, n_rows=20)
    model = global_gaussian(prior_covariance=1e-12).fit(X, y, tasks=tasks)
    for t in range(6):
        others = tasks != t
        pooled = LinearRegression().fit(X[others], y[others])
        assert_allclose(model.coef_[t], pooled.coef_, rtol=1e-6, atol=1e-8)
        assert_allclose(model.intercept_[t], pooled.intercept_, rtol=1e-6, atol=1e-8)
        assert model.strength_[t] == pytest.approx(1.0)


def test_unbounded_between_task_variance_gives_each_task_its_own_fit():
    X, y, tasks, _ = simulate(n_tasks=6, n_rows=20)
    model = global_gaussian(prior_covariance=1e12).fit(X, y, tasks=tasks)
    alone = TransferRegressor(transfer="none", alpha=0.0).fit(X, y, tasks=tasks)
    assert_allclose(model.coef_, alone.coef_, rtol=1e-6)
    assert_allclose(model.intercept_, alone.intercept_, rtol=1e-6)
    assert (model.strength_ < 1e-9).all()


def test_learned_variance_components_match_the_truth_and_mixedlm():
    statsmodels = pytest.importorskip("statsmodels.api")
    X, y, tasks, _ = simulate(n_tasks=60, n_rows=25, seed=3)
    model = global_gaussian().fit(X, y, tasks=tasks)
    # the shared frame's intercept is the prediction at the mean of X (~0 here)
    psi = np.diag(model.prior_covariance_)
    assert model.noise_variance_ == pytest.approx(0.25, rel=0.1)
    assert_allclose(psi, [1.0, 0.5, 0.1], rtol=0.5)
    exog = np.column_stack([np.ones(len(y)), X])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = statsmodels.MixedLM(y, exog, tasks, exog).fit(reml=True)
    assert model.noise_variance_ == pytest.approx(result.scale, rel=0.02)
    assert_allclose(psi, np.diag(result.cov_re), rtol=0.15)
    # the models are the multilevel model's predicted task models
    blup = result.fe_params + np.array(
        [np.asarray(result.random_effects[t]) for t in range(60)]
    )
    assert_allclose(model.coef_, blup[:, 1:], atol=0.05)
    assert_allclose(model.intercept_, blup[:, 0], atol=0.05)


def test_shrinkage_follows_the_number_of_rows_and_the_variance():
    rng = np.random.default_rng(1)
    n_rows = rng.integers(3, 60, size=50)
    X, y, tasks, _ = simulate(n_tasks=50, n_rows=1, seed=1)
    tasks = np.repeat(np.arange(50), n_rows)
    X = rng.normal(size=(tasks.size, 2))
    theta = rng.normal(size=3) + rng.normal(size=(50, 3)) * np.sqrt([1.0, 1e-4, 1.0])
    y = theta[tasks, 0] + np.einsum("ij,ij->i", X, theta[tasks, 1:])
    y = y + 0.5 * rng.normal(size=tasks.size)
    model = TransferRegressor(transfer=HierarchicalTransfer(covariance="diag"))
    model.fit(X, y, tasks=tasks)
    # tasks with fewer rows lean more on the prior
    assert spearmanr(n_rows, model.strength_).statistic < -0.8
    # the coefficient that does not vary between tasks is shrunk to one value
    psi = np.diag(model.prior_covariance_)
    assert psi[1] < 0.05 * psi[2]
    assert model.coef_[:, 0].std() < 0.2 * model.coef_[:, 1].std()


def test_one_far_off_source_does_not_drag_the_prior():
    rng = np.random.default_rng(2)
    w0 = np.array([1.0, -1.0, 0.5])
    n_rows = np.r_[np.full(15, 40), 400, 4]  # 15 sources, an outlier, the target
    tasks = np.repeat(np.arange(17), n_rows)
    theta = w0 + 0.1 * rng.normal(size=(17, 3))
    theta[15] = w0 + 30.0  # far off, with many rows
    X = rng.normal(size=(tasks.size, 3))
    y = np.einsum("ij,ij->i", X, theta[tasks]) + 0.3 * rng.normal(size=tasks.size)
    uniform = dict(kernel="uniform", n_neighbors=None)
    heavy = TransferRegressor(**uniform).fit(X, y, tasks=tasks)
    gaussian = TransferRegressor(transfer=HierarchicalTransfer(dof=np.inf), **uniform)
    gaussian.fit(X, y, tasks=tasks)
    error = {
        name: np.abs(m.prior_coef_[16] - w0).max()
        for name, m in [("heavy", heavy), ("gaussian", gaussian)]
    }
    assert error["heavy"] < 0.3 < error["gaussian"], error
    # the far-off source is the least trusted one
    assert np.argmin(heavy._learned_prior.scale) == 15
    assert np.abs(heavy.coef_[16] - theta[16]).max() < 0.5


def test_new_tasks_get_their_local_prior_mean():
    X, y, tasks, _ = simulate(n_tasks=20, n_rows=15, seed=4)
    model = TransferRegressor(n_neighbors=5).fit(X, y, tasks=tasks)
    X_new = X[tasks == 3] + 0.01
    pred = model.predict(X_new, tasks=np.full(len(X_new), 99))
    # the prior mean of the nearest tasks: a weighted centre of their models
    assert np.isfinite(pred).all()
    spread = model.predict(X_new, tasks=np.full(len(X_new), 3))
    assert np.abs(pred - spread).mean() < 2.0


def test_predictive_standard_deviation():
    X, y, tasks, _ = simulate(n_tasks=30, n_rows=20, seed=5)
    model = TransferRegressor().fit(X, y, tasks=tasks)
    X_test, y_test, tasks_test, _ = simulate(n_tasks=30, n_rows=200, seed=5)
    pred, std = model.predict(X_test, tasks=tasks_test, return_std=True)
    assert_allclose(pred, model.predict(X_test, tasks=tasks_test))
    assert (std >= np.sqrt(model.noise_variance_) - 1e-12).all()
    # about 95% of held-out rows of the same tasks within 1.96 standard deviations
    inside = np.mean(np.abs(y_test - pred) <= 1.96 * std)
    assert 0.9 < inside < 0.99
    # a new task is less certain than a task seen in fit
    _, new_std = model.predict(X_test[:50], tasks=np.full(50, 99), return_std=True)
    assert new_std.mean() > 1.5 * std[:50].mean()
    with pytest.raises(ValueError, match="return_std=True needs a rule"):
        TransferRegressor(transfer="prior").fit(X, y, tasks=tasks).predict(
            X, tasks=tasks, return_std=True
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_weights_equal_repeated_rows(seed):
    X, y, tasks, _ = simulate(n_tasks=12, n_rows=10, seed=seed)
    weights = np.random.default_rng(seed).integers(0, 4, size=len(y))
    weights[::10] = 1  # every task keeps rows
    # every source at the same similarity: the task features (unweighted
    # statistics of X) do not enter
    model = TransferRegressor(kernel="uniform", n_neighbors=None)
    weighted = clone(model).fit(X, y, tasks=tasks, sample_weight=weights)
    rows = np.repeat(np.arange(len(y)), weights)
    repeated = clone(model).fit(X[rows], y[rows], tasks=tasks[rows])
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(covariance="banded"), "covariance must be one of"),
        (dict(dof=0), "dof must be 'auto' or a number > 0"),
        (dict(max_iter=0), "max_iter must be an int >= 1"),
        (dict(tol=-1.0), "tol must be a number > 0"),
        (dict(prior_covariance=np.eye(2)), r"finite \(3, 3\) array"),
        (dict(prior_covariance=-np.eye(3)), "positive definite"),
        (dict(noise_variance=0.0), "noise_variance must be a number > 0"),
        (dict(locality=-1), "locality must be 'auto' or a number > 0"),
    ],
)
def test_bad_parameters_name_the_rule(params, match):
    X, y, tasks, _ = simulate(n_tasks=4, n_rows=8)
    model = TransferRegressor(transfer=HierarchicalTransfer(**params))
    with pytest.raises(ValueError, match=f"transfer rule 'hierarchical'.*{match}"):
        model.fit(X, y, tasks=tasks)


def test_locality_auto_chooses_among_powers_and_predicts():
    X, y, tasks, _ = simulate(n_tasks=15, n_rows=12, seed=6)
    rule = HierarchicalTransfer(locality="auto")
    model = TransferRegressor(transfer=rule).fit(X, y, tasks=tasks)
    assert np.isfinite(model.predict(X, tasks=tasks)).all()


def test_many_tasks_learn_the_prior_on_a_subsample():
    from sk_metameta.transfer._empirical_bayes import MAX_TASKS

    n_tasks = MAX_TASKS + 200
    X, y, tasks, theta = simulate(n_tasks=n_tasks, n_rows=8, seed=7)
    model = TransferRegressor(n_neighbors=10).fit(X, y, tasks=tasks)
    assert model._learned_prior.scale.shape == (n_tasks,)
    assert model.noise_variance_ == pytest.approx(0.25, rel=0.15)
    assert_allclose(np.diag(model.prior_covariance_), [1.0, 0.5, 0.1], rtol=0.5)
    # every task's model is its posterior: better than its own fit on 8 rows
    alone = TransferRegressor(transfer="none", alpha=0.0).fit(X, y, tasks=tasks)
    error = np.abs(model.coef_ - theta[:, 1:]).mean()
    assert error < 0.9 * np.abs(alone.coef_ - theta[:, 1:]).mean()
