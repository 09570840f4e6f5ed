"""Built-in task feature extractors against per-task loop references."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from sk_metameta import TaskIndex, check_tasks
from sk_metameta._components import resolve_task_features
from sk_metameta.task_features import (
    BUILTIN_TASK_FEATURES,
    CoefFeatures,
    KernelMeanFeatures,
    LandmarkFeatures,
    MomentFeatures,
    MomentXYFeatures,
)

RTOL, ATOL = 1e-9, 1e-10


def make_tasks(sizes, n_features=3, seed=0, labels=None):
    """Rows of tasks of the given sizes, shuffled, with labels out of order."""
    rng = np.random.default_rng(seed)
    labels = np.arange(len(sizes))[::-1] * 10 if labels is None else labels
    tasks = np.repeat(labels, sizes)
    shift = rng.normal(size=(len(sizes), n_features))
    X = rng.normal(size=(tasks.size, n_features)) * rng.uniform(0.5, 2, n_features)
    X += np.repeat(shift, sizes, axis=0)
    coef = rng.normal(size=(len(sizes), n_features))
    y = np.einsum("ij,ij->i", X, np.repeat(coef, sizes, axis=0))
    y += rng.normal(size=tasks.size)
    perm = rng.permutation(tasks.size)
    return X[perm], y[perm], tasks[perm]


def per_task(tasks):
    """Sorted labels and the row indices of each task (the reference grouping)."""
    labels = np.unique(tasks)
    return labels, [np.flatnonzero(tasks == label) for label in labels]


def all_extractors():
    return [
        MomentFeatures(moments=(1, 2, 3, 4), log_size=True),
        MomentXYFeatures(moments=(1, 2, 3, 4), log_size=True),
        CoefFeatures(alpha=0.5),
        CoefFeatures(alpha=0.0, fit_intercept=False),
        LandmarkFeatures(),
        LandmarkFeatures(target_type="classification", relative=True),
        KernelMeanFeatures(n_components=16, random_state=0),
        KernelMeanFeatures(n_components=16, use_y=True, random_state=0),
    ]


def ids(extractor):
    return repr(extractor)


# -- moments -------------------------------------------------------------------------
def test_moments_match_per_task_numpy_and_scipy():
    X, _, tasks = make_tasks([5, 1, 12, 7])
    F = MomentFeatures(moments=(4, 2, 1, 3), log_size=True).fit_transform(
        X, tasks=tasks
    )
    _, rows = per_task(tasks)
    expected = []
    for r in rows:
        Xt = X[r]
        if len(r) > 1:
            skew = stats.skew(Xt, axis=0, bias=True)
            kurt = stats.kurtosis(Xt, axis=0, bias=True)
        else:  # undefined for one row: the extractor sets 0
            skew = kurt = np.zeros(X.shape[1])
        expected.append(
            np.concatenate([Xt.mean(0), Xt.std(0), skew, kurt, [np.log(len(r))]])
        )
    np.testing.assert_allclose(F, expected, rtol=1e-8, atol=ATOL)


def test_moments_default_and_names():
    X, _, tasks = make_tasks([4, 6])
    features = MomentFeatures()
    F = features.fit_transform(X, tasks=tasks)
    assert F.shape == (2, 6)
    assert features.get_feature_names_out(["a", "b", "c"]).tolist() == [
        "mean_a",
        "mean_b",
        "mean_c",
        "std_a",
        "std_b",
        "std_c",
    ]
    names = MomentFeatures(moments=[3]).fit(X, tasks=tasks).get_feature_names_out()
    assert names.tolist() == ["skew_x0", "skew_x1", "skew_x2"]


def test_moments_constant_column_gives_zero_spread_and_shape():
    X = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 4.0], [3.0, 0.0]])
    F = MomentFeatures(moments=(2, 3, 4)).fit_transform(X, tasks=[0, 0, 0, 1])
    assert np.isfinite(F).all()
    # std, skew, kurtosis of the constant column 0 in task 0 are exactly 0.
    assert F[0, 0] == 0.0 and F[0, 2] == 0.0 and F[0, 4] == 0.0
    assert F[0, 1] > 0 and F[0, 3] != 0.0
    np.testing.assert_array_equal(F[1], 0.0)  # one row: no spread


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e150, 1e300])
def test_moments_are_exact_at_any_scale_of_x(scale):
    # Squares of X * 1e300 overflowed (std 0, the column taken as constant) and
    # of X * 1e-300 underflowed (std 0); y keeps its own scale.
    X, y, tasks = make_tasks([5, 1, 12, 7], seed=35)
    X[:, 1] = np.where(tasks == tasks[0], 0.0, X[:, 1])  # a task's column all 0
    X[:, 2] = 3.0  # a constant column
    for extractor, args in (
        (MomentFeatures(moments=(1, 2, 3, 4), log_size=True), ()),
        (MomentXYFeatures(moments=(1, 2, 3, 4)), (y,)),
    ):
        F = extractor.fit_transform(X, *args, tasks=tasks)
        G = extractor.fit_transform(X * scale, *args, tasks=tasks)
        names = extractor.get_feature_names_out()
        scaled = np.array([n.startswith(("mean_x", "std_x")) for n in names])
        np.testing.assert_allclose(G[:, scaled], F[:, scaled] * scale, rtol=1e-9)
        np.testing.assert_allclose(G[:, ~scaled], F[:, ~scaled], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("moments", [(), (0,), (1, 1), (5,), "12", (True,), 2.0])
def test_moments_parameter_is_validated(moments):
    with pytest.raises(ValueError, match="'moments': moments must be a non-empty"):
        MomentFeatures(moments=moments).fit_transform([[0.0], [1.0]], tasks=[0, 0])


def test_moments_xy_match_per_task_reference():
    X, y, tasks = make_tasks([6, 2, 9])
    features = MomentXYFeatures(moments=(1, 2, 3))
    F = features.fit_transform(X, y, tasks=tasks)
    _, rows = per_task(tasks)
    expected = []
    for r in rows:
        A = np.column_stack([X[r], y[r]])
        corr = [np.corrcoef(X[r][:, j], y[r])[0, 1] for j in range(X.shape[1])]
        expected.append(
            np.concatenate(
                [A.mean(0), A.std(0), stats.skew(A, axis=0, bias=True), corr]
            )
        )
    expected = np.array(expected)
    expected[1, 2 * 4 : 3 * 4] = 0.0  # skewness of two points is 0 (both sides)
    np.testing.assert_allclose(F, expected, rtol=1e-8, atol=1e-9)
    names = features.get_feature_names_out().tolist()
    assert names[:4] == ["mean_x0", "mean_x1", "mean_x2", "mean_y"]
    assert names[-3:] == ["corr_x0_y", "corr_x1_y", "corr_x2_y"]
    assert len(names) == F.shape[1]


def test_moments_xy_correlation_of_constant_is_zero_and_y_is_numeric():
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    y = np.array([0.0, 1.0, 1.0])
    F = MomentXYFeatures(moments=[1]).fit_transform(X, y, tasks=[0, 0, 0])
    np.testing.assert_allclose(F[0, -2:], [0.0, np.corrcoef(X[:, 1], y)[0, 1]])
    F = MomentXYFeatures(moments=[1]).fit_transform(X, np.ones(3), tasks=[0, 0, 0])
    np.testing.assert_array_equal(F[0, -2:], 0.0)
    with pytest.raises(ValueError, match="'moments_xy' treat y as a number"):
        MomentXYFeatures().fit_transform(X, ["a", "b", "a"], tasks=[0, 0, 0])
    with pytest.raises(ValueError, match="'moments_xy' need y"):
        MomentXYFeatures().fit_transform(X, tasks=[0, 0, 0])
    with pytest.raises(ValueError, match="y contains NaN"):
        MomentXYFeatures().fit_transform(X, [0.0, np.nan, 1.0], tasks=[0, 0, 0])


# -- coef ----------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [[2, 3, 30, 11, 1], [6, 6, 6]])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.1, 3.0])
def test_coef_matches_sklearn_ridge_per_task(alpha, fit_intercept, sizes):
    # Task sizes 2 and 3 have fewer rows than the 4 features: ridge is well-posed.
    X, y, tasks = make_tasks(sizes, n_features=4, seed=1)
    F = CoefFeatures(alpha=alpha, fit_intercept=fit_intercept).fit_transform(
        X, y, tasks=tasks
    )
    _, rows = per_task(tasks)
    for t, r in enumerate(rows):
        model = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky")
        model.fit(X[r], y[r])
        expected = model.coef_
        if fit_intercept:
            expected = np.append(expected, model.intercept_)
        np.testing.assert_allclose(F[t], expected, rtol=1e-8, atol=1e-10)


def test_coef_alpha_zero_is_minimum_norm_least_squares():
    X, y, tasks = make_tasks([3, 40], n_features=5, seed=2)
    F = CoefFeatures(alpha=0.0).fit_transform(X, y, tasks=tasks)
    _, rows = per_task(tasks)
    for t, r in enumerate(rows):
        Xc = X[r] - X[r].mean(0)
        coef = np.linalg.lstsq(Xc, y[r] - y[r].mean(), rcond=None)[0]
        intercept = y[r].mean() - X[r].mean(0) @ coef
        np.testing.assert_allclose(F[t], [*coef, intercept], rtol=1e-6, atol=1e-8)


def test_coef_names_and_errors():
    X, y, tasks = make_tasks([4, 5], n_features=2)
    features = CoefFeatures().fit(X, y, tasks=tasks)
    assert features.get_feature_names_out().tolist() == [
        "coef_x0",
        "coef_x1",
        "intercept",
    ]
    names = CoefFeatures(fit_intercept=False).fit(X, y, tasks=tasks)
    assert names.get_feature_names_out().tolist() == ["coef_x0", "coef_x1"]
    for alpha in (-1.0, np.nan, "1", True):
        with pytest.raises(ValueError, match="'coef': alpha must be a non-negative"):
            CoefFeatures(alpha=alpha).fit_transform(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="'coef' need y"):
        CoefFeatures().fit_transform(X, tasks=tasks)
    with pytest.raises(ValueError, match="y must be 1-D"):
        CoefFeatures().fit_transform(X, np.c_[y, y], tasks=tasks)


@pytest.mark.parametrize(
    ("alpha", "scale_x", "scale_y", "alpha_ref", "factor"),
    [
        (1e300, 1e150, 1e150, 1.0, 1.0),
        (1e-300, 1e-160, 1e-160, 1e20, 1.0),
        (1.0, 1e300, 1e300, 0.0, 1.0),
        # alpha / scale_x**2 = 1e400: the solution is X^T y / alpha, read at
        # 1e280 and multiplied by 1e-120 (and by scale_y / scale_x = 1e300).
        (1e-200, 1e-300, 1.0, 1e280, 1e180),
    ],
)
def test_coef_at_any_scale(alpha, scale_x, scale_y, alpha_ref, factor):
    # coef(c X, d y; alpha) = (d / c) coef(X, y; alpha / c**2): on X * 1e300 the
    # Gram matrices overflowed and the coefficients came out 0.
    X, y, tasks = make_tasks([6, 9, 4], seed=36)
    F = CoefFeatures(alpha=alpha).fit_transform(X * scale_x, y * scale_y, tasks=tasks)
    ref = CoefFeatures(alpha=alpha_ref).fit_transform(X, y, tasks=tasks)[:, :-1]
    coef = ref * factor
    index = check_tasks(tasks, len(tasks))
    intercept = index.mean(y) * scale_y - np.einsum(
        "tp,tp->t", index.mean(X) * scale_x, coef
    )
    np.testing.assert_allclose(F[:, :-1], coef, rtol=1e-9, atol=0)
    np.testing.assert_allclose(F[:, -1], intercept, rtol=1e-9, atol=0)


def test_coef_beyond_the_float_range_is_refused():
    # |coef| reaches |y| / (2 sqrt(alpha)) = 1e300 / 2e-150 for x near 1e-150.
    X, y, tasks = make_tasks([6, 9], seed=37)
    message = r"'coef': the coefficients of tasks \[0, 10\] overflow"
    with pytest.raises(ValueError, match=message):
        CoefFeatures(alpha=1e-300).fit_transform(X * 1e-150, y * 1e300, tasks=tasks)
    # Least squares: an X 1e600 times smaller than y is numerically 0.
    F = CoefFeatures(alpha=0.0).fit_transform(X * 1e-300, y * 1e300, tasks=tasks)
    np.testing.assert_array_equal(F[:, :-1], 0.0)
    index = check_tasks(tasks, len(tasks))
    np.testing.assert_allclose(F[:, -1], index.mean(y) * 1e300, rtol=1e-12)


# -- landmarks -----------------------------------------------------------------------
def fit_predict(model, X, y, x):
    """``model`` fitted on ``X, y`` predicts ``x``; one class left: that class."""
    if isinstance(model, RidgeClassifier) and np.unique(y).size == 1:
        return y[0]
    return clone(model).fit(X, y).predict(x)[0]


def loo_reference(X, y, alpha, classification):
    """Leave-one-out errors of the four learners, by refitting per left-out row."""
    n = len(y)
    if classification:
        ridge, nn = RidgeClassifier(alpha=alpha, solver="cholesky"), None
        nn = KNeighborsClassifier(n_neighbors=1)
    else:
        ridge = Ridge(alpha=alpha, solver="cholesky")
        nn = KNeighborsRegressor(n_neighbors=1)
    mean, preds = [], {"ridge": [], "1nn": []}
    uni = [[] for _ in range(X.shape[1])]
    for i in range(n):
        keep = np.arange(n) != i
        Xk, yk, x = X[keep], y[keep], X[i : i + 1]
        if classification:  # ties between majority classes are shared
            values, counts = np.unique(yk, return_counts=True)
            best = values[counts == counts.max()]
            mean.append(1.0 - np.isin(y[i], best) / len(best))
        else:
            mean.append((yk.mean() - y[i]) ** 2)
        preds["ridge"].append(fit_predict(ridge, Xk, yk, x))
        preds["1nn"].append(fit_predict(nn, Xk, yk, x))
        for j in range(X.shape[1]):
            uni[j].append(fit_predict(ridge, Xk[:, [j]], yk, x[:, [j]]))

    def error(pred):
        pred = np.array(pred)
        if classification:
            return np.mean(pred != y)
        return np.sqrt(np.mean((pred - y) ** 2))

    first = np.mean(mean) if classification else np.sqrt(np.mean(mean))
    return [
        first,
        min(error(u) for u in uni),
        error(preds["ridge"]),
        error(preds["1nn"]),
    ]


@pytest.mark.parametrize("sizes", [[2, 3, 9, 25], [7, 7, 7, 7]])
def test_landmarks_match_leave_one_out_refits_continuous(sizes):
    # equal sizes take the blocks' fast path (no padding)
    X, y, tasks = make_tasks(sizes, n_features=3, seed=3)
    features = LandmarkFeatures(alpha=0.7)
    F = features.fit_transform(X, y, tasks=tasks)
    assert features.target_type_ == "continuous"
    _, rows = per_task(tasks)
    expected = [loo_reference(X[r], y[r], 0.7, False) for r in rows]
    np.testing.assert_allclose(F, expected, rtol=1e-8, atol=1e-10)
    assert features.get_feature_names_out().tolist() == [
        "mean_loo_rmse",
        "univariate_loo_rmse",
        "ridge_loo_rmse",
        "1nn_loo_rmse",
    ]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_landmarks_match_leave_one_out_refits_classification(n_classes):
    X, y, tasks = make_tasks([7, 14, 30], n_features=3, seed=4)
    labels = np.array(["ant", "bee", "cat"])[:n_classes]
    y_class = labels[
        np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    ]
    features = LandmarkFeatures(alpha=2.0)
    F = features.fit_transform(X, y_class, tasks=tasks)
    assert features.target_type_ == "classification"
    _, rows = per_task(tasks)
    expected = [loo_reference(X[r], y_class[r], 2.0, True) for r in rows]
    np.testing.assert_allclose(F, expected, rtol=1e-12, atol=1e-12)
    assert features.get_feature_names_out()[0] == "mean_loo_error"


def test_landmarks_ties_are_shared_and_order_free():
    # Two equally frequent classes: leaving a row out makes the other class the
    # majority, so the majority landmark errs on every row.
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    F = LandmarkFeatures(learners=["mean"]).fit_transform(X, y, tasks=[0] * 4)
    assert F.tolist() == [[1.0]]
    # Three classes once each: after leaving one out two tie, neither is right.
    F = LandmarkFeatures(learners=["mean"]).fit_transform(
        X[:3], [0, 1, 2], tasks=[0] * 3
    )
    assert F.tolist() == [[1.0]]
    # Row 1 has two nearest neighbours (rows 0 and 2) with classes a and b:
    # half an error; rows 0 and 2 have row 1 (class a) as their nearest.
    X = np.array([[0.0], [1.0], [2.0]])
    F = LandmarkFeatures(learners=["1nn"]).fit_transform(
        X, ["a", "a", "b"], tasks=[0] * 3
    )
    np.testing.assert_allclose(F, [[(0 + 0.5 + 1) / 3]])
    # Regression: row 1 is predicted by the mean of rows 0 and 2.
    F = LandmarkFeatures(learners=["1nn"]).fit_transform(
        X, np.array([0.0, 1.0, 4.0]), tasks=[0] * 3
    )
    np.testing.assert_allclose(F, [[np.sqrt((1 + 1 + 9) / 3)]])


def test_landmarks_relative_and_constant_target():
    X, y, tasks = make_tasks([10, 12], seed=5)
    absolute = LandmarkFeatures().fit_transform(X, y, tasks=tasks)
    features = LandmarkFeatures(relative=True)
    relative = features.fit_transform(X, y, tasks=tasks)
    np.testing.assert_allclose(relative[:, 0], absolute[:, 0])
    np.testing.assert_allclose(relative[:, 1:], absolute[:, 1:] / absolute[:, :1])
    assert features.get_feature_names_out()[1] == "univariate_loo_rmse_ratio"
    y_const = np.where(tasks == tasks[0], 0.1, y)
    F = features.fit_transform(X, y_const, tasks=tasks)
    t = int(np.searchsorted(np.unique(tasks), tasks[0]))
    assert F[t].tolist() == [0.0, 1.0, 1.0, 1.0]


def test_landmarks_target_type_auto_and_override():
    X, y, tasks = make_tasks([5, 5], seed=6)
    y_int = np.round(y).astype(int)
    for labels in (y_int, y_int > 0, y_int.astype(str).astype(object)):
        features = LandmarkFeatures().fit(X, labels, tasks=tasks)
        assert features.target_type_ == "classification"
    # float y is continuous even when its values are whole numbers
    features = LandmarkFeatures().fit(X, y_int + 0.0, tasks=tasks)
    assert features.target_type_ == "continuous"
    assert (
        LandmarkFeatures(target_type="classification")
        .fit(X, y, tasks=tasks)
        .target_type_
        == "classification"
    )
    features = LandmarkFeatures(target_type="continuous").fit(X, y_int, tasks=tasks)
    assert features.target_type_ == "continuous"
    _, rows = per_task(tasks)
    expected = [loo_reference(X[r], y_int[r] + 0.0, 1.0, False) for r in rows]
    np.testing.assert_allclose(
        features.transform(X, y_int, tasks=tasks), expected, rtol=1e-8
    )
    with pytest.raises(ValueError, match="target_type must be one of"):
        LandmarkFeatures(target_type="ordinal").fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="y must be 1-D"):
        LandmarkFeatures().fit(X, np.c_[y_int, y_int], tasks=tasks)
    with pytest.raises(ValueError, match="type_of_target"):
        LandmarkFeatures().fit(X, np.array([0.5, 1.5] * 5, dtype=object), tasks=tasks)


def test_landmarks_errors():
    X, y, tasks = make_tasks([3, 1, 4], seed=7)
    with pytest.raises(
        ValueError,
        match=r"every task needs at least 2 rows for task features 'landmarks'; "
        r"task .*10.* \(1 row\) has fewer",
    ):
        LandmarkFeatures().fit_transform(X, y, tasks=tasks)
    X, y, tasks = make_tasks([3, 4], seed=7)
    for alpha in (0.0, -1.0):
        with pytest.raises(ValueError, match="alpha must be a positive finite"):
            LandmarkFeatures(alpha=alpha).fit(X, y, tasks=tasks)
    for learners in ([], ["mean", "mean"], ["knn"], "ridge2"):
        with pytest.raises(ValueError, match="learners must be a non-empty"):
            LandmarkFeatures(learners=learners).fit(X, y, tasks=tasks)
    with pytest.raises(ValueError, match="X has no columns"):
        LandmarkFeatures().fit_transform(np.empty((7, 0)), y, tasks=tasks)


@pytest.mark.parametrize(
    ("alpha", "scale", "alpha_ref"),
    [(1e300, 1e150, 1.0), (1e-300, 1e-160, 1e20), (1e-300, 1e-300, 1e300)],
)
@pytest.mark.parametrize("relative", [False, True])
def test_landmarks_at_any_scale(alpha, scale, alpha_ref, relative):
    # landmarks(c X, c y; alpha) = c landmarks(X, y; alpha / c**2) (ratios and
    # error rates unchanged): at 1e300 and 1e-300 every error came out 0.
    X, y, tasks = make_tasks([6, 9, 4], seed=38)
    features = LandmarkFeatures(alpha=alpha, relative=relative)
    F = features.fit_transform(X * scale, y * scale, tasks=tasks)
    ref = LandmarkFeatures(alpha=alpha_ref, relative=relative)
    G = ref.fit_transform(X, y, tasks=tasks)
    absolute = ~np.char.endswith(features.get_feature_names_out().astype(str), "ratio")
    np.testing.assert_allclose(F[:, absolute], G[:, absolute] * scale, rtol=1e-9)
    np.testing.assert_allclose(F[:, ~absolute], G[:, ~absolute], rtol=1e-9)
    labels = y > np.median(y)
    F = LandmarkFeatures(alpha=alpha).fit_transform(X * scale, labels, tasks=tasks)
    G = LandmarkFeatures(alpha=alpha_ref).fit_transform(X, labels, tasks=tasks)
    np.testing.assert_allclose(F, G, rtol=1e-9)


# -- kernel mean ---------------------------------------------------------------------
def test_kernel_mean_matches_rbf_sampler_per_task():
    X, _, tasks = make_tasks([4, 9, 1], seed=8)
    features = KernelMeanFeatures(n_components=20, gamma=0.3, random_state=0)
    F = features.fit_transform(X, tasks=tasks)
    sampler = RBFSampler(gamma=0.3, n_components=20, random_state=0).fit(X)
    np.testing.assert_allclose(features.random_weights_, sampler.random_weights_)
    _, rows = per_task(tasks)
    expected = [sampler.transform(X[r]).mean(0) for r in rows]
    np.testing.assert_allclose(F, expected, rtol=RTOL, atol=ATOL)
    assert features.get_feature_names_out()[-1] == "rff_19"
    assert features.gamma_ == 0.3


def test_kernel_mean_distance_approximates_mmd():
    rng = np.random.default_rng(9)
    X = np.vstack([rng.normal(0, 1, (150, 2)), rng.normal(1, 1, (150, 2))])
    tasks = np.repeat([0, 1], 150)
    gamma = 0.5
    E = KernelMeanFeatures(n_components=4000, gamma=gamma, random_state=1)
    E = E.fit_transform(X, tasks=tasks)
    K = np.exp(-gamma * cdist(X, X, "sqeuclidean"))
    a, b = tasks == 0, tasks == 1
    mmd2 = K[a][:, a].mean() + K[b][:, b].mean() - 2 * K[a][:, b].mean()
    assert np.sum((E[0] - E[1]) ** 2) == pytest.approx(mmd2, abs=0.02)


def test_kernel_mean_median_heuristic_and_use_y():
    X = np.array([[0.0], [1.0], [3.0], [3.0]])
    features = KernelMeanFeatures(n_components=5, random_state=0).fit(X, tasks=[0] * 4)
    # positive distances 1, 3, 3, 2, 2 -> median 2 -> gamma 1 / (2 * 4)
    assert features.gamma_ == pytest.approx(1 / 8)
    assert features.requires_y is False
    joint = KernelMeanFeatures(n_components=5, use_y=True, random_state=0)
    assert joint.requires_y is True
    assert joint.set_params(use_y=False).requires_y is False
    joint.set_params(use_y=True)
    with pytest.raises(ValueError, match="'kernel_mean' need y"):
        joint.fit(X, tasks=[0] * 4)
    F = joint.fit_transform(X, [0.0, 1.0, 0.0, 1.0], tasks=[0, 0, 1, 1])
    assert joint.random_weights_.shape == (2, 5)
    # tasks 0 and 1 have the same X distribution but not the same (x, y) one
    assert not np.allclose(F[0], F[1])
    constant = KernelMeanFeatures(random_state=0).fit(np.ones((3, 2)), tasks=[0] * 3)
    assert constant.gamma_ == 1.0
    # rows a tiny distance apart: gamma is capped, features stay finite
    tiny = KernelMeanFeatures(n_components=5, random_state=0)
    F = tiny.fit_transform([[0.0], [1e-160], [3e-160]], tasks=[0, 0, 1])
    assert np.isfinite(tiny.gamma_) and np.isfinite(F).all()


def test_kernel_mean_transforms_new_tasks_in_the_fitted_space():
    X, _, tasks = make_tasks([5, 6, 7], seed=10)
    features = KernelMeanFeatures(n_components=8, random_state=3)
    F = features.fit_transform(X, tasks=tasks)
    keep = tasks == tasks[0]
    t = int(np.searchsorted(np.unique(tasks), tasks[0]))
    np.testing.assert_allclose(
        features.transform(X[keep], tasks=np.full(keep.sum(), "new")), F[[t]]
    )
    with pytest.raises(ValueError, match="X has 2 features, but the extractor"):
        features.transform(X[:, :2], tasks=tasks)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "n_components must be a positive int"),
        ({"n_components": 2.0}, "n_components must be a positive int"),
        ({"gamma": 0.0}, "gamma must be 'median' or a positive"),
        ({"gamma": "mean"}, "gamma must be 'median' or a positive"),
    ],
)
def test_kernel_mean_parameters_are_validated(params, message):
    with pytest.raises(ValueError, match=message):
        KernelMeanFeatures(**params).fit([[0.0], [1.0]], tasks=[0, 1])


def test_kernel_mean_median_draw_does_not_depend_on_row_order():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1500, 2))
    tasks = rng.integers(0, 4, 1500)
    perm = rng.permutation(1500)
    a = KernelMeanFeatures(n_components=4, random_state=0).fit(X, tasks=tasks)
    b = KernelMeanFeatures(n_components=4, random_state=0).fit(
        X[perm], tasks=tasks[perm]
    )
    assert a.gamma_ == b.gamma_


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e150, 1e300])
@pytest.mark.parametrize("use_y", [False, True])
def test_kernel_mean_median_width_is_scale_invariant_at_any_scale(scale, use_y):
    X, y, tasks = make_tasks([30, 12, 1500], seed=31)  # with the subsample
    features = KernelMeanFeatures(n_components=32, use_y=use_y, random_state=0)
    F = clone(features).fit_transform(X, y, tasks=tasks)
    scaled = clone(features).fit(X * scale, y * scale, tasks=tasks)
    G = scaled.transform(X * scale, y * scale, tasks=tasks)
    np.testing.assert_allclose(G, F, rtol=1e-9, atol=1e-12)
    assert 0 < scaled.gamma_ < np.inf


def test_kernel_mean_fixed_width_depends_on_gamma_times_squared_scale():
    X, _, tasks = make_tasks([5, 8], seed=32)
    F = KernelMeanFeatures(gamma=1e300, random_state=0).fit_transform(
        X * 1e-160, tasks=tasks
    )
    width = 1e300 * 1e-160 * 1e-160
    G = KernelMeanFeatures(gamma=width, random_state=0).fit_transform(X, tasks=tasks)
    np.testing.assert_allclose(F, G, rtol=1e-9, atol=1e-12)


def test_kernel_mean_refuses_overflowing_phases():
    X, _, tasks = make_tasks([5, 8], seed=33)
    features = KernelMeanFeatures(gamma=100.0, random_state=0).fit(X, tasks=tasks)
    with pytest.raises(ValueError, match=r"'kernel_mean': the phases .* overflow"):
        features.transform(X * 1e307, tasks=tasks)
    tiny = np.array([[1.0], [1.0 + 2**-52], [1.0], [1.0 + 2**-51]]) * 1e-300
    with pytest.raises(ValueError, match="'kernel_mean': the median distance"):
        KernelMeanFeatures(random_state=0).fit(tiny, tasks=[0, 0, 1, 1])


# -- every built-in extractor --------------------------------------------------------
@pytest.mark.parametrize("extractor", all_extractors(), ids=ids)
def test_invariant_to_row_and_task_order(extractor):
    X, y, tasks = make_tasks([3, 8, 5, 2, 13], seed=12)
    y = (
        np.round(y)
        if extractor.get_params().get("target_type") == "classification"
        else y
    )
    F = clone(extractor).fit_transform(X, y, tasks=tasks)
    rng = np.random.default_rng(0)
    for _ in range(3):
        perm = rng.permutation(len(tasks))
        G = clone(extractor).fit_transform(X[perm], y[perm], tasks=tasks[perm])
        np.testing.assert_allclose(G, F, rtol=1e-9, atol=1e-10)
    # the same tasks under other labels, sorted differently, come out re-ordered
    renamed = np.array([f"t{1000 - int(label):05d}" for label in tasks])
    G = clone(extractor).fit_transform(X, y, tasks=renamed)
    np.testing.assert_allclose(G, F[::-1], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("extractor", all_extractors(), ids=ids)
def test_one_finite_row_per_task_and_names(extractor):
    X, y, tasks = make_tasks([2, 3, 2, 40], seed=13)
    y = (
        np.round(y)
        if extractor.get_params().get("target_type") == "classification"
        else y
    )
    extractor = clone(extractor)
    F = extractor.fit_transform(X, y, tasks=tasks)
    assert F.shape[0] == 4 and np.isfinite(F).all()
    assert len(extractor.get_feature_names_out()) == F.shape[1]
    np.testing.assert_allclose(extractor.transform(X, y, tasks=tasks), F)
    index = check_tasks(tasks, len(tasks))
    np.testing.assert_allclose(extractor.transform(X, y, tasks=index), F)


@pytest.mark.parametrize("extractor", all_extractors(), ids=ids)
def test_blocks_do_not_change_the_result(extractor, monkeypatch):
    # Tasks of very different sizes, split into many small padded blocks.
    X, y, tasks = make_tasks([2, 3, 50, 7, 7, 120, 4], seed=14)
    y = (
        np.round(y)
        if extractor.get_params().get("target_type") == "classification"
        else y
    )
    F = clone(extractor).fit_transform(X, y, tasks=tasks)
    for module in ("_task_blocks", "task_features._landmarks"):
        monkeypatch.setattr(f"sk_metameta.{module}.BLOCK_FLOATS", 200)
    monkeypatch.setattr("sk_metameta.task_features._kernel_mean.BLOCK_FLOATS", 200)
    blocks = []
    padded_blocks = TaskIndex.padded_blocks

    def counted(self, *args, **kwargs):
        for block in padded_blocks(self, *args, **kwargs):
            blocks.append(block)
            yield block

    monkeypatch.setattr(TaskIndex, "padded_blocks", counted)
    G = clone(extractor).fit_transform(X, y, tasks=tasks)
    np.testing.assert_allclose(G, F, rtol=1e-9, atol=1e-10)
    if isinstance(extractor, (CoefFeatures, LandmarkFeatures)):
        assert len(blocks) >= 4  # the small budget really splits the tasks


@pytest.mark.parametrize("extractor", all_extractors(), ids=ids)
def test_a_task_at_another_scale_does_not_change_the_others(extractor):
    # Each task is rescaled on its own: its features do not depend on a task
    # 1e241 times larger (found by the conformance kit on landmarks' 1-NN).
    X = np.array([[1.0], [0.0], [0.0], [0.0], [1e-241], [0.0], [0.0]])
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    tasks = np.array([0, 0, 1, 1, -1, -1, -1])
    fitted = clone(extractor).fit(X, y, tasks=tasks)
    F = fitted.transform(X, y, tasks=tasks)
    alone = tasks == -1
    G = fitted.transform(X[alone], y[alone], tasks=tasks[alone])
    np.testing.assert_allclose(G, F[:1], rtol=1e-9, atol=1e-12)


def test_builtins_are_registered_with_distinct_names():
    names = [cls.name for cls in BUILTIN_TASK_FEATURES]
    assert names == ["moments", "moments_xy", "coef", "landmarks", "kernel_mean"]
    for cls in BUILTIN_TASK_FEATURES:
        extractor = resolve_task_features(cls.name)
        assert type(extractor) is cls
        assert clone(extractor).get_params() == extractor.get_params()
    assert [cls().requires_y for cls in BUILTIN_TASK_FEATURES] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_too_few_rows_of_some_tasks_name_their_labels():
    X, y, _ = make_tasks([7], seed=34)
    tasks = ["old", "brand_new", "old", "old", "zz", "zz", "zz"]
    rows, new = check_tasks(tasks, 7).subset([0, 2])
    assert new.labels.tolist() == ["brand_new", "zz"]
    with pytest.raises(ValueError, match=r"'landmarks'; task 'brand_new' \(1 row\)"):
        LandmarkFeatures().fit_transform(X[rows], y[rows], tasks=new)


def test_a_task_without_rows_is_refused():
    from sk_metameta import TaskIndex

    index = TaskIndex(np.array(["a", "b", "c"]), np.array([0, 0, 2]))
    for extractor in all_extractors():
        y = np.array([0.0, 1.0, 2.0])
        with pytest.raises(
            ValueError, match=r"tasks \['b'\] have no rows|'b' \(0 rows"
        ):
            clone(extractor).fit_transform(np.eye(3), y, tasks=index)


@given(
    sizes=st.lists(st.integers(2, 6), min_size=1, max_size=5),
    data=st.data(),
)
def test_property_one_finite_row_per_task(sizes, data):
    n = sum(sizes)
    X = data.draw(
        hnp.arrays(
            float,
            (n, 2),
            elements=st.floats(-1e3, 1e3, allow_subnormal=False),
        )
    )
    y = data.draw(
        hnp.arrays(float, n, elements=st.floats(-1e3, 1e3, allow_subnormal=False))
    )
    tasks = np.repeat(np.arange(len(sizes)), sizes)
    for extractor in all_extractors():
        if extractor.get_params().get("target_type") == "classification":
            target = np.sign(y)
        else:
            target = y
        F = clone(extractor).fit_transform(X, target, tasks=tasks)
        assert F.shape[0] == len(sizes)
        assert np.isfinite(F).all(), extractor
