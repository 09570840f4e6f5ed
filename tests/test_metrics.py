"""Built-in task metrics against straightforward references.

Feature metrics are compared with :func:`scipy.spatial.distance.cdist`; sample
metrics with a plain Python loop over pairs of tasks (and with POT and scipy
where their definitions match). The axioms each metric declares are exercised by
the conformance kit; here each undeclared axiom gets a counter-example, so the
declarations are exactly those that hold.
"""

import numpy as np
import ot
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import energy_distance
from sklearn.base import clone
from sklearn.metrics.pairwise import rbf_kernel

from sk_metameta import check_tasks, task_distances
from sk_metameta._components import resolve_metric
from sk_metameta.metrics import (
    AXIOMS,
    BUILTIN_METRICS,
    METRIC,
    PSEUDOMETRIC,
    AngularMetric,
    ChebyshevMetric,
    CosineMetric,
    EnergyMetric,
    EuclideanMetric,
    FeatureMetric,
    ManhattanMetric,
    MinkowskiMetric,
    MMDMetric,
    SampleMetric,
    SlicedWassersteinMetric,
    StandardizedEuclideanMetric,
    axiom_class,
)
from sk_metameta.plugins import get_registry

FEATURE_METRICS = [
    EuclideanMetric(),
    ManhattanMetric(),
    ChebyshevMetric(),
    MinkowskiMetric(p=1.5),
    MinkowskiMetric(p=np.inf),
    CosineMetric(),
    AngularMetric(),
    StandardizedEuclideanMetric(),
    StandardizedEuclideanMetric(variances=[1.0, 4.0, 0.5]),
]
SAMPLE_METRICS = [
    MMDMetric(),
    MMDMetric(gamma=0.2, block_size=7),
    MMDMetric(method="random_features", n_components=64),
    EnergyMetric(),
    EnergyMetric(block_size=5),
    SlicedWassersteinMetric(n_projections=8, n_quantiles=12),
]


def _ids(metrics):
    return [repr(m) for m in metrics]


