"""The ``sk-metameta similarity`` command: task distances of a CSV file."""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import sys

import numpy as np

__all__ = ["add_similarity_parser", "read_task_csv"]


class CommandError(Exception):
    """A problem with the user's input, reported without a traceback."""


def _open_text(path: str):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _parse_numeric(values: np.ndarray, column: str, what: str) -> np.ndarray:
    """The str array ``values`` as floats; a ``CommandError`` names a bad cell."""
    stripped = np.char.strip(values)
    try:
        out = stripped.astype(float)
    except ValueError:
        for row, cell in enumerate(stripped.tolist()):
            try:
                float(cell)
            except ValueError:
                shown = "an empty cell" if cell == "" else f"the value {cell!r}"
                raise CommandError(
                    f"{what} column {column!r} is not numeric: {shown} at data row "
                    f"{row + 1}. Choose numeric columns with --features."
                ) from None
        raise  # pragma: no cover - astype and float agree
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CommandError(
            f"{what} column {column!r} has a missing or infinite value "
            f"({stripped[row]!r}) at data row {row + 1}."
        )
    return out


def read_task_csv(path, *, tasks, target=None, features=None):
    r"""Read the features, target and task labels of a CSV file.

    Parameters
    ----------
    path : str
        CSV file with a header row (``.gz`` is decompressed).
    tasks : str
        Column of task labels; labels that are all integers become ints.
    target : str, default=None
        Column of the target; a non-numeric target is encoded as ``0, 1, ...``
        in the sorted order of its values.
    features : list of str, default=None
        Feature columns; default every column but ``tasks`` and ``target``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,) or None
        Target, if a ``target`` column was named.
    labels : ndarray of shape (n_samples,)
        Task label of each row.
    feature_names : list of str
        Names of the columns of ``X``.
    target_classes : ndarray or None
        The values of a non-numeric target, in the order of their codes.

    Raises
    ------
    CommandError
        For a missing file, missing columns, non-numeric or missing feature
        values, or a file without data rows.

    Examples
    --------
    >>> import os, tempfile
    >>> from sk_metameta._similarity_cli import read_task_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "shops.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("shop,price,sales\n1,2.0,10\n1,3.0,12\n2,2.5,7\n")
    >>> X, y, labels, names, _ = read_task_csv(path, tasks="shop", target="sales")
    >>> X.tolist(), y.tolist(), labels.tolist(), names
    ([[2.0], [3.0], [2.5]], [10.0, 12.0, 7.0], [1, 1, 2], ['price'])
    """
    if not os.path.exists(path):
        raise CommandError(f"no such file: {path!r}.")
    if os.path.isdir(path):
        raise CommandError(f"{path!r} is a folder, not a CSV file.")
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = [row for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path!r} as a CSV file: {exc}") from None
    if not header:
        raise CommandError(f"{path!r} is empty: expected a header row of column names.")
    header = [name.strip() for name in header]
    if not rows:
        raise CommandError(f"{path!r} has a header but no data rows.")
    width = len(header)
    ragged = [i for i, row in enumerate(rows) if len(row) != width]
    if ragged:
        i = ragged[0]
        raise CommandError(
            f"data row {i + 1} of {path!r} has {len(rows[i])} cells but the header "
            f"has {width} columns."
        )
    wanted = [tasks] + ([target] if target else []) + list(features or [])
    missing = [c for c in dict.fromkeys(wanted) if c not in header]
    if missing:
        raise CommandError(
            f"column(s) {', '.join(map(repr, missing))} not found in {path!r}; "
            f"available columns: {', '.join(header)}."
        )
    table = np.array(rows, dtype=str)
    column = {name: table[:, j] for j, name in enumerate(header)}
    if features is None:
        features = [c for c in header if c not in (tasks, target)]
        if not features:
            raise CommandError(
                f"{path!r} has no feature columns besides the task and target columns."
            )
    if tasks in features or (target and target in features):
        raise CommandError(
            "--features must not include the --tasks or --target column."
        )
    X = np.column_stack([_parse_numeric(column[c], c, "feature") for c in features])
    labels = np.char.strip(column[tasks])
    if (labels == "").any():
        row = int(np.flatnonzero(labels == "")[0])
        raise CommandError(
            f"task column {tasks!r} has an empty cell at data row {row + 1}; every row "
            "needs a task label."
        )
    try:
        labels = labels.astype(np.int64)
    except ValueError:
        pass
    y, classes = None, None
    if target:
        values = np.char.strip(column[target])
        try:
            y = _parse_numeric(values, target, "target")
        except CommandError:
            if (values == "").any():
                row = int(np.flatnonzero(values == "")[0])
                raise CommandError(
                    f"target column {target!r} has an empty cell at data row {row + 1}."
                ) from None
            classes, y = np.unique(values, return_inverse=True)
    return X, y, labels, list(features), classes


def _format_matrix(D: np.ndarray, labels: np.ndarray) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["task", *labels.tolist()])
    for label, row in zip(labels.tolist(), D, strict=True):
        writer.writerow([label, *(f"{d:.6g}" for d in row)])
    return out.getvalue()


