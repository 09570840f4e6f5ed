"""Tests of the bundled real datasets and of make_related_tasks."""

import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression
from sklearn.metrics import adjusted_rand_score

from sk_metameta import check_tasks
from sk_metameta.datasets import load_contraception, load_hsb, make_related_tasks

# -- bundled files ----------------------------------------------------------------


def test_data_files_ship_inside_the_package():
    folder = Path(str(resources.files("sk_metameta.datasets").joinpath("data")))
    names = sorted(p.name for p in folder.glob("*.csv.gz"))
    assert names == [
        "contraception.csv.gz",
        "hsb_schools.csv.gz",
        "hsb_students.csv.gz",
    ]
    package_root = Path(str(resources.files("sk_metameta"))).resolve()
    assert package_root in folder.resolve().parents


def test_loaders_do_not_read_outside_the_package():
    source = Path(str(resources.files("sk_metameta.datasets"))).joinpath("_base.py")
    assert "shared" not in source.read_text()


# -- High School and Beyond ----------------------------------------------------------


def test_load_hsb_shapes_and_tasks():
    X, y, tasks = load_hsb(return_X_y_tasks=True)
    assert X.shape == (7185, 3)
    assert y.shape == tasks.shape == (7185,)
    assert X.dtype == y.dtype == np.float64
    index = check_tasks(tasks)
    assert index.n_tasks == 160
    assert index.counts.min() == 14 and index.counts.max() == 67
    assert tasks.dtype.kind == "i"
    assert np.isfinite(X).all() and np.isfinite(y).all()
    assert y.min() == pytest.approx(-2.832) and y.max() == pytest.approx(24.993)


def test_load_hsb_encoding_of_categoricals():
    hsb = load_hsb()
    assert hsb.feature_names == ["Minority", "Sex", "SES"]
    minority, female, ses = hsb.data.T
    assert set(np.unique(minority)) == {0.0, 1.0}
    assert set(np.unique(female)) == {0.0, 1.0}
    # counts of the published data: 1,974 minority students, 3,795 girls
    assert minority.sum() == 1974
    assert female.sum() == 3795
    assert len(np.unique(ses)) > 100


def test_load_hsb_meanses_is_the_school_level_mean_ses():
    hsb = load_hsb(include_meanses=True)
    assert hsb.feature_names == ["Minority", "Sex", "SES", "MEANSES"]
    assert hsb.data.shape == (7185, 4)
    index = check_tasks(hsb.tasks)
    meanses = hsb.data[:, 3]
    # constant within a school ...
    assert np.allclose(index.var(meanses), 0.0)
    # ... and equal to the school table's MEANSES for that school
    np.testing.assert_array_equal(index.labels, hsb.task_labels)
    school_meanses = hsb.task_data[:, hsb.task_data_names.index("MEANSES")]
    np.testing.assert_allclose(index.mean(meanses), school_meanses)


def test_load_hsb_school_table():
    hsb = load_hsb()
    assert hsb.task_data.shape == (160, 6)
    assert hsb.task_data_names == [
        "Size",
        "Sector",
        "PRACAD",
        "DISCLIM",
        "HIMINTY",
        "MEANSES",
    ]
    assert np.all(np.diff(hsb.task_labels) > 0)
    sector = hsb.task_data[:, 1]
    assert set(np.unique(sector)) == {0.0, 1.0}
    assert sector.sum() == 70  # Catholic schools in the published data


def test_load_hsb_provenance_in_docstring():
    descr = load_hsb().DESCR
    for needle in ("High School and Beyond", "Raudenbush", "nlme", "MathAchieve"):
        assert needle in descr
    assert '1.0 for "Female"' in descr


