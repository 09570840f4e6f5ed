import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import rankdata, wasserstein_distance
from sk_metameta_ot import OTDDMetric, WassersteinMetric
from sk_metameta_ot._ot import uniform_emd2
from sk_metameta_ot._otdd import _within_task_quantile_bins
from sklearn.base import clone

from sk_metameta import check_tasks
from sk_metameta.metrics import METRIC, PSEUDOMETRIC
from sk_metameta.testing import check_metric, check_plugin

RTOL, ATOL = 1e-9, 1e-9

coords = st.floats(
    -10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False
)
# Axiom tests draw points on a grid of step 1/4: a non-zero squared distance is then
# at least 1/16, so an exact LP solution is exact in floating point too. (On
# arbitrary floats, the square root of an LP cost near 0 is only accurate to about
# sqrt(machine epsilon) times the data's scale.)
grid = st.integers(-40, 40).map(lambda k: k / 4)


@st.composite
def three_tasks(draw, max_rows=6, with_y=False):
    """Three tasks of 1..max_rows rows in one X, with their labels (and classes)."""
    n_features = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, max_rows), min_size=3, max_size=3))
    X = draw(arrays(float, (sum(sizes), n_features), elements=grid))
    tasks = np.repeat([0, 1, 2], sizes)
    if not with_y:
        return X, tasks
    y = np.array(draw(st.lists(st.integers(0, 2), min_size=len(X), max_size=len(X))))
    return X, tasks, y


def assert_triangle(D):
    """d(a, c) <= d(a, b) + d(b, c) for every triple, up to rounding."""
    lhs = D[:, None, :]
    rhs = D[:, :, None] + D[None, :, :]
    assert np.all(lhs <= rhs + ATOL + RTOL * np.abs(rhs))


# -- Wasserstein -------------------------------------------------------------------
def test_declares_metric_axioms():
    assert WassersteinMetric.axioms == METRIC
    assert WassersteinMetric().axiom_class == "metric"
    assert WassersteinMetric.space == "samples"
    assert not WassersteinMetric.requires_y


@given(
    a=arrays(float, 7, elements=coords),
    b=arrays(float, 7, elements=coords),
    p=st.sampled_from([1, 1.5, 2, 3]),
)
def test_1d_equal_sizes_matches_sorted_matching(a, b, p):
    # In 1-D with equal sizes the optimal coupling matches sorted samples.
    expected_cost = np.mean(np.abs(np.sort(a) - np.sort(b)) ** p)
    X = np.concatenate([a, b])[:, None]
    D = WassersteinMetric(p=p).pairwise(X, np.repeat(["a", "b"], 7))
    np.testing.assert_allclose(D[0, 1] ** p, expected_cost, rtol=1e-7, atol=1e-9)


@given(
    a=arrays(float, st.integers(1, 9), elements=coords),
    b=arrays(float, st.integers(1, 9), elements=coords),
)
def test_w1_matches_scipy_for_unequal_sizes(a, b):
    X = np.concatenate([a, b])[:, None]
    tasks = np.repeat([0, 1], [a.size, b.size])
    D = WassersteinMetric(p=1).pairwise(X, tasks)
    np.testing.assert_allclose(D[0, 1], wasserstein_distance(a, b), atol=1e-8)


def test_w2_between_shifted_clouds_is_the_shift():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 3))
    shift = np.array([3.0, -4.0, 0.0])
    X = np.vstack([A, A + shift])
    D = WassersteinMetric().pairwise(X, np.repeat(["a", "b"], 20))
    np.testing.assert_allclose(D, [[0, 5], [5, 0]], atol=1e-9)


@given(data=three_tasks(), p=st.sampled_from([1, 2, 3]))
def test_wasserstein_axioms(data, p):
    X, tasks = data
    D = WassersteinMetric(p=p).pairwise(X, tasks)
    assert np.all(D >= 0)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    np.testing.assert_array_equal(D, D.T)
    assert_triangle(D)


@given(data=three_tasks())
def test_wasserstein_identity_of_indiscernibles(data):
    X, tasks = data
    D = WassersteinMetric().pairwise(X, tasks)
    for i in range(3):
        for j in range(3):
            if _same_distribution(X[tasks == i], X[tasks == j]):
                assert D[i, j] <= 1e-9
            else:
                assert D[i, j] > 0


