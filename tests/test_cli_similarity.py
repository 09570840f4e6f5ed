"""Tests of ``sk-metameta similarity``: task distances of a CSV file."""

import csv
import io

import numpy as np
import pytest

from sk_metameta import task_distances
from sk_metameta.cli import main


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def shops_csv(tmp_path):
    """Three tasks with labels 2, 10, 3 (numeric order differs from text order)."""
    rng = np.random.RandomState(0)
    rows = []
    for shop, shift in [(2, 0.0), (10, 5.0), (3, 0.5)]:
        for _ in range(6):
            price, promo = rng.normal(shift, 1.0), rng.normal(0.0, 1.0)
            rows.append([shop, f"{price:.4f}", f"{promo:.4f}", f"{2 * price:.4f}"])
    return write_csv(tmp_path / "shops.csv", ["shop", "price", "promo", "sales"], rows)


def read_shops(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(r["price"]), float(r["promo"])] for r in rows])
    y = np.array([float(r["sales"]) for r in rows])
    tasks = np.array([int(r["shop"]) for r in rows])
    return X, y, tasks


def parse_matrix(text):
    lines = text.strip().splitlines()
    reader = list(csv.reader(io.StringIO("\n".join(lines))))
    header = reader[0]
    labels = [row[0] for row in reader[1:]]
    D = np.array([[float(v) for v in row[1:]] for row in reader[1:]])
    return header, labels, D


# -- similarity --------------------------------------------------------------------


def test_similarity_prints_labelled_matrix_and_neighbours(shops_csv, capsys):
    assert main(["similarity", shops_csv, "--tasks", "shop", "--target", "sales"]) == 0
    out = capsys.readouterr().out
    matrix_text, rest = out.split("\n\n", 1)
    header, labels, D = parse_matrix(matrix_text)
    assert header == ["task", "2", "3", "10"]  # numeric labels in numeric order
    assert labels == ["2", "3", "10"]
    X, y, tasks = read_shops(shops_csv)
    expected = task_distances(X, y, tasks=tasks).distances
    np.testing.assert_allclose(D, expected, rtol=1e-5, atol=1e-6)
    assert "metric 'euclidean' on task features 'moments'" in rest
    assert "features: price, promo" in rest
    lines = {line.split()[0]: line for line in rest.splitlines() if line[:2] == "  "}
    # shop 10 is shifted far away: shops 2 and 3 are each other's nearest
    assert lines["2"].split()[1] == "3"
    assert lines["3"].split()[1] == "2"
    assert lines["10"].split()[1] in {"2", "3"}