def test_load_hsb_as_frame():
    import pandas as pd

    hsb = load_hsb(as_frame=True)
    assert isinstance(hsb.data, pd.DataFrame)
    assert list(hsb.data.columns) == ["Minority", "Sex", "SES"]
    assert isinstance(hsb.target, pd.Series) and hsb.target.name == "MathAch"
    assert isinstance(hsb.tasks, pd.Series) and hsb.tasks.name == "School"
    assert list(hsb.frame.columns) == ["School", "Minority", "Sex", "SES", "MathAch"]
    X, y, tasks = load_hsb(return_X_y_tasks=True)
    np.testing.assert_array_equal(hsb.data.to_numpy(), X)
    np.testing.assert_array_equal(hsb.target.to_numpy(), y)
    np.testing.assert_array_equal(hsb.tasks.to_numpy(), tasks)
    Xf, _, tf = load_hsb(as_frame=True, return_X_y_tasks=True)
    assert isinstance(Xf, pd.DataFrame) and isinstance(tf, pd.Series)


def test_load_hsb_without_frame_has_no_frame():
    assert load_hsb().frame is None


def test_as_frame_without_pandas_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas.*pip install pandas"):
        load_hsb(as_frame=True)
    with pytest.raises(ImportError, match=r"load_contraception\(as_frame=True\)"):
        load_contraception(as_frame=True)
    X, _, _ = load_hsb(return_X_y_tasks=True)  # arrays need no pandas
    assert X.shape == (7185, 3)


# -- contraception -------------------------------------------------------------------


def test_load_contraception_shapes_and_tasks():
    X, y, tasks = load_contraception(return_X_y_tasks=True)
    assert X.shape == (1934, 3)
    assert y.shape == tasks.shape == (1934,)
    index = check_tasks(tasks)
    assert index.n_tasks == 60
    assert index.labels.tolist() == [d for d in range(1, 62) if d != 54]
    assert index.counts.min() == 2 and index.counts.max() == 118
    assert y.dtype.kind == "i"
    assert sorted(np.unique(y).tolist()) == [0, 1]
    assert y.sum() == 1934 - 1175  # 1,175 women answered "N"


def test_load_contraception_encoding():
    data = load_contraception()
    assert data.feature_names == ["livch", "age", "urban"]
    assert data.target_names == ["use"] and data.task_name == "district"
    livch, age, urban = data.data.T
    values, counts = np.unique(livch, return_counts=True)
    assert values.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert counts.tolist() == [530, 356, 305, 743]  # 0, 1, 2, "3+"
    assert urban.sum() == 1934 - 1372  # 1,372 rural women
    assert abs(age.mean()) < 0.01  # centred


def test_load_contraception_provenance_and_frame():
    import pandas as pd

    data = load_contraception(as_frame=True)
    for needle in ("Bangladesh Fertility Survey", "mlmRev", "Huq", "Cleland"):
        assert needle in data.DESCR
    assert list(data.frame.columns) == ["district", "livch", "age", "urban", "use"]
    assert isinstance(data.target, pd.Series)
    assert data.frame.shape == (1934, 5)


# -- make_related_tasks --------------------------------------------------------------


def test_make_related_tasks_shapes_and_labels():
    X, y, tasks = make_related_tasks(
        n_tasks=7, n_samples_per_task=9, n_features=4, random_state=0
    )
    assert X.shape == (63, 4) and y.shape == tasks.shape == (63,)
    assert np.bincount(tasks).tolist() == [9] * 7
    assert y.dtype == np.float64


def test_make_related_tasks_is_reproducible():
    a = make_related_tasks(n_tasks=5, random_state=3, return_structure=True)
    b = make_related_tasks(n_tasks=5, random_state=3, return_structure=True)
    c = make_related_tasks(n_tasks=5, random_state=4, return_structure=True)
    for left, right in zip(a[:3], b[:3], strict=True):
        np.testing.assert_array_equal(left, right)
    np.testing.assert_array_equal(a[3].coef, b[3].coef)
    assert not np.allclose(a[0], c[0])
    rng = np.random.RandomState(3)
    d = make_related_tasks(n_tasks=5, random_state=rng)
    np.testing.assert_array_equal(a[0], d[0])