def _same_distribution(A, B):
    """Equal empirical distributions: same distinct rows with the same frequencies."""
    ua, ca = np.unique(A, axis=0, return_counts=True)
    ub, cb = np.unique(B, axis=0, return_counts=True)
    return (
        ua.shape == ub.shape
        and np.array_equal(ua, ub)
        and np.allclose(ca / ca.sum(), cb / cb.sum())
    )


def test_wasserstein_zero_for_same_distribution_with_repeats():
    X = np.array([[0.0], [1.0], [0.0], [0.0], [1.0], [1.0]])
    D = WassersteinMetric().pairwise(X, ["a", "a", "b", "b", "b", "b"])
    np.testing.assert_allclose(D, 0.0, atol=1e-12)


@given(data=three_tasks(), p=st.sampled_from([1, 2]))
def test_rectangular_form_matches_square_form(data, p):
    X, tasks = data
    metric = WassersteinMetric(p=p)
    D = metric.pairwise(X, tasks)
    other = np.isin(tasks, [0, 2])
    R = metric.pairwise(X, tasks, X[other], tasks[other])
    np.testing.assert_allclose(R, D[:, [0, 2]], rtol=1e-9, atol=1e-9)


def test_squared_w2_breaks_the_triangle_inequality():
    # A test of the test: W2**2 is no metric and assert_triangle must say so.
    X = np.array([[0.0], [1.0], [2.0]])
    D = WassersteinMetric().pairwise(X, [0, 1, 2]) ** 2
    with pytest.raises(AssertionError):
        assert_triangle(D)
    assert_triangle(np.sqrt(D))


@pytest.mark.parametrize("p", [0.5, 0, -1, np.inf, np.nan, "2", True, None])
def test_wasserstein_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must be a real number >= 1"):
        WassersteinMetric(p=p).pairwise([[0.0], [1.0]], [0, 1])


def test_wasserstein_clones_and_names():
    metric = clone(WassersteinMetric(p=3))
    assert metric.get_params() == {"p": 3}
    assert metric.name == "wasserstein"


def test_wasserstein_accepts_a_task_index_and_sorts_labels():
    X = np.array([[5.0], [0.0], [6.0], [1.0]])
    tasks = ["z", "a", "z", "a"]
    D = WassersteinMetric().pairwise(X, check_tasks(tasks))
    np.testing.assert_allclose(D, [[0, 5], [5, 0]])


def test_solver_failure_is_a_clear_error(monkeypatch):
    import ot

    def not_optimal(a, b, M, numItermax, log, **options):
        return 0.0, {"result_code": 3, "warning": "numItermax reached"}

    monkeypatch.setattr(ot, "emd2", not_optimal)
    with pytest.raises(RuntimeError, match=r"tasks 'a' and 'b'.*numItermax"):
        WassersteinMetric().pairwise([[0.0], [1.0], [2.0], [3.0]], list("aabb"))


@given(
    point=arrays(float, (1, 2), elements=coords),
    others=arrays(float, st.tuples(st.integers(1, 6), st.just(2)), elements=coords),
)
def test_one_row_tasks_take_the_only_coupling(point, others):
    # A task of one row is a Dirac: its only coupling spreads it over the other
    # task's rows, and W2^2 is the mean squared distance, also from the LP solver.
    X = np.vstack([point, others])
    tasks = np.r_[0, np.ones(len(others), dtype=int)]
    expected = np.mean(np.sum((others - point) ** 2, axis=1))
    D = WassersteinMetric().pairwise(X, tasks)
    np.testing.assert_allclose(D[0, 1] ** 2, expected, rtol=1e-9, atol=1e-12)
    import ot

    cost = np.sum((point[:, None] - others[None]) ** 2, axis=-1)
    by_pot = ot.emd2(np.ones(1), np.full(len(others), 1 / len(others)), cost)
    assert uniform_emd2(cost, what="x") == pytest.approx(by_pot, rel=1e-9, abs=1e-12)


def test_uniform_emd2_clips_rounding_below_zero():
    assert uniform_emd2(np.zeros((2, 3)), what="x") == 0.0


# -- OTDD --------------------------------------------------------------------------
def test_otdd_declares_pseudometric_and_needs_y():
    assert OTDDMetric.axioms == PSEUDOMETRIC
    assert OTDDMetric().axiom_class == "pseudometric"
    assert OTDDMetric.requires_y
    with pytest.raises(ValueError, match="needs y"):
        OTDDMetric().pairwise([[0.0], [1.0]], [0, 1])