def nearest_neighbours(
    D: np.ndarray, n_neighbors: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest other tasks of every task.

    Parameters
    ----------
    D : ndarray of shape (n_tasks, n_tasks)
        Task distances.
    n_neighbors : int
        Neighbours per task, at most ``n_tasks - 1``.

    Returns
    -------
    indices : ndarray of shape (n_tasks, n_neighbors)
        Neighbours of each task, nearest first (ties by task order).
    distances : ndarray of shape (n_tasks, n_neighbors)
        Their distances.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_metameta._similarity_cli import nearest_neighbours
    >>> D = np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 2.0], [3.0, 2.0, 0.0]])
    >>> nearest_neighbours(D, 1)[0].ravel().tolist()
    [1, 0, 1]
    """
    masked = D.astype(float, copy=True)
    np.fill_diagonal(masked, np.inf)
    indices = np.argsort(masked, axis=1, kind="stable")[:, :n_neighbors]
    return indices, np.take_along_axis(masked, indices, axis=1)


def _cmd_similarity(args: argparse.Namespace) -> int:
    try:
        _run(args)
    except CommandError as exc:
        print(f"sk-metameta similarity: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of stdout stopped early (e.g. `| head`)
        # as the Python docs recommend: point stdout at devnull for the final flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _run(args: argparse.Namespace) -> None:
    from ._components import resolve_metric, resolve_task_features
    from ._task_space import task_distances

    try:
        metric = resolve_metric(args.metric, param="--metric")
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    extractor = None
    if metric.space == "samples":
        if args.task_features is not None:
            raise CommandError(
                f"--metric {args.metric} compares the tasks' rows directly; drop "
                "--task-features, or choose a metric on task features."
            )
    else:
        try:
            extractor = resolve_task_features(
                args.task_features or "moments", param="--task-features"
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    X, y, labels, feature_names, classes = read_task_csv(
        args.csv, tasks=args.tasks, target=args.target, features=args.features
    )
    if classes is not None:
        codes = ", ".join(f"{c}={i}" for i, c in enumerate(classes.tolist()))
        print(
            f"note: target {args.target!r} is not numeric; encoded as {codes}.",
            file=sys.stderr,
        )
    needs_y = bool(getattr(metric, "requires_y", False)) or bool(
        extractor is not None and getattr(extractor, "requires_y", False)
    )
    if needs_y and y is None:
        who = (
            f"--metric {args.metric}"
            if extractor is None
            else (f"--task-features {extractor.name}")
        )
        raise CommandError(f"{who} needs the target: name its column with --target.")

    task_labels, counts = np.unique(labels, return_counts=True)
    shown = task_labels.tolist()  # plain int / str, for messages
    if task_labels.size < 2:
        raise CommandError(
            f"column {args.tasks!r} holds a single task ({shown[0]!r}); task "
            "distances need at least two tasks."
        )
    component = metric if extractor is None else extractor
    min_rows = max(
        int(getattr(metric, "min_rows", 1)),
        int(getattr(component, "min_rows", 1)),
    )
    small = np.flatnonzero(counts < min_rows)
    if small.size:
        names = ", ".join(
            f"{shown[i]!r} ({counts[i]} row{'s' if counts[i] > 1 else ''})"
            for i in small[:5]
        )
        more = f" and {small.size - 5} more" if small.size > 5 else ""
        what = (
            f"metric {metric.name!r}"
            if extractor is None
            else (f"task features {extractor.name!r}")
        )
        raise CommandError(
            f"{what} needs at least {min_rows} rows per task; task {names}{more} "
            "has fewer."
        )

    try:
        D, task_labels, _ = task_distances(
            X, y, tasks=labels, task_features=extractor, metric=metric
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None

    matrix = _format_matrix(D, task_labels)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as handle:
                handle.write(matrix)
        except OSError as exc:
            raise CommandError(f"cannot write {args.output!r}: {exc}") from None
    else:
        print(matrix, end="")
        print()
    how = f"metric {metric.name!r}" + (
        f" on task features {extractor.name!r}" if extractor is not None else ""
    )
    print(
        f"{task_labels.size} tasks, {X.shape[0]} rows, features: "
        f"{', '.join(feature_names)}; {how}."
    )
    if args.output:
        print(f"distance matrix written to {args.output}")
    k = min(args.n_neighbors, task_labels.size - 1)
    indices, distances = nearest_neighbours(D, k)
    print(f"nearest neighbours (k={k}):")
    names = [str(label) for label in task_labels.tolist()]
    width = max(len(name) for name in names)
    for i, name in enumerate(names):
        near = ", ".join(
            f"{names[j]} ({d:.4g})"
            for j, d in zip(indices[i], distances[i], strict=True)
        )
        print(f"  {name.ljust(width)}  {near}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_similarity_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``similarity`` command to the ``sk-metameta`` command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command registry of the main parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``similarity`` parser.
    """
    parser = subparsers.add_parser(
        "similarity",
        help="task distance matrix and nearest neighbours of a CSV file",
        description=(
            "Distances between the tasks of a CSV file (one row per sample, a "
            "column of task labels), and each task's nearest neighbours. A metric "
            "on task features compares the vectors that --task-features extracts "
            "from each task (default 'moments'); a metric on samples (mmd, energy, "
            "...) compares the tasks' rows directly. List the metrics and task "
            "features with `sk-metameta plugins`."
        ),
    )
    parser.add_argument("csv", help="CSV file with a header row (.csv or .csv.gz)")
    parser.add_argument("--tasks", required=True, metavar="COL", help="task column")
    parser.add_argument(
        "--target", metavar="COL", default=None, help="target column (optional)"
    )
    parser.add_argument(
        "--features",
        nargs="+",
        metavar="COL",
        default=None,
        help="feature columns (default: every other column)",
    )
    parser.add_argument(
        "--task-features",
        metavar="NAME",
        default=None,
        help="task feature extractor for metrics on task features (default: moments)",
    )
    parser.add_argument(
        "--metric", metavar="NAME", default="euclidean", help="task metric"
    )
    parser.add_argument(
        "--n-neighbors",
        type=_positive_int,
        default=3,
        metavar="K",
        help="nearest neighbours listed per task (default: 3)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.csv",
        default=None,
        help="write the distance matrix to this file instead of stdout",
    )
    parser.set_defaults(func=_cmd_similarity)
    return parser
