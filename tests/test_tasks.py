import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sk_metameta import TaskIndex, check_tasks


def test_labels_sorted_and_codes_consistent():
    index = check_tasks(["s2", "s1", "s2", "s3", "s1"], n_samples=5)
    assert index.labels.tolist() == ["s1", "s2", "s3"]
    assert index.codes.tolist() == [1, 0, 1, 2, 0]
    assert index.counts.tolist() == [2, 2, 1]
    assert index.offsets.tolist() == [0, 2, 4, 5]
    assert index.rows(0).tolist() == [1, 4]
    assert index.rows(1).tolist() == [0, 2]


def test_pandas_series_and_column_vector_are_accepted():
    pd = pytest.importorskip("pandas")
    index = check_tasks(pd.Series([3, 1, 3]), n_samples=3)
    assert index.labels.tolist() == [1, 3]
    index = check_tasks(np.array([[3], [1], [3]]), n_samples=3)
    assert index.labels.tolist() == [1, 3]


@pytest.mark.parametrize(
    ("tasks", "n", "match"),
    [
        ([1, 2], 3, "tasks has 2 labels but X has 3 rows"),
        ([], None, "tasks is empty"),
        ([1, None, 2], 3, "missing labels .* first at row 1"),
        ([1.0, np.nan], 2, "missing labels .* first at row 1"),
        (["a", 1], 2, "labels of one kind"),
        (np.zeros((2, 2)), 4, "1-D array-like"),
        (None, 3, "tasks is required"),
        ([[1, 2], 3], 2, "hashable"),
    ],
)
def test_bad_tasks_raise_clear_errors(tasks, n, match):
    if isinstance(tasks, list) and tasks and isinstance(tasks[0], list):
        tasks = np.array([[1, 2], 3], dtype=object)
    with pytest.raises(ValueError, match=match):
        check_tasks(tasks, n_samples=n)


def test_too_few_rows_names_the_task_and_purpose():
    with pytest.raises(ValueError, match=r"at least 3 rows for metric 'mmd'; task 'b'"):
        check_tasks(["a", "a", "a", "b"], 4, min_rows=3, purpose="metric 'mmd'")


@pytest.mark.parametrize(
    "tasks",
    [
        np.array(["a", "a", "a", "b"]),
        np.array(["a", "a", "a", "b"], dtype=object),
        pd.Series(["a", "a", "a", "b"], dtype="category"),
    ],
    ids=["str", "object", "category"],
)
def test_too_few_rows_message_shows_plain_labels_of_any_dtype(tasks):
    with pytest.raises(ValueError) as info:
        check_tasks(tasks, 4, min_rows=2)
    assert "task 'b' (1 row) has fewer" in str(info.value)


def test_too_few_tasks():
    with pytest.raises(ValueError, match="found 1 task"):
        check_tasks([1, 1], 2, min_tasks=2)


def test_encode_marks_unseen_and_can_refuse_them():
    index = check_tasks(["a", "c"], 2)
    assert index.encode(["c", "b", "a"]).tolist() == [1, -1, 0]
    with pytest.raises(ValueError, match=r"\['b'\] were not seen"):
        index.encode(["b"], allow_unseen=False)
    with pytest.raises(ValueError, match="same kind"):
        index.encode([1.5])


def test_task_index_round_trips_through_check_tasks():
    index = TaskIndex.from_labels([0, 1, 1])
    assert check_tasks(index, 3) is index
    with pytest.raises(ValueError, match="3 labels but X has 4 rows"):
        check_tasks(index, 4)


@given(
    codes=hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 6)),
    data=st.data(),
)
def test_reductions_match_a_loop_over_tasks(codes, data):
    values = data.draw(
        hnp.arrays(
            np.float64,
            (codes.shape[0], 3),
            elements=st.floats(-1e3, 1e3, allow_subnormal=False),
        )
    )
    index = check_tasks(codes, codes.shape[0])
    for t, label in enumerate(index.labels):
        rows = values[codes == label]
        np.testing.assert_allclose(index.sum(values)[t], rows.sum(0), atol=1e-8)
        np.testing.assert_allclose(index.mean(values)[t], rows.mean(0), atol=1e-8)
        np.testing.assert_allclose(
            index.var(values)[t], rows.var(0), rtol=1e-7, atol=1e-6
        )
    np.testing.assert_array_equal(index.broadcast(index.labels), codes)
    np.testing.assert_array_equal(np.sort(index.order), np.arange(codes.shape[0]))
    assert np.all(np.diff(index.codes[index.order]) >= 0)


def test_padded_blocks_cover_every_task_once_within_budget():
    counts = np.array([5, 1, 80, 3, 3, 40, 2, 300, 9])
    rng = np.random.default_rng(0)
    codes = rng.permutation(np.repeat(np.arange(counts.size), counts))
    index = TaskIndex(np.arange(counts.size) * 10, codes)
    X = rng.normal(size=(codes.size, 2))
    seen = []
    for tasks, (P,), mask in index.padded_blocks([X], lambda m: m * 2, budget=200):
        size = mask.shape[1]
        assert size == counts[tasks].max()
        assert counts[tasks].max() <= 2 * counts[tasks].min()
        assert len(tasks) == 1 or len(tasks) * size * 2 <= 200
        for k, t in enumerate(tasks):
            np.testing.assert_array_equal(P[k][mask[k]], X[codes == t])
            np.testing.assert_array_equal(P[k][~mask[k]], 0.0)
        seen.extend(tasks.tolist())
    assert sorted(seen) == list(range(len(counts)))