@given(data=three_tasks(with_y=True), weight=st.sampled_from([0.0, 0.5, 1.0, 4.0]))
def test_otdd_pseudometric_axioms(data, weight):
    X, tasks, y = data
    D = OTDDMetric(label_weight=weight).pairwise(X, tasks, y=y, y_other=y)
    assert np.all(D >= 0)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    np.testing.assert_array_equal(D, D.T)
    assert_triangle(D)


@given(data=three_tasks(with_y=True))
def test_otdd_rectangular_form_matches_square_form(data):
    X, tasks, y = data
    metric = OTDDMetric()
    D = metric.pairwise(X, tasks, y=y, y_other=y)
    other = tasks != 1
    R = metric.pairwise(X, tasks, X[other], tasks[other], y=y, y_other=y[other])
    np.testing.assert_allclose(R, D[:, [0, 2]], rtol=1e-9, atol=1e-9)


def test_otdd_is_not_a_metric_renamed_labels_are_at_distance_zero():
    # Why identity_of_indiscernibles is not declared: a counter-example.
    rng = np.random.default_rng(1)
    A = rng.normal(size=(12, 2))
    ya = rng.integers(0, 3, size=12)
    renamed = np.array([2, 0, 1])[ya]
    X = np.vstack([A, A])
    y = np.concatenate([ya, renamed])
    tasks = np.repeat(["a", "b"], 12)
    D = OTDDMetric().pairwise(X, tasks, y=y, y_other=y)
    np.testing.assert_allclose(D, 0.0, atol=1e-9)


def test_otdd_sees_labels_that_wasserstein_ignores():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(30, 2))
    y_a = (A[:, 0] > 0).astype(int)  # label follows feature 0
    y_b = (A[:, 1] > 0).astype(int)  # label follows feature 1
    X = np.vstack([A, A])
    y = np.concatenate([y_a, y_b])
    tasks = np.repeat([0, 1], 30)
    assert WassersteinMetric().pairwise(X, tasks)[0, 1] == pytest.approx(0, abs=1e-9)
    assert OTDDMetric().pairwise(X, tasks, y=y, y_other=y)[0, 1] > 0.1


def test_otdd_with_zero_label_weight_is_w2():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = rng.integers(0, 2, size=40)
    tasks = rng.integers(0, 4, size=40)
    D = OTDDMetric(label_weight=0.0).pairwise(X, tasks, y=y, y_other=y)
    np.testing.assert_allclose(D, WassersteinMetric().pairwise(X, tasks), atol=1e-9)


def test_otdd_label_term_by_hand():
    # a: class 0 at 0, class 1 at 1; b: both rows in one class. The label distance
    # is W2^2(delta_0, U{0, 1}) = W2^2(delta_1, U{0, 1}) = 1/2, matched rows cost 0.
    X = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array([0, 1, 5, 5])
    D = OTDDMetric(label_weight=2.0).pairwise(X, [0, 0, 1, 1], y=y, y_other=y)
    np.testing.assert_allclose(D[0, 1], np.sqrt(2.0 * 0.5))


def test_otdd_accepts_string_class_labels():
    X = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array(["no", "yes", "yes", "no"])
    D = OTDDMetric().pairwise(X, [0, 0, 1, 1], y=y, y_other=y)
    np.testing.assert_allclose(D, 0.0, atol=1e-12)