def test_make_related_tasks_structure_without_noise_is_exact():
    X, y, tasks, truth = make_related_tasks(
        n_tasks=10,
        n_samples_per_task=6,
        n_features=3,
        n_clusters=4,
        noise=0.0,
        cluster_std=0.0,
        random_state=1,
        return_structure=True,
    )
    assert truth.clusters.shape == (10,)
    assert truth.coef.shape == (10, 3) and truth.intercept.shape == (10,)
    assert truth.cluster_coef.shape == truth.feature_means.shape == (4, 3)
    # balanced clusters, every cluster used
    assert np.bincount(truth.clusters, minlength=4).tolist() in (
        [3, 3, 2, 2],
        [3, 2, 3, 2],
        [3, 2, 2, 3],
        [2, 3, 3, 2],
        [2, 3, 2, 3],
        [2, 2, 3, 3],
    )
    # with cluster_std=0, tasks equal their cluster centre
    np.testing.assert_allclose(truth.coef, truth.cluster_coef[truth.clusters])
    np.testing.assert_allclose(truth.intercept, truth.cluster_intercept[truth.clusters])
    # with noise=0, y is the linear response exactly
    expected = np.einsum("ij,ij->i", X, truth.coef[tasks]) + truth.intercept[tasks]
    np.testing.assert_allclose(y, expected)


def test_make_related_tasks_clusters_are_recoverable():
    """Per-task fitted coefficients cluster by the true cluster of each task."""
    X, y, tasks, truth = make_related_tasks(
        n_tasks=30,
        n_samples_per_task=40,
        n_features=3,
        n_clusters=3,
        noise=0.1,
        cluster_std=0.05,
        random_state=0,
        return_structure=True,
    )
    index = check_tasks(tasks)
    coef = np.array(
        [
            LinearRegression().fit(X[index.rows(t)], y[index.rows(t)]).coef_
            for t in range(30)
        ]
    )
    found = KMeans(3, n_init=10, random_state=0).fit_predict(coef)
    assert adjusted_rand_score(truth.clusters, found) == pytest.approx(1.0)
    # and the features' location reveals the cluster too (X-only task features)
    found_x = KMeans(3, n_init=10, random_state=0).fit_predict(index.mean(X))
    assert adjusted_rand_score(truth.clusters, found_x) > 0.8


def test_make_related_tasks_feature_shift_zero_shares_the_feature_distribution():
    _, _, _, truth = make_related_tasks(
        n_tasks=4, feature_shift=0.0, random_state=0, return_structure=True
    )
    np.testing.assert_array_equal(truth.feature_means, 0.0)


def test_make_related_tasks_classification():
    X, y, tasks, truth = make_related_tasks(
        n_tasks=8,
        n_samples_per_task=50,
        task_type="classification",
        noise=0.0,
        random_state=2,
        return_structure=True,
    )
    assert y.dtype.kind == "i"
    assert set(np.unique(y)) == {0, 1}
    response = np.einsum("ij,ij->i", X, truth.coef[tasks]) + truth.intercept[tasks]
    np.testing.assert_array_equal(y, (response > 0).astype(int))


def test_make_related_tasks_sizes_per_task():
    sizes = np.array([3, 1, 5])
    X, _, tasks = make_related_tasks(
        n_tasks=3, n_samples_per_task=sizes, n_clusters=2, random_state=0
    )
    assert np.bincount(tasks).tolist() == [3, 1, 5]
    assert X.shape[0] == 9


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_tasks": 2, "n_clusters": 3}, ValueError, "n_clusters=3 is more than"),
        ({"task_type": "ranking"}, ValueError, "task_type must be one of"),
        ({"noise": -1.0}, ValueError, "noise must be a finite number >= 0"),
        ({"cluster_std": float("nan")}, ValueError, "cluster_std"),
        ({"n_tasks": 0}, ValueError, "n_tasks must be at least 1"),
        ({"n_features": 2.5}, TypeError, "n_features must be an int"),
        (
            {"n_tasks": 2, "n_clusters": 1, "n_samples_per_task": [3]},
            ValueError,
            "array of n_tasks=2 ints",
        ),
        (
            {"n_tasks": 2, "n_clusters": 1, "n_samples_per_task": [3, 0]},
            ValueError,
            "at least one row",
        ),
    ],
)
def test_make_related_tasks_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_related_tasks(**kwargs)
