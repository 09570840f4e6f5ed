"""The ``sk-metameta similarity`` command: task distances of a CSV file."""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys

import numpy as np

from ._common import CommandError, positive_int
from ._task_csv import read_task_csv

__all__ = ["add_similarity_parser"]


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
    >>> from sk_metameta.cli._similarity import nearest_neighbours
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
    from .._components import resolve_metric, resolve_task_features
    from .._task_space import task_distances

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
        type=positive_int,
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