# -- OTDD on regression targets ----------------------------------------------------
@given(
    y=arrays(float, st.integers(1, 30), elements=st.integers(-3, 3).map(float)),
    n_bins=st.integers(1, 5),
    seed=st.integers(0, 10),
)
def test_within_task_quantile_bins_match_a_loop(y, n_bins, seed):
    tasks = np.random.default_rng(seed).integers(0, 3, size=y.size)
    index = check_tasks(tasks)
    got = _within_task_quantile_bins(y, index, n_bins)
    for t in range(index.n_tasks):
        rows = index.rows(t)
        rank = rankdata(y[rows], method="min") - 1
        np.testing.assert_array_equal(got[rows], rank * n_bins // rows.size)


def test_otdd_regression_sees_the_target_level_and_the_relation():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(24, 2))
    ya = A[:, 0] + 0.1 * rng.normal(size=24)
    X = np.vstack([A, A, A])
    # same relation with a shifted level; the reversed relation
    y = np.concatenate([ya, ya + 3.0, -ya])
    tasks = np.repeat([0, 1, 2], 24)
    D = OTDDMetric(bins=3).pairwise(X, tasks, y=y, y_other=y)
    # same rows in the same quantile bins: only the bins' mean targets differ, by 3
    assert D[0, 1] == pytest.approx(3.0)
    assert D[0, 2] > 0.5
    D = OTDDMetric(bins=[-1.0, 0.0, 1.0, 5.0]).pairwise(X, tasks, y=y, y_other=y)
    assert D[0, 1] > 2.0
    assert D[0, 2] > 0.5
    no_labels = OTDDMetric(bins=3, label_weight=0.0)
    np.testing.assert_allclose(
        no_labels.pairwise(X, tasks, y=y, y_other=y), 0.0, atol=1e-7
    )


def test_otdd_regression_bin_means_by_hand():
    # One bin per task: the label term is W2^2 of the features (0 here) plus the
    # squared difference of the mean targets.
    X = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array([0.5, 1.5, 2.5, 3.5])
    D = OTDDMetric(bins=1).pairwise(X, [0, 0, 1, 1], y=y, y_other=y)
    np.testing.assert_allclose(D[0, 1], 2.0)


def test_otdd_target_type_can_be_forced():
    X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]])
    y = np.array([0, 1, 2, 2, 1, 0])
    tasks = [0, 0, 0, 1, 1, 1]
    as_classes = OTDDMetric().pairwise(X, tasks, y=y, y_other=y)
    as_target = OTDDMetric(target_type="regression", bins=3).pairwise(
        X, tasks, y=y, y_other=y
    )
    # Classes are compared by their features: renamed classes are equal.
    assert as_classes[0, 1] == pytest.approx(0.0, abs=1e-12)
    # Bins of a target are ordered by value: a reversed relation is far.
    assert as_target[0, 1] > 0.5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"target_type": "ordinal"}, "target_type must be one of"),
        ({"bins": 0}, "bins must be >= 1"),
        ({"bins": [3.0, 1.0]}, "strictly increasing"),
        ({"bins": [[1.0]]}, "strictly increasing"),
        ({"label_weight": -1.0}, "label_weight must be a finite real >= 0"),
        ({"label_weight": np.nan}, "label_weight must be a finite real >= 0"),
    ],
)
def test_otdd_rejects_bad_params(params, message):
    with pytest.raises(ValueError, match=message):
        OTDDMetric(**params).pairwise([[0.0], [1.0]], [0, 1], y=[0, 1], y_other=[0, 1])


def test_otdd_rejects_bad_targets():
    X = [[0.0], [1.0]]
    with pytest.raises(ValueError, match="one value per row"):
        OTDDMetric().pairwise(X, [0, 1], y=[0, 1, 1], y_other=[0, 1, 1])
    with pytest.raises(ValueError, match="must be numeric"):
        OTDDMetric(target_type="regression").pairwise(
            X, [0, 1], y=["a", "b"], y_other=["a", "b"]
        )
    with pytest.raises(ValueError, match="NaN or infinity"):
        y = [0.5, np.nan]
        OTDDMetric(target_type="regression").pairwise(X, [0, 1], y=y, y_other=y)
    with pytest.raises(ValueError, match="y must be 1-D with one value per row"):
        y = [[0, 1], [1, 0]]
        OTDDMetric().pairwise(X, [0, 1], y=y, y_other=y)
    with pytest.raises(ValueError, match="1-D target"):
        y = np.array([0.5, "a"], dtype=object)
        OTDDMetric().pairwise(X, [0, 1], y=y, y_other=y)


# -- sk-metameta's conformance kit -----------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "metric",
    [WassersteinMetric(), WassersteinMetric(p=1), OTDDMetric()],
    ids=["w2", "w1", "otdd"],
)
def test_conformance_kit_accepts_the_declared_axioms(metric):
    check_metric(metric)


def test_conformance_kit_accepts_the_plugin():
    from sk_metameta_ot import plugin

    checked = check_plugin(plugin, max_examples=10)
    assert sorted(checked) == [("metric", "otdd"), ("metric", "wasserstein")]