@given(
    codes=hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(0, 5)),
    data=st.data(),
)
def test_weighted_reductions_and_extremes_match_a_loop(codes, data):
    n = codes.shape[0]
    values = data.draw(
        hnp.arrays(
            np.float64, (n, 2), elements=st.floats(-1e3, 1e3, allow_subnormal=False)
        )
    )
    weights = data.draw(
        hnp.arrays(np.float64, n, elements=st.floats(0, 10, allow_subnormal=False))
    )
    # A hand-built index with empty tasks (labels 6 and 7 have no rows).
    index = TaskIndex(np.arange(8), codes)
    total = index.total(weights)
    for t in range(8):
        rows, w = values[codes == t], weights[codes == t]
        np.testing.assert_allclose(
            index.sum(values, weights)[t], w @ rows, rtol=1e-12, atol=1e-8
        )
        np.testing.assert_allclose(total[t], w.sum(), rtol=1e-12)
        if rows.shape[0] == 0:
            assert np.isnan(index.min(values)[t]).all()
            assert np.isnan(index.max(values)[t]).all()
            np.testing.assert_array_equal(index.mean(values)[t], 0.0)
            continue
        np.testing.assert_array_equal(index.min(values)[t], rows.min(0))
        np.testing.assert_array_equal(index.max(values)[t], rows.max(0))
        if w.sum() > 0:
            mean = np.average(rows, axis=0, weights=w)
            np.testing.assert_allclose(
                index.mean(values, weights)[t], mean, rtol=1e-9, atol=1e-8
            )
            var = np.average((rows - mean) ** 2, axis=0, weights=w)
            np.testing.assert_allclose(
                index.var(values, weights=weights)[t], var, rtol=1e-7, atol=1e-6
            )


def test_reductions_of_3d_rows_and_wrong_shapes():
    index = check_tasks([1, 0, 1], 3)
    a = np.arange(12.0).reshape(3, 2, 2)
    np.testing.assert_array_equal(index.sum(a), [a[1], a[0] + a[2]])
    with pytest.raises(ValueError, match="expected a with 3 rows"):
        index.sum(np.ones(4))
    with pytest.raises(ValueError, match=r"weights of shape \(3,\)"):
        index.sum(np.ones(3), weights=np.ones(2))


def test_centre_zeroes_constant_columns_exactly():
    index = check_tasks([0, 0, 0, 1, 1], 5)
    a = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 6.0], [3.0, 5.0], [4.0, 5.0]])
    centred, mean, var, constant = index.centre(a)
    assert constant.tolist() == [[True, False], [False, True]]
    assert centred[:3, 0].tolist() == [0.0, 0.0, 0.0] and var[0, 0] == 0.0
    np.testing.assert_allclose(mean, [[0.1, 3.0], [3.5, 5.0]])
    np.testing.assert_allclose(var[0, 1], np.var([1.0, 2.0, 6.0]))
    np.testing.assert_allclose(centred[:, 1], [-2.0, -1.0, 3.0, 0.0, 0.0])


@pytest.mark.parametrize("chunk_rows", [1, 3, 7, 1000])
def test_sum_map_matches_sum_of_the_mapped_rows(chunk_rows):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 6, size=40)
    codes[codes == 3] = 4  # task 3 has no rows
    index = TaskIndex(np.arange(6), codes)
    X = rng.normal(size=(40, 3))
    calls = []

    def func(rows):
        calls.append(rows.shape[0])
        return np.column_stack([np.cos(rows), rows[:, :1] ** 2])

    got = index.sum_map(func, X, chunk_rows=chunk_rows)
    np.testing.assert_allclose(got, index.sum(func(X)), rtol=1e-12, atol=1e-12)
    assert max(calls[:-1]) <= chunk_rows


def _loop_pair_sums(k, X, codes, n_tasks, Y, codes_y, n_tasks_y):
    S = np.zeros((n_tasks, n_tasks_y))
    for i in range(n_tasks):
        for j in range(n_tasks_y):
            for x in X[codes == i]:
                for y in Y[codes_y == j]:
                    S[i, j] += k(x, y)
    return S


def _product_kernel(L, R, out, same):
    np.matmul(L, R.T, out=out)
    np.exp(out, out=out)
    if same:  # the diagonal holds the same rows: fill it exactly
        np.fill_diagonal(out, np.exp(np.einsum("ij,ij->i", L, R)))
    return out


