"""Transfer rules: source weights, the linear-model algebra and its closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.linear_model import Ridge

from sk_metameta.testing import check_transfer_rule
from sk_metameta.transfer import (
    BUILTIN_TRANSFER_RULES,
    AdditiveTransfer,
    BaseTransferRule,
    EnsembleTransfer,
    InstanceTransfer,
    InterpolateTransfer,
    NoTransfer,
    PriorTransfer,
    SelectTransfer,
    normalize_rows,
)
from sk_metameta.transfer._linear import LinearTransferProblem, RowData, TaskStats

RULES = [cls() for cls in BUILTIN_TRANSFER_RULES]


def test_builtin_names():
    names = sorted(cls.name for cls in BUILTIN_TRANSFER_RULES)
    expected = ["additive", "ensemble", "instance", "interpolate", "none"]
    assert names == sorted([*expected, "hierarchical", "prior", "select"])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_conformance_kit(rule):
    check_transfer_rule(rule, max_examples=15)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_sparse_and_dense_weights_agree(rule):
    rng = np.random.default_rng(0)
    S = rng.uniform(size=(6, 6)) * (rng.uniform(size=(6, 6)) < 0.6)
    np.fill_diagonal(S, 0.0)
    T = np.where(S > 0, -rng.uniform(size=(6, 6)), 0.0)
    dense = rule.source_weights(S, T)
    sp = rule.source_weights(
        sparse.csr_array(S), sparse.csr_array(np.where(S > 0, T, 0))
    )
    assert sparse.issparse(sp) and isinstance(dense, np.ndarray)
    np.testing.assert_allclose(sp.toarray(), dense, atol=1e-12)


def test_normalize_rows():
    W = normalize_rows([[1.0, 3.0], [0.0, 0.0]])
    np.testing.assert_allclose(W, [[0.25, 0.75], [0.0, 0.0]])
    Ws = normalize_rows(sparse.csr_array([[0.0, 2.0], [0.0, 0.0]]))
    np.testing.assert_allclose(Ws.toarray(), [[0.0, 1.0], [0.0, 0.0]])


def test_additive_weights_are_similarities():
    S = np.array([[0.0, 0.2, 0.6]])
    np.testing.assert_allclose(AdditiveTransfer(normalize=False).source_weights(S), S)
    np.testing.assert_allclose(AdditiveTransfer().source_weights(S), [[0, 0.25, 0.75]])


def test_ensemble_weights_follow_scores_and_similarity():
    S = np.array([[1.0, 1.0, 0.5, 0.0]])
    T = np.array([[-1.0, -3.0, -1.0, 10.0]])
    W = EnsembleTransfer().source_weights(S, T)
    assert W[0, 3] == 0.0  # not a neighbour, whatever its score
    assert W[0, 0] > W[0, 1]  # same similarity, better score
    assert W[0, 0] > W[0, 2]  # same score, more similar
    np.testing.assert_allclose(W.sum(), 1.0)
    flat = EnsembleTransfer(temperature=0.0).source_weights(S, T)
    np.testing.assert_allclose(flat, [[0.4, 0.4, 0.2, 0.0]])


def test_select_keeps_best_scoring_sources():
    S = np.array([[1.0, 0.5, 0.2, 0.0], [0.3, 0.0, 0.9, 0.8]])
    T = np.array([[0.1, 0.9, 0.5, 5.0], [0.0, 9.0, 0.2, 0.2]])
    W = SelectTransfer(n_select=2).source_weights(S, T)
    np.testing.assert_allclose(W, [[0, 0.5, 0.5, 0], [0, 0, 0.5, 0.5]])
    # without scores: the most similar
    W = SelectTransfer(n_select=1).source_weights(S)
    np.testing.assert_allclose(W, [[1, 0, 0, 0], [0, 0, 1, 0]])


@pytest.mark.parametrize(
    "rule, match",
    [
        (PriorTransfer(strength="best"), "strength"),
        (PriorTransfer(criterion="aic"), "criterion"),
        (PriorTransfer(strengths=[-1.0]), "strengths"),
        (PriorTransfer(intercept_ratio="maybe"), "intercept_ratio"),
        (PriorTransfer(smoothing=-1.0), "smoothing"),
        (InterpolateTransfer(strength=1.5), "strength"),
        (AdditiveTransfer(strength=np.nan), "strength"),
        (InstanceTransfer(strength=-1.0), "strength"),
        (EnsembleTransfer(temperature=-1.0), "temperature"),
        (SelectTransfer(n_select=0), "n_select"),
    ],
)
def test_invalid_rule_parameters(rule, match):
    problem = _problem(np.random.default_rng(0), n_tasks=3, n_rows=6, p=2)[0]
    with pytest.raises(ValueError, match=match):
        rule.fit_linear(problem)


class _ParametersWithoutLinear(BaseTransferRule):
    name = "broken"
    summary = "Transfers parameters without the linear method."
    transfers = "parameters"


def test_parameters_rule_without_fit_linear_is_a_clear_error():
    problem = _problem(np.random.default_rng(0), n_tasks=3, n_rows=6, p=2)[0]
    with pytest.raises(NotImplementedError, match=r"broken.*fit_linear"):
        _ParametersWithoutLinear().fit_linear(problem)


# -- the linear algebra -------------------------------------------------------------
def _problem(rng, n_tasks=4, n_rows=8, p=3, alpha=1.0, weights=False):
    X = rng.normal(size=(n_tasks * n_rows, p)) + rng.normal(
        size=(n_tasks, 1, p)
    ).repeat(n_rows, 0).reshape(-1, p)
    codes = np.repeat(np.arange(n_tasks), n_rows)
    y = X @ rng.normal(size=p) + rng.normal(size=X.shape[0])
    w = rng.uniform(0.5, 2.0, size=X.shape[0]) if weights else np.ones(X.shape[0])
    mu, nu = w @ X / w.sum(), w @ y / w.sum()
    Z = np.hstack([np.ones((X.shape[0], 1)), X - mu])
    rows = RowData(Z, y - nu, w, codes, n_tasks)
    stats = TaskStats.from_rows(rows, n_tasks)
    penalty = np.r_[0.0, np.full(p, alpha)]
    S = np.ones((n_tasks, n_tasks)) - np.eye(n_tasks)
    problem = LinearTransferProblem(
        stats=stats,
        source_stats=stats,
        source_coef=None,
        similarity=sparse.csr_array(S),
        penalty=penalty,
        scale=stats.G.sum(axis=0) / stats.n.sum(),
        rows=rows,
    )
    problem.source_coef = problem.own_coef()
    return problem, X, y, w, codes, mu, nu


def test_stats_match_direct_sums():
    problem, X, y, w, codes, mu, nu = _problem(np.random.default_rng(1), weights=True)
    for t in range(4):
        r = codes == t
        Z = np.hstack([np.ones((r.sum(), 1)), X[r] - mu])
        np.testing.assert_allclose(problem.stats.G[t], (Z * w[r, None]).T @ Z)
        np.testing.assert_allclose(problem.stats.g[t], Z.T @ (w[r] * (y[r] - nu)))
        np.testing.assert_allclose(problem.stats.n[t], w[r].sum())


def test_own_coef_is_weighted_ridge():
    problem, X, y, w, codes, mu, nu = _problem(np.random.default_rng(2), weights=True)
    own = problem.own_coef()
    for t in range(4):
        r = codes == t
        ridge = Ridge(alpha=1.0).fit(X[r], y[r], sample_weight=w[r])
        np.testing.assert_allclose(own[t, 1:], ridge.coef_, atol=1e-10)
        np.testing.assert_allclose(nu + own[t, 0] - mu @ own[t, 1:], ridge.intercept_)


def test_transferability_is_minus_mse_of_source_models():
    problem, X, y, w, codes, mu, nu = _problem(np.random.default_rng(3), weights=True)
    T = problem.transferability().toarray()
    own = problem.source_coef
    Z = np.hstack([np.ones((X.shape[0], 1)), X - mu])
    for b in range(4):
        rows = codes == b
        for a in range(4):
            if a == b:
                assert T[b, a] == 0.0  # not a neighbour: no entry
                continue
            resid = (y[rows] - nu) - Z[rows] @ own[a]
            mse = np.sum(w[rows] * resid**2) / w[rows].sum()
            np.testing.assert_allclose(-T[b, a], mse, rtol=1e-9)


def _brute_force_prior_fit(problem, Z, r, w, codes, t, prior, lam):
    rows = codes == t
    A = (Z[rows] * w[rows, None]).T @ Z[rows] + np.diag(problem.penalty)
    A = A + lam * problem.scale
    b = Z[rows].T @ (w[rows] * r[rows]) + lam * problem.scale @ prior
    return np.linalg.solve(A, b)


@pytest.mark.parametrize("lam", [0.0, 0.3, 5.0, 1e3])
@pytest.mark.parametrize("path", ["direct solve", "eigen grid"])
def test_prior_fit_solves_the_normal_equations(lam, path):
    problem, X, y, w, codes, mu, nu = _problem(np.random.default_rng(4), weights=True)
    rng = np.random.default_rng(5)
    prior = rng.normal(size=problem.stats.g.shape)
    # one strength is solved directly; a grid (here of one value twice) goes
    # through the eigendecomposition
    strength = lam if path == "direct solve" else [lam, lam]
    coef, lams, _ = problem.prior_fit(prior, strength)
    Z = np.hstack([np.ones((X.shape[0], 1)), X - mu])
    for t in range(4):
        expected = _brute_force_prior_fit(
            problem, Z, y - nu, w, codes, t, prior[t], lam
        )
        np.testing.assert_allclose(coef[t], expected, atol=1e-8)
    np.testing.assert_allclose(lams, lam)


def test_leave_one_out_criterion_matches_refits():
    problem, X, y, _w, codes, mu, nu = _problem(np.random.default_rng(6), n_rows=7)
    prior = np.random.default_rng(7).normal(size=problem.stats.g.shape)
    grid = np.array([0.0, 0.5, 4.0])
    K, lam_vals, U, a, c = problem._eigen(prior)
    sse, n = problem._criterion(grid, lam_vals, U, a, c, K, criterion="loo")
    Z = np.hstack([np.ones((X.shape[0], 1)), X - mu])
    r = y - nu
    for t in range(4):
        rows = np.flatnonzero(codes == t)
        for j, lam in enumerate(grid):
            total = 0.0
            for i in rows:
                keep = (codes == t) & (np.arange(X.shape[0]) != i)
                A = Z[keep].T @ Z[keep] + np.diag(problem.penalty) + lam * problem.scale
                b = Z[keep].T @ r[keep] + lam * problem.scale @ prior[t]
                total += (r[i] - Z[i] @ np.linalg.solve(A, b)) ** 2
            np.testing.assert_allclose(sse[t, j], total, rtol=1e-8)
        np.testing.assert_allclose(n[t], 7)


def test_gcv_criterion_matches_its_definition():
    problem, X, y, _w, codes, mu, nu = _problem(np.random.default_rng(8), n_rows=9)
    prior = np.random.default_rng(9).normal(size=problem.stats.g.shape)
    grid = np.array([0.1, 2.0])
    K, lam_vals, U, a, c = problem._eigen(prior)
    gcv, _n = problem._criterion(grid, lam_vals, U, a, c, K, criterion="gcv")
    Z = np.hstack([np.ones((X.shape[0], 1)), X - mu])
    r = y - nu
    for t in range(4):
        rows = codes == t
        for j, lam in enumerate(grid):
            A = Z[rows].T @ Z[rows] + np.diag(problem.penalty) + lam * problem.scale
            theta = np.linalg.solve(
                A, Z[rows].T @ r[rows] + lam * problem.scale @ prior[t]
            )
            H = Z[rows] @ np.linalg.solve(A, Z[rows].T)
            rss = np.sum((r[rows] - Z[rows] @ theta) ** 2)
            expected = rss / (1 - np.trace(H) / rows.sum()) ** 2
            np.testing.assert_allclose(gcv[t, j], expected, rtol=1e-8)


@settings(deadline=None)
@given(
    seed=st.integers(0, 10_000),
    alpha=st.floats(0.01, 10.0),
    weights=st.booleans(),
)
def test_prior_limits(seed, alpha, weights):
    """strength -> 0 gives the target-only ridge; strength -> inf gives the prior."""
    problem, *_ = _problem(np.random.default_rng(seed), alpha=alpha, weights=weights)
    prior, _ = PriorTransfer().prior(problem)
    own = problem.own_coef()
    near_zero = PriorTransfer(strength=1e-9).fit_linear(problem).coef
    np.testing.assert_allclose(near_zero, own, atol=1e-6 * (1 + np.abs(own).max()))
    huge = PriorTransfer(strength=1e9, intercept_ratio=1.0).fit_linear(problem).coef
    np.testing.assert_allclose(huge, prior, atol=1e-5 * (1 + np.abs(prior).max()))
    exact_zero = PriorTransfer(strength=0.0).fit_linear(problem).coef
    np.testing.assert_allclose(exact_zero, own, atol=1e-8 * (1 + np.abs(own).max()))


def test_prior_is_the_similarity_weighted_pooled_ridge_of_the_sources():
    problem, X, y, w, codes, mu, nu = _problem(np.random.default_rng(10), weights=True)
    S = np.array(
        [[0, 0.5, 1.0, 0], [1.0, 0, 0, 0], [0.2, 0.2, 0, 0.2], [0, 0, 0.4, 0]], float
    )
    problem.similarity = sparse.csr_array(S)
    prior, W = PriorTransfer(temperature=0.0).prior(problem)
    np.testing.assert_allclose(W.toarray(), normalize_rows(S))
    # with a temperature, the sources' scores on the target weigh in too
    _, W_scores = PriorTransfer(temperature=1.0).prior(problem)
    expected = EnsembleTransfer(temperature=1.0).source_weights(
        problem.similarity, problem.transferability()
    )
    np.testing.assert_allclose(W_scores.toarray(), expected.toarray())
    assert not np.allclose(W_scores.toarray(), W.toarray())
    for t in range(4):
        sources = np.flatnonzero(S[t])
        rel = S[t, sources] / S[t, sources].mean()
        rows = np.isin(codes, sources)
        row_w = w[rows] * rel[np.searchsorted(sources, codes[rows])]
        ridge = Ridge(alpha=1.0).fit(X[rows], y[rows], sample_weight=row_w)
        np.testing.assert_allclose(prior[t, 1:], ridge.coef_, atol=1e-10)
        np.testing.assert_allclose(
            nu + prior[t, 0] - mu @ prior[t, 1:], ridge.intercept_
        )


def test_auto_strength_chooses_from_the_grid_and_zero_without_sources():
    problem, *_ = _problem(np.random.default_rng(11))
    S = np.ones((4, 4)) - np.eye(4)
    S[3] = 0.0  # task 3 has no source
    problem.similarity = sparse.csr_array(S)
    rule = PriorTransfer(strengths=[0.0, 1.0, 10.0])
    result = rule.fit_linear(problem)
    assert set(result.strength[:3]) <= {0.0, 1.0, 10.0}
    assert result.strength[3] == 0.0
    np.testing.assert_allclose(result.coef[3], problem.own_coef()[3])
    assert result.info["intercept_ratio"] in (0.01, 0.03, 0.1, 0.3, 1.0)


def test_instance_rule_is_weighted_pooled_ridge_with_the_target():
    problem, X, y, _w, codes, _mu, _nu = _problem(np.random.default_rng(12))
    coef = InstanceTransfer(strength=0.5).fit_linear(problem).coef
    for t in range(4):
        row_w = np.where(codes == t, 1.0, 0.5)  # equal similarities: mean 1
        ridge = Ridge(alpha=1.0).fit(X, y, sample_weight=row_w)
        np.testing.assert_allclose(coef[t, 1:], ridge.coef_, atol=1e-10)


def test_none_rule_is_own_ridge_and_zero_shot_is_pooled():
    problem, *_ = _problem(np.random.default_rng(13))
    result = NoTransfer().fit_linear(problem)
    np.testing.assert_allclose(result.coef, problem.own_coef())
    assert result.source_weights.nnz == 0
