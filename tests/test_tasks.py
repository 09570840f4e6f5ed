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