@pytest.mark.parametrize("block_size", [1, 4, 9, 1024])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_pair_sums_match_a_loop_over_pairs_of_rows(block_size, n_jobs):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 5, size=23)
    codes[codes == 2] = 1  # task 2 has no rows
    index = TaskIndex(np.array(list("abcde")), codes)
    codes_y = rng.integers(0, 3, size=11)
    other = TaskIndex(np.array([1, 2, 3]), codes_y)
    X, Y = 0.3 * rng.normal(size=(23, 2)), 0.3 * rng.normal(size=(11, 2))

    def k(x, y):
        return np.exp(x @ y)

    options = {"block_size": block_size, "n_jobs": n_jobs}
    S = index.pair_sums(_product_kernel, X, **options)
    expected = _loop_pair_sums(k, X, codes, 5, X, codes, 5)
    np.testing.assert_allclose(S, expected, rtol=1e-12, atol=1e-12)
    assert np.array_equal(S, S.T)
    diag = index.pair_sums(_product_kernel, X, diagonal=True, **options)
    np.testing.assert_allclose(diag, np.diag(expected), rtol=1e-12, atol=1e-12)
    S_xy = index.pair_sums(_product_kernel, X, Y, other, **options)
    expected_xy = _loop_pair_sums(k, X, codes, 5, Y, codes_y, 3)
    np.testing.assert_allclose(S_xy, expected_xy, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="diagonal sums need other=None"):
        index.pair_sums(_product_kernel, X, Y, other, diagonal=True)


@pytest.mark.parametrize("n_quantiles", [1, 4, 7, 30])
def test_midpoint_quantiles_are_numpy_inverted_cdf(n_quantiles):
    rng = np.random.default_rng(3)
    tasks = np.repeat(["x", "y", "z"], [1, 6, 13])[rng.permutation(20)]
    index = check_tasks(tasks, 20)
    values = np.round(rng.normal(size=(20, 2)), 1)  # with ties
    Q = index.midpoint_quantiles(values, n_quantiles)
    assert Q.shape == (3, 2, n_quantiles)
    q = (np.arange(n_quantiles) + 0.5) / n_quantiles
    for t, label in enumerate(index.labels):
        for c in range(2):
            expected = np.quantile(values[tasks == label, c], q, method="inverted_cdf")
            np.testing.assert_array_equal(Q[t, c], expected)
    sorted_values = index.sorted_within(values)
    for t in range(3):
        segment = sorted_values[:, index.offsets[t] : index.offsets[t + 1]]
        np.testing.assert_array_equal(segment, np.sort(values[index.rows(t)].T))
    empty = TaskIndex(np.array(["p", "q"]), np.zeros(3))
    with pytest.raises(ValueError, match=r"tasks \['q'\] have no rows"):
        empty.midpoint_quantiles(np.ones((3, 1)), 2)


def test_subset_keeps_the_labels_of_the_tasks_taken():
    index = check_tasks(["b", "a", "c", "b", "c", "c"], 6)
    rows, sub = index.subset([2, 0, 2])
    assert sub.labels.tolist() == ["a", "c"]
    assert rows.tolist() == [1, 2, 4, 5]
    assert sub.codes.tolist() == [0, 1, 1, 1]
    with pytest.raises(ValueError, match=r"task 'a' \(1 row\) has fewer"):
        check_tasks(sub, 4, min_rows=2)


@pytest.mark.parametrize(
    "as_input",
    [list, pd.Series, lambda labels: np.fromiter(labels, dtype=object)],
    ids=["list", "series", "object-array"],
)
def test_tuples_are_labels(as_input):
    codes = np.repeat([2, 0, 1], [3, 4, 2])
    labels = [(int(c), "x") for c in codes]
    index = check_tasks(as_input(labels), n_samples=9)
    assert index.labels.dtype == object and index.labels.shape == (3,)
    assert index.labels.tolist() == [(0, "x"), (1, "x"), (2, "x")]
    assert index.codes.tolist() == codes.tolist()
    assert index.counts.tolist() == [4, 2, 3]
    assert index.encode([(1, "x"), (5, "x"), (0, "x")]).tolist() == [1, -1, 0]
    assert index.encode([(2, "x")]).tolist() == [2]  # one label, not two
    assert index.encode(pd.Series([(2, "x")])).tolist() == [2]
    with pytest.raises(ValueError, match=r"tasks \[\(7, 'y'\)\] were not seen"):
        index.encode([(7, "y")], allow_unseen=False)
    with pytest.raises(
        ValueError, match=r"same kind as at fit time \(tuple\); got int"
    ):
        index.encode([1, 2])
    rows, sub = index.subset([1])
    assert sub.labels.tolist() == [(1, "x")] and rows.tolist() == [7, 8]


def test_tuple_labels_in_errors():
    with pytest.raises(ValueError, match=r"task \(1, 'x'\) \(1 row\) has fewer"):
        check_tasks([(0, "x"), (0, "x"), (1, "x")], 3, min_rows=2)
    with pytest.raises(
        ValueError, match=r"hashable labels; found a tuple \(0, \[1\]\)"
    ):
        check_tasks([(0, [1]), (1, [2])], 2)
    with pytest.raises(ValueError, match=r"one kind .* found int, tuple"):
        check_tasks([(0, "x"), 1], 2)
    with pytest.raises(ValueError, match="tasks has 2 labels but X has 3 rows"):
        check_tasks([(0, "x"), (1, "x")], 3)
