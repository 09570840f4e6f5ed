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
    captured = capsys.readouterr()
    # stdout carries only the CSV matrix; the report goes to stderr
    matrix_text, rest = captured.out, captured.err
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
            "-o",
            str(out_path),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    out = captured.out  # with -o, the report is on stdout
    assert f"distance matrix (3 x 3) written to {out_path}" in out
    assert "task," not in out  # the matrix went to the file
    assert captured.err == ""
    header, labels, D = parse_matrix(out_path.read_text())
    assert header[0] == "task" and labels == ["2", "3", "10"]
    assert D.shape == (3, 3)
    np.testing.assert_allclose(np.diag(D), 0.0)
    np.testing.assert_allclose(D, D.T)
    assert "nearest neighbours (k=2)" in out
    neighbour_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(neighbour_lines) == 3
    assert all(line.count("(") == 2 for line in neighbour_lines)


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
    assert "metric 'energy'." in capsys.readouterr().err


def test_similarity_non_numeric_target_is_encoded(tmp_path, capsys):
    path = write_csv(
        tmp_path / "c.csv",
        ["d", "x", "use"],
        [[1, 0.1, "Y"], [1, 0.5, "N"], [2, 2.0, "N"], [2, 2.5, "Y"], [3, 0.2, "N"]],
    )
    argv = ["similarity", path, "--tasks", "d", "--target", "use"]
    argv += ["--task-features", "moments_xy"]
    code = main(argv)
    assert code == 0
    captured = capsys.readouterr()
    assert "target 'use' is not numeric; encoded as N=0, Y=1" in captured.err
    assert "task features 'moments_xy'" in captured.err
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().err == ""  # -q: errors only


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
        ["similarity", path, "--tasks", "t", "--no-target"],
        "feature column 'colour' is not numeric",
        "'red'",
        "data row 2",
    )


def test_similarity_empty_feature_cell(tmp_path, capsys):
    path = write_csv(
        tmp_path / "gap.csv", ["t", "x"], [[1, 0.5], [1, ""], [2, 0.1], [2, 0.2]]
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t", "--no-target"],
        "'x'",
        "an empty cell",
        "row 2",
    )


def test_similarity_nan_feature(tmp_path, capsys):
    path = write_csv(
        tmp_path / "nan.csv", ["t", "x"], [[1, 0.5], [1, "nan"], [2, 0.1], [2, 0.2]]
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t", "--no-target"],
        "missing or infinite",
    )


def test_similarity_task_with_one_row(tmp_path, capsys):
    path = write_csv(
        tmp_path / "one.csv",
        ["t", "x"],
        [["a", 0.5], ["a", 0.7], ["b", 0.1], ["c", 0.3], ["c", 0.4]],
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t", "--no-target", "--metric", "mmd"],
        "metric 'mmd' needs at least 2 rows per task",
        "'b' (1 row)",
    )
    # a metric on task features that needs one row is fine
    assert main(["similarity", path, "--tasks", "t", "--no-target"]) == 0


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
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--no-target",
            "--task-features",
            "coef",
        ],
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
    assert_error(
        capsys, ["similarity", path, "--tasks", "t", "--no-target"], "a single task"
    )