def _random_tasks(seed=0, n_tasks=6, n_features=3, min_rows=2, max_rows=9):
    """Tasks of unequal sizes, rows interleaved, string labels."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(min_rows, max_rows + 1, n_tasks)
    X = np.vstack(
        [
            rng.normal(0.3 * t, 1.0 + 0.2 * t, (s, n_features))
            for t, s in enumerate(sizes)
        ]
    )
    tasks = np.repeat([f"task{t}" for t in range(n_tasks)], sizes)
    perm = rng.permutation(X.shape[0])
    return X[perm], tasks[perm]


def _loop_reference(X, tasks, X_other, tasks_other, pair_distance):
    """One call of ``pair_distance(A, B)`` per pair of tasks."""
    labels, labels_other = np.unique(tasks), np.unique(tasks_other)
    D = np.empty((labels.size, labels_other.size))
    for i, a in enumerate(labels):
        for j, b in enumerate(labels_other):
            D[i, j] = pair_distance(X[tasks == a], X_other[tasks_other == b])
    return D


def _mmd_pair(gamma):
    def distance(A, B):
        sq = (
            rbf_kernel(A, A, gamma=gamma).mean()
            + rbf_kernel(B, B, gamma=gamma).mean()
            - 2 * rbf_kernel(A, B, gamma=gamma).mean()
        )
        return np.sqrt(max(sq, 0.0))

    return distance


def _energy_pair(A, B):
    sq = 2 * cdist(A, B).mean() - cdist(A, A).mean() - cdist(B, B).mean()
    return np.sqrt(max(sq, 0.0))


# -- registration and declarations -----------------------------------------------
def test_every_builtin_metric_is_registered_and_resolvable():
    registered = {c.name for c in get_registry().components("metric")}
    for cls in BUILTIN_METRICS:
        assert cls.name in registered
        metric = resolve_metric(cls.name)
        assert type(metric) is cls
        assert cls.summary and "\n" not in cls.summary
        assert isinstance(metric.axioms, frozenset)
        assert isinstance(cls.axioms, frozenset)
        assert metric.axioms <= set(AXIOMS)
    names = [cls.name for cls in BUILTIN_METRICS]
    assert sorted(names) == sorted(
        [
            "euclidean",
            "manhattan",
            "chebyshev",
            "minkowski",
            "cosine",
            "angular",
            "standardized_euclidean",
            "learned",
            "mmd",
            "energy",
            "sliced_wasserstein",
        ]
    )


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (EuclideanMetric(), "metric"),
        (ManhattanMetric(), "metric"),
        (ChebyshevMetric(), "metric"),
        (MinkowskiMetric(), "metric"),
        (CosineMetric(), "dissimilarity"),
        (AngularMetric(), "pseudometric"),
        (StandardizedEuclideanMetric(), "metric"),
        (MMDMetric(), "metric"),
        (MMDMetric(method="random_features"), "pseudometric"),
        (EnergyMetric(), "metric"),
        (SlicedWassersteinMetric(), "pseudometric"),
    ],
    ids=lambda v: repr(v) if not isinstance(v, str) else v,
)
def test_declared_axiom_class(metric, expected):
    assert metric.axiom_class == expected


def test_cosine_declares_exactly_three_axioms():
    assert CosineMetric.axioms == {
        "non_negativity",
        "zero_self_distance",
        "symmetry",
    }


def test_mmd_axioms_follow_the_method():
    assert MMDMetric.axioms == METRIC  # class: the default method, "exact"
    metric = MMDMetric(method="random_features")
    assert metric.axioms == PSEUDOMETRIC
    metric.set_params(method="exact")
    assert metric.axioms == METRIC
    assert clone(MMDMetric(method="random_features")).axioms == PSEUDOMETRIC
    assert axiom_class(MMDMetric(method="random_features").axioms) == "pseudometric"


# -- feature metrics against scipy ---------------------------------------------------
@pytest.fixture
def features():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(7, 3)) * [1.0, 10.0, 0.1]
    B = rng.normal(size=(4, 3)) * [1.0, 10.0, 0.1] + 1.0
    return A, B


@pytest.mark.parametrize(
    ("metric", "scipy_name", "kwargs"),
    [
        (EuclideanMetric(), "euclidean", {}),
        (ManhattanMetric(), "cityblock", {}),
        (ChebyshevMetric(), "chebyshev", {}),
        (MinkowskiMetric(p=1), "cityblock", {}),
        (MinkowskiMetric(p=1.5), "minkowski", {"p": 1.5}),
        (MinkowskiMetric(p=3), "minkowski", {"p": 3}),
        (MinkowskiMetric(p=np.inf), "chebyshev", {}),
        (CosineMetric(), "cosine", {}),
    ],
    ids=lambda v: repr(v),
)
def test_feature_metric_matches_cdist(features, metric, scipy_name, kwargs):
    A, B = features
    np.testing.assert_allclose(
        metric.pairwise(A, B), cdist(A, B, scipy_name, **kwargs), rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        metric.pairwise(A), cdist(A, A, scipy_name, **kwargs), rtol=1e-12, atol=1e-14
    )


def test_angular_matches_arccos_of_cosine(features):
    A, B = features
    cosine = 1.0 - cdist(A, B, "cosine")
    expected = np.arccos(np.clip(cosine, -1, 1)) / np.pi
    np.testing.assert_allclose(AngularMetric().pairwise(A, B), expected, atol=1e-12)


def test_angular_is_accurate_for_nearly_parallel_and_opposite_vectors():
    A = np.array([[1.0, 0.0]])
    B = np.array([[1.0, 1e-9], [-1.0, 1e-9], [2.0, 0.0]])
    D = AngularMetric().pairwise(A, B)
    np.testing.assert_allclose(D[0, 0], 1e-9 / np.pi, rtol=1e-6)
    np.testing.assert_allclose(1.0 - D[0, 1], 1e-9 / np.pi, rtol=1e-6)
    assert D[0, 2] == 0.0


def test_cosine_and_angular_tiny_and_huge_vectors_keep_their_direction():
    A = np.array([[1e-200, 0.0], [1e200, 0.0], [0.0, 1e-300], [1.0, 0.0]])
    C = CosineMetric().pairwise(A)
    G = AngularMetric().pairwise(A)
    np.testing.assert_allclose(C[:, 3], [0.0, 0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(G[:, 3], [0.0, 0.0, 0.5, 0.0], atol=1e-15)


def test_cosine_and_angular_zero_vectors_are_never_nan():
    A = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, -3.0]])
    C = CosineMetric().pairwise(A)
    G = AngularMetric().pairwise(A)
    assert np.isfinite(C).all() and np.isfinite(G).all()
    assert C[0, 0] == 0.0 and G[0, 0] == 0.0
    np.testing.assert_array_equal(C[0, 1:], [1.0, 1.0])
    np.testing.assert_array_equal(G[0, 1:], [0.5, 0.5])
    # Rectangular calls use the same convention.
    np.testing.assert_array_equal(CosineMetric().pairwise(A[:1], A), C[:1])
    np.testing.assert_array_equal(AngularMetric().pairwise(A, A[:1]), G[:, :1])


def test_standardized_euclidean_matches_cdist_seuclidean(features):
    A, B = features
    both = np.vstack([A, B])
    expected = cdist(A, B, "seuclidean", V=both.var(axis=0))
    got = StandardizedEuclideanMetric().pairwise(A, B)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # Without B, the variances come from A alone.
    expected = cdist(A, A, "seuclidean", V=A.var(axis=0))
    got = StandardizedEuclideanMetric().pairwise(A)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # Given variances are used as they are.
    V = np.array([2.0, 0.5, 3.0])
    got = StandardizedEuclideanMetric(variances=V).pairwise(A, B)
    np.testing.assert_allclose(got, cdist(A, B, "seuclidean", V=V), rtol=1e-12)


def test_standardized_euclidean_scale_depends_on_the_tasks_compared(features):
    A, _ = features
    full = StandardizedEuclideanMetric().pairwise(A)
    part = StandardizedEuclideanMetric().pairwise(A[:3])
    assert not np.allclose(full[:3, :3], part)
    fixed = StandardizedEuclideanMetric(variances=A.var(axis=0))
    np.testing.assert_allclose(fixed.pairwise(A[:3]), full[:3, :3], rtol=1e-12)
    # Repeating the rows does not change the population variance.
    np.testing.assert_allclose(
        StandardizedEuclideanMetric().pairwise(A, A), full, rtol=1e-12, atol=1e-14
    )


def test_standardized_euclidean_zero_variance_scales_by_one():
    A = np.array([[1.0, 0.1], [3.0, 0.1], [5.0, 0.1]])  # constant second feature
    D = StandardizedEuclideanMetric().pairwise(A)
    assert np.isfinite(D).all()
    np.testing.assert_allclose(D, cdist(A[:, :1], A[:, :1]) / A[:, 0].std())
    D = StandardizedEuclideanMetric(variances=[4.0, 0.0]).pairwise(A, [[1.0, 1.1]])
    np.testing.assert_allclose(
        D.ravel(), np.sqrt(np.array([0.0, 2.0, 4.0]) ** 2 / 4 + 1)
    )


@pytest.mark.parametrize("metric", FEATURE_METRICS, ids=_ids(FEATURE_METRICS))
def test_feature_metric_exact_zero_diagonal_and_symmetry(metric):
    rng = np.random.default_rng(1)
    A = rng.normal(size=(9, 3)) * 1e3
    A[5] = A[2]  # a repeated task
    D = metric.pairwise(A)
    assert D.shape == (9, 9)
    assert (np.diag(D) == 0).all()
    assert D[2, 5] == 0 and D[5, 2] == 0
    np.testing.assert_array_equal(D, D.T)
    assert (D >= 0).all()


@pytest.mark.parametrize("metric", FEATURE_METRICS, ids=_ids(FEATURE_METRICS))
def test_feature_metric_rectangular_and_order(metric, features):
    A, B = features
    both = np.vstack([A, B])
    full = metric.pairwise(both)
    R = metric.pairwise(A, B)
    assert R.shape == (A.shape[0], B.shape[0])
    np.testing.assert_allclose(R, full[: A.shape[0], A.shape[0] :], rtol=1e-12)
    np.testing.assert_allclose(metric.pairwise(B, A), R.T, rtol=1e-12)
    perm = np.random.default_rng(0).permutation(both.shape[0])
    np.testing.assert_allclose(
        metric.pairwise(both[perm]), full[np.ix_(perm, perm)], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e150, 1e300])
@pytest.mark.parametrize("metric", FEATURE_METRICS, ids=_ids(FEATURE_METRICS))
def test_feature_metrics_are_finite_and_exact_at_extreme_scales(
    metric, scale, features
):
    A, B = features
    invariant = isinstance(metric, (CosineMetric, AngularMetric)) or (
        isinstance(metric, StandardizedEuclideanMetric) and metric.variances is None
    )
    degree = 0.0 if invariant else 1.0  # the L_p distances are homogeneous
    for args in ((A,), (A, B)):
        D = metric.pairwise(*(a * scale for a in args))
        reference = metric.pairwise(*args) * scale**degree
        assert np.isfinite(D).all()
        np.testing.assert_allclose(D, reference, rtol=1e-9, atol=0)


def test_standardized_euclidean_scales_each_column_on_its_own():
    # Columns at 1e-300 and 1e300 at once: each is standardised exactly.
    rng = np.random.default_rng(24)
    A = rng.normal(size=(6, 2))
    D = StandardizedEuclideanMetric().pairwise(A * [1e-300, 1e300])
    np.testing.assert_allclose(D, StandardizedEuclideanMetric().pairwise(A), rtol=1e-12)


def test_lp_distances_beyond_the_float_range_are_refused():
    A = np.array([[-1.5e308, 0.0], [1.5e308, 0.0]])
    for metric in (EuclideanMetric(), ManhattanMetric(), MinkowskiMetric(p=3)):
        with pytest.raises(
            ValueError, match=rf"'{metric.name}': the distances overflow"
        ):
            metric.pairwise(A)
    metric = StandardizedEuclideanMetric(variances=[1e-300, 1.0])
    with pytest.raises(ValueError, match="divided by their standard deviations"):
        metric.pairwise(A * 1e-10)


@pytest.mark.parametrize("p", [0.5, 0, -1, np.nan, "2", True, None])
def test_minkowski_refuses_p_below_one(p):
    with pytest.raises(ValueError, match=r"metric 'minkowski': p must be .*>= 1"):
        MinkowskiMetric(p=p).pairwise([[0.0, 1.0], [1.0, 0.0]])


def test_minkowski_p_below_one_breaks_the_triangle_inequality():
    # The reason p < 1 is refused, as the error message says.
    def lp(u, v, p=0.5):
        return (np.abs(np.subtract(u, v)) ** p).sum() ** (1 / p)

    assert lp([0, 0], [1, 1]) > lp([0, 0], [1, 0]) + lp([1, 0], [1, 1])


@pytest.mark.parametrize(
    ("variances", "match"),
    [
        ([1.0, -1.0, 1.0], "must not be negative"),
        ([1.0, 2.0], "3 finite numbers"),
        ([1.0, np.nan, 1.0], "3 finite numbers"),
        ([[1.0, 1.0, 1.0]], "3 finite numbers"),
    ],
)
def test_standardized_euclidean_bad_variances(features, variances, match):
    A, _ = features
    with pytest.raises(ValueError, match=rf"'standardized_euclidean': .*{match}"):
        StandardizedEuclideanMetric(variances=variances).pairwise(A)


def test_feature_metric_input_errors():
    metric = ManhattanMetric()
    with pytest.raises(ValueError, match="'manhattan': A contains NaN"):
        metric.pairwise([[0.0, np.nan]])
    with pytest.raises(ValueError, match="'manhattan': A has 2 task features but B"):
        metric.pairwise([[0.0, 1.0]], [[0.0, 1.0, 2.0]])


# -- counter-examples to every undeclared axiom ------------------------------------
def test_cosine_breaks_identity_and_triangle():
    e1, e2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    u = (e1 + e2) / np.sqrt(2)
    D = CosineMetric().pairwise(np.vstack([e1, u, e2, 2 * e1]))
    assert D[0, 3] == 0.0  # e1 and 2 e1 differ
    assert D[0, 2] > D[0, 1] + D[1, 2] + 0.4  # 1 > 2 - sqrt(2)


def test_angular_breaks_identity_only():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert AngularMetric().pairwise(a)[0, 1] == 0.0


def test_mmd_random_features_breaks_identity():
    # With one frequency w in 1-D, the features (cos wx, sin wx) are periodic:
    # a task at 0 and a task at one period 2 pi / |w| have the same features.
    metric = MMDMetric(gamma=1.0, method="random_features", n_components=2)
    x = 1e-3  # d({x, x}, {0, 0})^2 = 2 - 2 cos(w x) reveals |w|
    probe = metric.pairwise([[0.0], [0.0], [x], [x]], [0, 0, 1, 1])[0, 1]
    w = np.arccos(1.0 - probe**2 / 2.0) / x
    period = 2 * np.pi / w
    X = np.array([[0.0], [0.0], [period], [period]])
    assert metric.pairwise(X, [0, 0, 1, 1])[0, 1] < 1e-3 * probe
    assert MMDMetric(gamma=1.0).pairwise(X, [0, 0, 1, 1])[0, 1] > 1.0


def test_sliced_wasserstein_breaks_identity():
    # Moving rows orthogonally to the only direction leaves every projection.
    metric = SlicedWassersteinMetric(n_projections=1, n_quantiles=4)
    theta = metric.projection_directions(2)[:, 0]
    normal = np.array([-theta[1], theta[0]])
    A = np.array([[0.0, 0.0], [1.0, 2.0]])
    X = np.vstack([A, A + 5 * normal])
    assert metric.pairwise(X, [0, 0, 1, 1])[0, 1] < 1e-12
    assert EnergyMetric().pairwise(X, [0, 0, 1, 1])[0, 1] > 1.0


# -- sample metrics against per-pair loops ---------------------------------------------
@pytest.mark.parametrize("block_size", [1, 3, 7, 64, 1024])
def test_mmd_exact_matches_loop(block_size):
    X, tasks = _random_tasks(seed=1)
    metric = MMDMetric(gamma=0.3, block_size=block_size)
    expected = _loop_reference(X, tasks, X, tasks, _mmd_pair(0.3))
    D = metric.pairwise(X, tasks)
    off = ~np.eye(D.shape[0], dtype=bool)  # the loop's diagonal is rounding noise
    np.testing.assert_allclose(D[off], expected[off], rtol=1e-10, atol=1e-12)
    # Rectangular: the first tasks against all.
    first = np.isin(tasks, ["task0", "task1", "task2"])
    R = metric.pairwise(X[first], tasks[first], X, tasks)
    assert R.shape == (3, 6)
    np.testing.assert_allclose(R, D[:3], rtol=1e-10, atol=2e-7)


@pytest.mark.parametrize("block_size", [1, 4, 1024])
def test_energy_matches_loop(block_size):
    X, tasks = _random_tasks(seed=2)
    metric = EnergyMetric(block_size=block_size)
    expected = _loop_reference(X, tasks, X, tasks, _energy_pair)
    D = metric.pairwise(X, tasks)
    np.testing.assert_allclose(D, expected, rtol=1e-10, atol=1e-12)
    last = np.isin(tasks, ["task4", "task5"])
    R = metric.pairwise(X, tasks, X[last], tasks[last])
    np.testing.assert_allclose(R, D[:, 4:], rtol=1e-10, atol=2e-7)


def test_energy_matches_scipy_in_one_dimension():
    rng = np.random.default_rng(4)
    u, v = rng.normal(size=11), rng.exponential(size=7)
    X = np.concatenate([u, v])[:, None]
    D = EnergyMetric().pairwise(X, [0] * 11 + [1] * 7)
    np.testing.assert_allclose(D[0, 1], energy_distance(u, v), rtol=1e-12)


def test_energy_is_accurate_for_equal_tasks_far_from_the_origin():
    # |x - y| from |x|^2 + |y|^2 - 2 x.y would leave ~1e-4 here; the small
    # distances are recomputed from the rows.
    rng = np.random.default_rng(5)
    A = rng.normal(size=(30, 4)) * 1e-3 + 1e3
    X = np.vstack([A, A[::-1], A + 1e-3])
    tasks = np.repeat([0, 1, 2], 30)
    for block_size in (7, 1024):
        metric = EnergyMetric(block_size=block_size)
        D = metric.pairwise(X, tasks)
        assert D[0, 1] < 1e-7
        R = metric.pairwise(X[:30], tasks[:30], X, tasks)
        assert R[0, 0] < 1e-7 and R[0, 1] < 1e-7
        np.testing.assert_allclose(R[0, 2], D[0, 2], rtol=1e-6)


@pytest.mark.parametrize("n_quantiles", [60, 120])
def test_sliced_wasserstein_matches_pot(n_quantiles):
    # Sizes 10, 12, 15 and 20 divide n_quantiles: the quantile rule is exact.
    rng = np.random.default_rng(6)
    sizes = [10, 12, 15, 20]
    X = np.vstack([rng.normal(i, 1 + i, (s, 3)) for i, s in enumerate(sizes)])
    tasks = np.repeat([0, 1, 2, 3], sizes)
    metric = SlicedWassersteinMetric(n_projections=16, n_quantiles=n_quantiles)
    theta = metric.projection_directions(3)

    def pot(A, B):
        return ot.sliced_wasserstein_distance(A, B, projections=theta, p=2)

    expected = _loop_reference(X, tasks, X, tasks, pot)
    np.testing.assert_allclose(metric.pairwise(X, tasks), expected, rtol=1e-10)
    R = metric.pairwise(X[tasks == 3], tasks[tasks == 3], X, tasks)
    np.testing.assert_allclose(R, expected[3:], rtol=1e-10)


def test_sliced_wasserstein_in_one_dimension_is_wasserstein_2():
    rng = np.random.default_rng(7)
    u, v = rng.normal(size=9), rng.exponential(size=6)
    X = np.concatenate([u, v])[:, None]
    exact = np.sqrt(ot.lp.wasserstein_1d(u, v, p=2))
    D = SlicedWassersteinMetric(n_projections=3, n_quantiles=18).pairwise(
        X, [0] * 9 + [1] * 6
    )
    np.testing.assert_allclose(D[0, 1], exact, rtol=1e-12)
    # A grid that does not fit both sizes converges to the same value.
    errors = [
        abs(
            SlicedWassersteinMetric(n_projections=1, n_quantiles=q).pairwise(
                X, [0] * 9 + [1] * 6
            )[0, 1]
            - exact
        )
        for q in (7, 70, 700)
    ]
    assert errors[2] < errors[0] and errors[2] < 1e-2 * exact


def test_mmd_random_features_approaches_exact():
    X, tasks = _random_tasks(seed=8, n_tasks=5, min_rows=20, max_rows=30)
    exact = MMDMetric(gamma=0.2).pairwise(X, tasks)
    errors = [
        np.abs(
            MMDMetric(gamma=0.2, method="random_features", n_components=n).pairwise(
                X, tasks
            )
            - exact
        ).max()
        for n in (20, 20000)
    ]
    assert errors[1] < errors[0]
    assert errors[1] < 0.05 * exact.max()


def test_mmd_random_features_rectangular_matches_square():
    X, tasks = _random_tasks(seed=9)
    metric = MMDMetric(gamma=0.5, method="random_features", n_components=50)
    D = metric.pairwise(X, tasks)
    first = np.isin(tasks, ["task0", "task3"])
    R = metric.pairwise(X[first], tasks[first], X, tasks)
    # Equal up to the single-precision rounding of the features.
    np.testing.assert_allclose(R, D[[0, 3]], rtol=1e-6, atol=1e-7)


# -- properties every sample metric shares -----------------------------------------
@pytest.mark.parametrize("metric", SAMPLE_METRICS, ids=_ids(SAMPLE_METRICS))
def test_sample_metric_exact_zero_diagonal_and_symmetry(metric):
    X, tasks = _random_tasks(seed=10)
    D = metric.pairwise(X, tasks)
    assert D.shape == (6, 6) and D.dtype == float
    assert (np.diag(D) == 0).all()
    np.testing.assert_array_equal(D, D.T)
    assert (D >= 0).all()
    assert (D[~np.eye(6, dtype=bool)] > 0).all()


@pytest.mark.parametrize("metric", SAMPLE_METRICS, ids=_ids(SAMPLE_METRICS))
def test_sample_metric_invariant_to_row_and_task_order(metric):
    X, tasks = _random_tasks(seed=11)
    D = metric.pairwise(X, tasks)
    perm = np.random.default_rng(0).permutation(X.shape[0])
    np.testing.assert_allclose(
        metric.pairwise(X[perm], tasks[perm]), D, rtol=1e-10, atol=1e-12
    )
    # Relabel so that the sorted order of the tasks is reversed.
    relabel = {f"task{t}": f"z{9 - t}" for t in range(6)}
    renamed = np.array([relabel[t] for t in tasks])
    np.testing.assert_allclose(
        metric.pairwise(X, renamed), D[::-1, ::-1], rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("metric", SAMPLE_METRICS, ids=_ids(SAMPLE_METRICS))
def test_sample_metric_rectangular_blocks(metric):
    X, tasks = _random_tasks(seed=12)
    D = metric.pairwise(X, tasks)
    a = np.isin(tasks, ["task1", "task4"])
    R = metric.pairwise(X[a], tasks[a], X[~a], tasks[~a])
    assert R.shape == (2, 4)
    np.testing.assert_allclose(R, D[np.ix_([1, 4], [0, 2, 3, 5])], rtol=1e-9, atol=1e-8)
    R2 = metric.pairwise(X[~a], tasks[~a], X[a], tasks[a])
    np.testing.assert_allclose(R2, R.T, rtol=1e-9, atol=1e-8)
    # A task compared with a copy of itself, as unseen target vs source.
    S = metric.pairwise(X, tasks, X, tasks)
    np.testing.assert_allclose(S, D, rtol=1e-9, atol=1e-7)


@pytest.mark.parametrize("metric", SAMPLE_METRICS[:2] + SAMPLE_METRICS[3:5])
def test_blocked_metrics_parallel_threads_agree(metric):
    X, tasks = _random_tasks(seed=13, n_tasks=9)
    serial = metric.pairwise(X, tasks)
    parallel = clone(metric).set_params(n_jobs=2, block_size=4)
    np.testing.assert_allclose(
        parallel.pairwise(X, tasks), serial, rtol=1e-12, atol=1e-12
    )


# -- extreme scales ------------------------------------------------------------------
SCALES = [1e-300, 1e-160, 1e150, 1e300]


def _degree(metric):
    """How a sample metric scales with the rows: d(cX) = c ** degree d(X)."""
    if isinstance(metric, EnergyMetric):
        return 0.5
    if isinstance(metric, SlicedWassersteinMetric):
        return 1.0
    return 0.0 if metric.gamma == "median" else None


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("metric", SAMPLE_METRICS, ids=_ids(SAMPLE_METRICS))
def test_sample_metrics_are_finite_and_exact_at_extreme_scales(metric, scale):
    X, tasks = _random_tasks(seed=21)
    D = metric.pairwise(X * scale, tasks)
    assert np.isfinite(D).all() and (np.diag(D) == 0).all()
    reference = metric.pairwise(X, tasks)
    degree = _degree(metric)
    if degree is not None:  # scale invariant (MMD, median width) or homogeneous
        np.testing.assert_allclose(D, reference * scale**degree, rtol=1e-9, atol=0)
        assert metric.pairwise(X * scale, tasks, X * scale, tasks).shape == D.shape
        return
    # A fixed width: far beyond the data's scale the kernel is 0 between distinct
    # rows (d^2 = 1/n_a + 1/n_b); far below it, d^2 = 2 gamma |mean_a - mean_b|^2.
    index = check_tasks(tasks, len(tasks))
    if scale > 1:
        inverse = 1.0 / index.counts
        expected = np.sqrt(inverse[:, None] + inverse[None, :])
    else:
        means = index.mean(X)
        expected = np.sqrt(2 * metric.gamma) * cdist(means, means) * scale
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(D, expected, rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    ("gamma", "scale"), [(1e300, 1e-160), (1e-300, 1e150), (1e-20, 1e-5), (4.0, 0.5)]
)
@pytest.mark.parametrize("method", ["exact", "random_features"])
def test_mmd_fixed_width_depends_on_gamma_times_squared_scale(gamma, scale, method):
    # d_gamma(c X) = d_{gamma c^2}(X): every regime of the kernel (folded exp,
    # expm1 for a tiny width) computes the same function.
    X, tasks = _random_tasks(seed=22)
    metric = MMDMetric(gamma=gamma, method=method, n_components=64)
    width = gamma * scale * scale  # (not scale**2, which underflows at 1e-160)
    reference = MMDMetric(gamma=width, method=method, n_components=64)
    D = metric.pairwise(X * scale, tasks)
    assert np.isfinite(D).all() and (D[~np.eye(6, dtype=bool)] > 0).all()
    np.testing.assert_allclose(D, reference.pairwise(X, tasks), rtol=1e-9, atol=0)


def test_mmd_huge_width_keeps_duplicate_rows_equal():
    # With gamma |x|^2 ~ 1e12 the expansion of |x - y|^2 rounds to about 1e-4 of
    # gamma: rows shared by two tasks must still have kernel exactly 1.
    rng = np.random.default_rng(23)
    shared = rng.normal(size=(4, 3))
    X = np.vstack([shared, rng.normal(size=(3, 3)), shared, rng.normal(size=(3, 3))])
    tasks = np.repeat(["a", "b"], 7)
    D = MMDMetric(gamma=1e12).pairwise(X, tasks)
    # 4 of 7 rows shared, all others at kernel 0: d^2 = 1/7 + 1/7 - 2 * 4/49.
    np.testing.assert_allclose(D[0, 1], np.sqrt(2 / 7 - 8 / 49), rtol=1e-12)


def test_mmd_median_gamma_out_of_range_is_refused():
    X = np.array([[0.0], [1.0], [3.0]])
    assert MMDMetric().median_gamma(X * 1e100) == pytest.approx(1 / 8 * 1e-200)
    with pytest.raises(ValueError, match=r"'mmd': the median-heuristic gamma.*scale"):
        MMDMetric().median_gamma(X * 1e-160)


def test_sliced_wasserstein_refuses_distances_beyond_the_float_range():
    X = np.array([[-1.7e308], [-1.6e308], [1.6e308], [1.7e308]])
    with pytest.raises(
        ValueError, match=r"'sliced_wasserstein': the distances overflow.*scale"
    ):
        SlicedWassersteinMetric(n_projections=2).pairwise(X, [0, 0, 1, 1])


def test_sample_metrics_through_task_distances():
    X, tasks = _random_tasks(seed=14)
    for name in ("mmd", "energy", "sliced_wasserstein"):
        result = task_distances(X, tasks=tasks, metric=name)
        np.testing.assert_array_equal(result.labels, np.unique(tasks))
        assert result.task_features is None
        np.testing.assert_allclose(
            result.distances, resolve_metric(name).pairwise(X, tasks)
        )


# -- the median heuristic ----------------------------------------------------------
def test_median_gamma_small_sample():
    # squared distances 1, 9, 16 -> median 9 -> gamma 1/18
    assert MMDMetric().median_gamma([[0.0], [1.0], [4.0]]) == pytest.approx(1 / 18)


def test_median_gamma_depends_on_the_set_of_rows_only():
    rng = np.random.default_rng(15)
    for n in (50, 2500):  # without and with the subsample
        X = rng.normal(size=(n, 2))
        gamma = MMDMetric().median_gamma(X)
        assert MMDMetric().median_gamma(X[::-1]) == gamma
        assert MMDMetric().median_gamma(X, X) == gamma
        assert MMDMetric().median_gamma(X[: n // 3], X[n // 3 :]) == gamma
    assert MMDMetric().median_gamma([[2.0, 2.0], [2.0, 2.0]]) == 1.0


def test_mmd_median_equals_the_float_it_computes():
    X, tasks = _random_tasks(seed=16)
    gamma = MMDMetric().median_gamma(X)
    np.testing.assert_allclose(
        MMDMetric().pairwise(X, tasks), MMDMetric(gamma=gamma).pairwise(X, tasks)
    )


# -- errors -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "metric", [MMDMetric(), EnergyMetric(), SlicedWassersteinMetric()]
)
def test_sample_metric_needs_two_rows_per_task(metric):
    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(
        ValueError, match=rf"at least 2 rows for metric '{metric.name}'; task 'b'"
    ):
        metric.pairwise(X, ["a", "a", "b", "c", "c"])
    with pytest.raises(ValueError, match="task 'z'"):
        metric.pairwise(X[:2], ["a", "a"], X[2:], ["z", "y", "y"])


@pytest.mark.parametrize(
    "metric", [MMDMetric(), EnergyMetric(), SlicedWassersteinMetric()]
)
def test_too_few_rows_of_some_tasks_name_their_labels(metric):
    # New tasks taken out of a larger grouping (as at predict time) keep their
    # labels: the message names 'brand_new', not an internal task number.
    X = np.arange(14.0).reshape(7, 2)
    tasks = ["old", "brand_new", "old", "other", "other", "zz", "zz"]
    index = check_tasks(tasks, 7)
    rows, new = index.subset(np.flatnonzero(index.counts < 2))
    assert new.labels.tolist() == ["brand_new"]
    rows_fitted, fitted = index.subset([1, 2, 3])
    with pytest.raises(ValueError, match=r"task 'brand_new' \(1 row\) has fewer"):
        metric.pairwise(X[rows], new, X[rows_fitted], fitted)
    tuples = check_tasks([(0, "a"), (0, "a"), (1, "b")], 3)
    with pytest.raises(ValueError, match=r"task \(1, 'b'\) \(1 row\) has fewer"):
        metric.pairwise(X[:3], tuples)


@pytest.mark.parametrize(
    "metric", [MMDMetric(), EnergyMetric(), SlicedWassersteinMetric()]
)
def test_sample_metric_input_errors(metric):
    X = np.arange(12.0).reshape(6, 2)
    tasks = [0, 0, 0, 1, 1, 1]
    bad = X.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=rf"'{metric.name}': X contains NaN"):
        metric.pairwise(bad, tasks)
    with pytest.raises(ValueError, match=rf"'{metric.name}': X_other contains NaN"):
        metric.pairwise(X, tasks, bad, tasks)
    with pytest.raises(ValueError, match=r"X has 2 features but X_other has 3"):
        metric.pairwise(X, tasks, np.ones((6, 3)), tasks)
    with pytest.raises(ValueError, match="tasks has 5 labels but X has 6 rows"):
        metric.pairwise(X, tasks[:5])


@pytest.mark.parametrize(
    ("metric", "param"),
    [
        (MMDMetric(gamma=0.0), "gamma"),
        (MMDMetric(gamma=-1.0), "gamma"),
        (MMDMetric(gamma=np.inf), "gamma"),
        (MMDMetric(gamma="mean"), "gamma"),
        (MMDMetric(gamma=True), "gamma"),
        (MMDMetric(method="fast"), "method"),
        (MMDMetric(method="random_features", n_components=0), "n_components"),
        (MMDMetric(block_size=0), "block_size"),
        (MMDMetric(block_size=2.5), "block_size"),
        (EnergyMetric(block_size=-3), "block_size"),
        (EnergyMetric(n_jobs=0), "n_jobs"),
        (MMDMetric(n_jobs=1.5), "n_jobs"),
        (SlicedWassersteinMetric(n_projections=0), "n_projections"),
        (SlicedWassersteinMetric(n_quantiles=1.0), "n_quantiles"),
    ],
    ids=lambda v: repr(v) if not isinstance(v, str) else v,
)
def test_sample_metric_bad_parameters(metric, param):
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match=rf"metric '{metric.name}': {param} must"):
        metric.pairwise(X, [0, 0, 0, 1, 1, 1])


def test_metric_families():
    for metric in FEATURE_METRICS:
        assert isinstance(metric, FeatureMetric) and metric.space == "features"
    for metric in SAMPLE_METRICS:
        assert isinstance(metric, SampleMetric) and metric.space == "samples"
        assert metric.min_rows == 2