def test_similarity_writes_output_file(shops_csv, tmp_path, capsys):
    out_path = tmp_path / "distances.csv"
    code = main(
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--features",
            "price",
            "--metric",
            "manhattan",
            "--n-neighbors",
            "1",
            "-o",
            str(out_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"distance matrix written to {out_path}" in out
    assert "task," not in out  # the matrix went to the file
    header, labels, D = parse_matrix(out_path.read_text())
    assert header[0] == "task" and labels == ["2", "3", "10"]
    assert D.shape == (3, 3)
    np.testing.assert_allclose(np.diag(D), 0.0)
    np.testing.assert_allclose(D, D.T)
    assert "nearest neighbours (k=1)" in out
    neighbour_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(neighbour_lines) == 3
    assert all(line.count("(") == 1 for line in neighbour_lines)


def test_similarity_sample_metric(shops_csv, capsys):
    code = main(
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--features",
            "price",
            "promo",
            "--metric",
            "energy",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "metric 'energy'." in out


def test_similarity_non_numeric_target_is_encoded(tmp_path, capsys):
    path = write_csv(
        tmp_path / "c.csv",
        ["d", "x", "use"],
        [[1, 0.1, "Y"], [1, 0.5, "N"], [2, 2.0, "N"], [2, 2.5, "Y"], [3, 0.2, "N"]],
    )
    code = main(
        [
            "similarity",
            path,
            "--tasks",
            "d",
            "--target",
            "use",
            "--task-features",
            "moments_xy",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "target 'use' is not numeric; encoded as N=0, Y=1" in captured.err
    assert "task features 'moments_xy'" in captured.out


def assert_error(capsys, argv, *needles):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("sk-metameta similarity: error: ")
    assert "Traceback" not in captured.err
    for needle in needles:
        assert needle in captured.err, captured.err
    return captured.err


def test_similarity_missing_file(tmp_path, capsys):
    missing = str(tmp_path / "nope.csv")
    assert_error(
        capsys, ["similarity", missing, "--tasks", "t"], "no such file", missing
    )


def test_similarity_missing_columns(shops_csv, capsys):
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "store", "--features", "price", "cost"],
        "'store', 'cost' not found",
        "available columns: shop, price, promo, sales",
    )
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--target", "revenue"],
        "'revenue' not found",
    )


def test_similarity_non_numeric_feature(tmp_path, capsys):
    path = write_csv(
        tmp_path / "bad.csv",
        ["t", "x", "colour"],
        [[1, 0.5, "1.0"], [1, 0.7, "red"], [2, 0.1, "2.0"]],
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t"],
        "feature column 'colour' is not numeric",
        "'red'",
        "data row 2",
    )


def test_similarity_empty_feature_cell(tmp_path, capsys):
    path = write_csv(
        tmp_path / "gap.csv", ["t", "x"], [[1, 0.5], [1, ""], [2, 0.1], [2, 0.2]]
    )
    assert_error(
        capsys, ["similarity", path, "--tasks", "t"], "'x'", "an empty cell", "row 2"
    )


def test_similarity_nan_feature(tmp_path, capsys):
    path = write_csv(
        tmp_path / "nan.csv", ["t", "x"], [[1, 0.5], [1, "nan"], [2, 0.1], [2, 0.2]]
    )
    assert_error(capsys, ["similarity", path, "--tasks", "t"], "missing or infinite")


def test_similarity_task_with_one_row(tmp_path, capsys):
    path = write_csv(
        tmp_path / "one.csv",
        ["t", "x"],
        [["a", 0.5], ["a", 0.7], ["b", 0.1], ["c", 0.3], ["c", 0.4]],
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t", "--metric", "mmd"],
        "metric 'mmd' needs at least 2 rows per task",
        "'b' (1 row)",
    )
    # a metric on task features that needs one row is fine
    assert main(["similarity", path, "--tasks", "t"]) == 0


def test_similarity_unknown_metric_and_task_features(shops_csv, capsys):
    err = assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--metric", "no_such_metric"],
        "unknown metric 'no_such_metric'",
        "available:",
        "euclidean",
        "mmd",
    )
    assert "Traceback" not in err
    assert_error(
        capsys,
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--task-features",
            "no_such_features",
        ],
        "unknown task features 'no_such_features'",
        "moments",
    )


def test_similarity_extractor_needing_target(shops_csv, capsys):
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--task-features", "coef"],
        "--task-features coef needs the target",
        "--target",
    )


def test_similarity_task_features_with_sample_metric(shops_csv, capsys):
    assert_error(
        capsys,
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--metric",
            "mmd",
            "--task-features",
            "moments",
        ],
        "compares the tasks' rows directly",
    )


def test_similarity_single_task(tmp_path, capsys):
    path = write_csv(tmp_path / "single.csv", ["t", "x"], [[1, 0.5], [1, 0.7]])
    assert_error(capsys, ["similarity", path, "--tasks", "t"], "a single task")


def test_similarity_ragged_and_empty_files(tmp_path, capsys):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("t,x\n1,0.5\n1\n")
    assert_error(capsys, ["similarity", str(ragged), "--tasks", "t"], "data row 2")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_error(capsys, ["similarity", str(empty), "--tasks", "t"], "is empty")
    header_only = tmp_path / "header.csv"
    header_only.write_text("t,x\n")
    assert_error(capsys, ["similarity", str(header_only), "--tasks", "t"], "no data")


def test_similarity_empty_task_label(tmp_path, capsys):
    path = write_csv(tmp_path / "label.csv", ["t", "x"], [[1, 0.5], ["", 0.7]])
    assert_error(capsys, ["similarity", path, "--tasks", "t"], "task column 't'")


def test_similarity_reads_gzip(tmp_path, capsys):
    import gzip

    path = tmp_path / "shops.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("t,x\n1,0.0\n1,1.0\n2,5.0\n2,6.0\n")
    assert main(["similarity", str(path), "--tasks", "t"]) == 0
    _, labels, D = parse_matrix(capsys.readouterr().out.split("\n\n")[0])
    assert labels == ["1", "2"]
    assert D[0, 1] == pytest.approx(5.0)