def test_similarity_ragged_and_empty_files(tmp_path, capsys):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("t,x\n1,0.5\n1\n")
    assert_error(
        capsys, ["similarity", str(ragged), "--tasks", "t", "--no-target"], "data row 2"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_error(
        capsys, ["similarity", str(empty), "--tasks", "t", "--no-target"], "is empty"
    )
    header_only = tmp_path / "header.csv"
    header_only.write_text("t,x\n")
    assert_error(
        capsys,
        ["similarity", str(header_only), "--tasks", "t", "--no-target"],
        "no data",
    )


def test_similarity_empty_task_label(tmp_path, capsys):
    path = write_csv(tmp_path / "label.csv", ["t", "x"], [[1, 0.5], ["", 0.7]])
    assert_error(
        capsys, ["similarity", path, "--tasks", "t", "--no-target"], "task column 't'"
    )


def test_similarity_reads_gzip(tmp_path, capsys):
    import gzip

    path = tmp_path / "shops.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("t,x\n1,0.0\n1,1.0\n2,5.0\n2,6.0\n")
    assert main(["similarity", str(path), "--tasks", "t", "--no-target"]) == 0
    _, labels, D = parse_matrix(capsys.readouterr().out.split("\n\n")[0])
    assert labels == ["1", "2"]
    assert D[0, 1] == pytest.approx(5.0)


# -- what the output holds -----------------------------------------------------------


def argv_target(path):
    return ["similarity", path, "--tasks", "shop", "--target", "sales"]


def test_the_target_never_becomes_a_feature_silently(shops_csv, capsys):
    err = assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop"],
        "say which column is the target",
        "--target COL",
        "--no-target",
        "(price, promo, sales)",
        "--features",
    )
    assert "Traceback" not in err
    assert main(["similarity", shops_csv, "--tasks", "shop", "--no-target"]) == 0
    assert "features: price, promo, sales; no target;" in capsys.readouterr().err
    assert main(argv_target(shops_csv)) == 0
    assert "features: price, promo; target: sales;" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one or the other
        main([*argv_target(shops_csv), "--no-target"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_quiet_keeps_stdout_csv_and_stderr_empty(shops_csv, capsys):
    argv = ["similarity", shops_csv, "--tasks", "shop", "--no-target", "-q"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert len(rows) == 4 and all(len(row) == 4 for row in rows)


def number(value, digits):
    """``digits`` significant digits, trailing zeros kept (as the command writes)."""
    text = f"{value:#.{digits}g}"
    return text.rstrip(".")


@pytest.mark.parametrize("digits", [2, 6, 9])
def test_every_distance_has_the_same_precision(shops_csv, digits, capsys):
    argv = ["similarity", shops_csv, "--tasks", "shop", "--target", "sales"]
    assert main([*argv, "--digits", str(digits)]) == 0
    captured = capsys.readouterr()
    X, y, tasks = read_shops(shops_csv)
    expected = task_distances(X, y, tasks=tasks).distances
    cells = [row[1:] for row in csv.reader(io.StringIO(captured.out))][1:]
    assert cells == [[number(d, digits) for d in row] for row in expected]
    # the same number of significant digits everywhere, zeros included
    assert cells[0][0] == "0." + "0" * (digits - 1) if digits > 1 else "0"
    assert all(
        len(cell.replace(".", "").lstrip("0")) == digits for cell in cells[0][1:]
    )
    # the report's distances too
    listed = [line for line in captured.err.splitlines() if line.startswith("  ")]
    for line in listed:
        for value in line.split("(")[1:]:
            assert value.split(")")[0] == number(float(value.split(")")[0]), digits)


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path, capsys):
    path = tmp_path / "bom.csv"
    path.write_text("shop,x\n1,0.0\n1,1.0\n2,5.0\n2,6.0\n", encoding="utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert main(["similarity", str(path), "--tasks", "shop", "--no-target"]) == 0
    _, labels, D = parse_matrix(capsys.readouterr().out)
    assert labels == ["1", "2"] and D[0, 1] == pytest.approx(5.0)


def test_target_equal_to_tasks_is_refused(shops_csv, capsys):
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--target", "shop"],
        "--target and --tasks name the same column 'shop'",
    )


def test_duplicate_column_names_are_refused(tmp_path, capsys):
    path = write_csv(
        tmp_path / "dup.csv", ["t", "x", "x "], [[1, 0.5, 1.0], [2, 0.1, 2.0]]
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t", "--no-target"],
        "names column(s) 'x' more than once",
    )
    assert_error(  # also when the columns are named
        capsys,
        ["similarity", path, "--tasks", "t", "--features", "x"],
        "more than once",
    )


def parse_long(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["task", "neighbor", "distance", "rank"]
    return rows[1:]


def many_tasks_csv(path, n_tasks, seed=0, duplicate=False):
    rng = np.random.RandomState(seed)
    centres = rng.normal(size=(n_tasks, 2)) * 3
    if duplicate:
        centres[1] = centres[0]
    rows = []
    for t in range(n_tasks):
        for offset in (-1.0, 1.0):
            rows.append([f"task{t}", *(centres[t] + offset * 0.5).round(6)])
    return write_csv(path, ["t", "a", "b"], rows)


def test_n_neighbors_writes_a_sparse_long_table(tmp_path, capsys):
    path = many_tasks_csv(tmp_path / "m.csv", 12, duplicate=True)
    argv = ["similarity", path, "--tasks", "t", "--no-target", "--n-neighbors", "3"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = parse_long(captured.out)
    assert len(rows) == 12 * 3
    X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2))
    labels = np.loadtxt(path, delimiter=",", skiprows=1, usecols=0, dtype=str)
    result = task_distances(X, tasks=labels)
    D = result.distances
    names = result.labels.tolist()
    for i, name in enumerate(names):
        mine = [row for row in rows if row[0] == name]
        assert [row[3] for row in mine] == ["1", "2", "3"]
        assert name not in [row[1] for row in mine]  # never its own neighbour
        dist = np.array([float(row[2]) for row in mine])
        others = np.sort(np.delete(D[i], i))[:3]
        np.testing.assert_allclose(dist, others, rtol=1e-5, atol=1e-9)
    # two tasks with the same task features are each other's nearest, at 0
    first = {row[0]: row for row in rows if row[3] == "1"}
    assert first["task0"][1:3] == ["task1", "0.00000"]
    assert first["task1"][1:3] == ["task0", "0.00000"]
    assert "the 3 nearest neighbours of each task, as a long table" in captured.err
    assert "on stdout" in captured.err


def test_many_tasks_never_give_a_dense_matrix(tmp_path, capsys):
    # documented: a matrix up to 1000 tasks, else 10 neighbours of each task
    DENSE_MAX_TASKS, DEFAULT_NEIGHBORS = 1000, 10
    n = DENSE_MAX_TASKS + 1
    path = many_tasks_csv(tmp_path / "many.csv", n)
    out = tmp_path / "out.csv"
    argv = ["similarity", path, "--tasks", "t", "--no-target", "-o", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = parse_long(out.read_text())
    assert len(rows) == n * DEFAULT_NEIGHBORS
    assert f"more than {DENSE_MAX_TASKS} tasks: no dense {n} x {n} matrix" in (
        captured.out
    )
    assert f"written to {out}" in captured.out
    assert captured.err == ""  # nothing on a stderr that is not a terminal


def test_sample_metric_long_table_says_it_compared_every_pair(tmp_path, capsys):
    path = many_tasks_csv(tmp_path / "s.csv", 6)
    argv = ["similarity", path, "--tasks", "t", "--no-target", "--metric", "energy"]
    assert main([*argv, "--n-neighbors", "2"]) == 0
    captured = capsys.readouterr()
    assert len(parse_long(captured.out)) == 12
    assert "metric 'energy' compares the tasks' rows: all 6 x 6" in captured.err


def test_progress_of_many_tasks_on_a_terminal_only(tmp_path, capsys, terminal_stderr):
    path = many_tasks_csv(tmp_path / "p.csv", 40)
    out = str(tmp_path / "o.csv")
    argv = ["similarity", path, "--tasks", "t", "--no-target", "--n-neighbors", "2"]
    with terminal_stderr() as stderr:
        assert main([*argv, "-o", out]) == 0
    assert "reading p.csv" in stderr.getvalue()
    assert "nearest neighbours" in stderr.getvalue()
    with terminal_stderr() as stderr:
        assert main([*argv, "-o", out, "-q"]) == 0
    assert stderr.getvalue() == ""
    capsys.readouterr()
    assert main([*argv, "-o", out]) == 0
    assert capsys.readouterr().err == ""


def test_verbose_logs_the_steps(shops_csv, capsys):
    argv = ["similarity", shops_csv, "--tasks", "shop", "--no-target", "-v"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"sk-metameta: read 18 rows of {shops_csv}" in err
    assert "sk-metameta: similarity: 3 tasks in " in err
