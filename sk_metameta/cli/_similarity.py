"""The ``sk-metameta similarity`` command: task distances of a CSV file.

Its output (stdout, or the file of ``-o``) is CSV only: the dense distance matrix
for up to :data:`DENSE_MAX_TASKS` tasks, else (or with ``--n-neighbors K``) the
``K`` nearest neighbours of every task as a long table ``task, neighbor, distance,
rank``, found by :func:`sk_metameta.neighbors.find_task_neighbors` block by block,
without the ``n_tasks x n_tasks`` matrix. What was done is reported on stderr (on
stdout with ``-o``).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import sys
import time

import numpy as np

from .._progress import progress_bar
from .._threads import one_blas_thread
from ._common import CommandError, positive_int
from ._task_csv import read_header, read_task_csv

__all__ = ["DENSE_MAX_TASKS", "add_similarity_parser"]

logger = logging.getLogger(__name__)

#: Most tasks written as a dense distance matrix; with more, the command writes
#: the nearest neighbours of each task (a long table) instead.
DENSE_MAX_TASKS = 1000
#: Neighbours per task in the long table when ``--n-neighbors`` is not given.
DEFAULT_NEIGHBORS = 10
#: Neighbours per task listed in the report, for at most this many tasks.
_REPORT_NEIGHBORS, _REPORT_MAX_TASKS = 3, 30
#: Target tasks per block of the neighbour search (one progress step).
_SEARCH_BLOCK = 512


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


def _components(args):
    """The metric and, for a metric on task features, the extractor."""
    from .._components import resolve_metric, resolve_task_features

    try:
        metric = resolve_metric(args.metric, param="--metric")
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if metric.space == "samples":
        if args.task_features is not None:
            raise CommandError(
                f"--metric {args.metric} compares the tasks' rows directly; drop "
                "--task-features, or choose a metric on task features."
            )
        return metric, None
    try:
        extractor = resolve_task_features(
            args.task_features or "moments", param="--task-features"
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return metric, extractor


def _check_target_choice(args) -> None:
    """The target column must never become a feature silently."""
    if args.target is not None or args.features is not None or args.no_target:
        return
    header = read_header(args.csv)
    others = [name for name in header if name != args.tasks]
    raise CommandError(
        "say which column is the target, so that it is not compared as a "
        "feature: --target COL, or --no-target to use every column but the task "
        f"column as a feature ({', '.join(others)}), or choose them with "
        "--features."
    )


def _check_tasks(args, metric, extractor, y, labels):
    """Task labels and row counts; refuse what the metric cannot compare."""
    needs_y = bool(getattr(metric, "requires_y", False)) or bool(
        extractor is not None and getattr(extractor, "requires_y", False)
    )
    if needs_y and y is None:
        who = f"--metric {args.metric}" if extractor is None else extractor.name
        if extractor is not None:
            who = f"--task-features {who}"
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
        int(getattr(metric, "min_rows", 1)), int(getattr(component, "min_rows", 1))
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
            else f"task features {extractor.name!r}"
        )
        raise CommandError(
            f"{what} needs at least {min_rows} rows per task; task {names}{more} "
            "has fewer."
        )
    return task_labels


def _neighbours_of_features(F, metric, k: int, progress: bool):
    """The ``k`` nearest other tasks of every task, by blocks of targets."""
    from ..neighbors import TaskNeighbors, find_task_neighbors

    n = F.shape[0]
    indices = np.empty((n, k), dtype=np.intp)
    distances = np.empty((n, k))
    with progress_bar(n, "nearest neighbours", enabled=progress, unit="task") as bar:
        for start in range(0, n, _SEARCH_BLOCK):
            stop = min(start + _SEARCH_BLOCK, n)
            found = find_task_neighbors(
                F[start:stop], F, metric=metric, n_neighbors=k + 1, exclude_self=False
            )
            # drop each target itself; with duplicate task features it may not
            # come first, and if it is not among them drop the farthest
            own = found.indices == np.arange(start, stop)[:, None]
            own[~own.any(axis=1), -1] = True
            indices[start:stop] = found.indices[~own].reshape(-1, k)
            distances[start:stop] = found.distances[~own].reshape(-1, k)
            bar.update(stop - start)
    return TaskNeighbors(indices, distances, n)


def _distances(X, y, labels, metric, extractor):
    """The dense task distance matrix (few tasks, or a metric on samples)."""
    from .. import task_distances

    try:
        return task_distances(
            X, y, tasks=labels, task_features=extractor, metric=metric
        ).distances
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _neighbours(X, y, labels, metric, extractor, k, progress):
    """The ``k`` nearest neighbours of every task, without a dense matrix if can be."""
    from .._task_space import fit_task_metric
    from .._tasks import check_tasks
    from ..neighbors import nearest_sources

    if extractor is None:  # a metric on samples compares every pair of tasks
        D = _distances(X, y, labels, metric, extractor)
        return nearest_sources(D, k)
    try:  # blocks of small products: BLAS threads would only wait for each other
        with one_blas_thread():
            F = extractor.fit_transform(X, y, tasks=labels)
            # a fitted metric ("learned") learns from the tasks' ridge models
            fit_task_metric(metric, F, extractor, X, y, check_tasks(labels, len(X)))
            return _neighbours_of_features(F, metric, k, progress)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _number(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits, trailing zeros kept.

    >>> from sk_metameta.cli._similarity import _number
    >>> _number(6.755, 6), _number(0.4415879, 6), _number(0.0, 3), _number(6.7, 1)
    ('6.75500', '0.441588', '0.00', '7')
    """
    text = f"{value:#.{digits}g}"
    return text[:-1] if text.endswith(".") else text


def _format_matrix(D: np.ndarray, labels: np.ndarray, digits: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["task", *labels.tolist()])
    for label, row in zip(labels.tolist(), D, strict=True):
        writer.writerow([label, *(_number(d, digits) for d in row)])
    return out.getvalue()


def _format_long(neighbours, labels: np.ndarray, digits: int) -> str:
    names = [str(label) for label in labels.tolist()]
    k = neighbours.indices.shape[1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["task", "neighbor", "distance", "rank"])
    writer.writerows(
        (names[i], names[j], _number(d, digits), rank + 1)
        for i, (row, dist) in enumerate(
            zip(neighbours.indices.tolist(), neighbours.distances.tolist(), strict=True)
        )
        for rank, (j, d) in enumerate(zip(row, dist, strict=True))
        if rank < k
    )
    return out.getvalue()


def _listing(neighbours, labels, digits) -> list:
    """The report's lines of each task's nearest neighbours."""
    names = [str(label) for label in labels.tolist()]
    width = max(len(name) for name in names)
    return [
        f"  {name.ljust(width)}  "
        + ", ".join(
            f"{names[j]} ({_number(d, digits)})"
            for j, d in zip(neighbours.indices[i], neighbours.distances[i], strict=True)
        )
        for i, name in enumerate(names)
    ]


def _run(args: argparse.Namespace) -> None:
    from ..neighbors import nearest_sources

    start = time.perf_counter()
    metric, extractor = _components(args)
    _check_target_choice(args)
    progress = not args.quiet
    X, y, labels, feature_names, classes = read_task_csv(
        args.csv,
        tasks=args.tasks,
        target=args.target,
        features=args.features,
        progress=progress,
    )
    if classes is not None and not args.quiet:
        codes = ", ".join(f"{c}={i}" for i, c in enumerate(classes.tolist()))
        print(
            f"note: target {args.target!r} is not numeric; encoded as {codes}.",
            file=sys.stderr,
        )
    task_labels = _check_tasks(args, metric, extractor, y, labels)
    n = task_labels.size
    long = args.n_neighbors is not None or n > DENSE_MAX_TASKS
    if long:
        k = min(args.n_neighbors or DEFAULT_NEIGHBORS, n - 1)
        neighbours = _neighbours(X, y, labels, metric, extractor, k, progress)
        text = _format_long(neighbours, task_labels, args.digits)
    else:
        D = _distances(X, y, labels, metric, extractor)
        text = _format_matrix(D, task_labels, args.digits)
        neighbours = nearest_sources(D, min(_REPORT_NEIGHBORS, n - 1))
    _write(text, args.output)
    logger.info("similarity: %d tasks in %.1f s", n, time.perf_counter() - start)
    report = _report(args, n, X.shape[0], feature_names, metric, extractor, long)
    if not long and n <= _REPORT_MAX_TASKS:
        k = neighbours.indices.shape[1]
        report += [f"nearest neighbours (k={k}):"]
        report += _listing(neighbours, task_labels, args.digits)
    if args.output or not args.quiet:
        stream = sys.stdout if args.output else sys.stderr
        print("\n".join(report), file=stream)


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise CommandError(f"cannot write {output!r}: {exc}") from None


def _report(args, n_tasks, n_rows, feature_names, metric, extractor, long) -> list:
    how = f"metric {metric.name!r}" + (
        f" on task features {extractor.name!r}" if extractor is not None else ""
    )
    target = f"target: {args.target}" if args.target else "no target"
    lines = [
        f"{n_tasks} tasks, {n_rows} rows, features: {', '.join(feature_names)}; "
        f"{target}; {how}."
    ]
    where = f"written to {args.output}" if args.output else "on stdout"
    if not long:
        lines.append(f"distance matrix ({n_tasks} x {n_tasks}) {where}.")
        return lines
    k = min(args.n_neighbors or DEFAULT_NEIGHBORS, n_tasks - 1)
    why = (
        f" (more than {DENSE_MAX_TASKS} tasks: no dense {n_tasks} x {n_tasks} "
        "matrix; --n-neighbors K chooses K)"
        if args.n_neighbors is None
        else ""
    )
    lines.append(
        f"the {k} nearest neighbours of each task, as a long table (task, neighbor, "
        f"distance, rank), {where}{why}."
    )
    if extractor is None:
        lines.append(
            f"metric {metric.name!r} compares the tasks' rows: all "
            f"{n_tasks} x {n_tasks} distances were computed to find them."
        )
    return lines


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
        help="task distances (or nearest neighbours) of a CSV file",
        description=(
            "Distances between the tasks of a CSV file (one row per sample, a "
            "column of task labels). A metric on task features compares the "
            "vectors that --task-features extracts from each task (default "
            "'moments'); a metric on samples (mmd, energy, ...) compares the "
            "tasks' rows directly. List the metrics and task features with "
            "`sk-metameta plugins`. Writes CSV only, on stdout or to -o: the "
            f"distance matrix for up to {DENSE_MAX_TASKS} tasks; with more tasks, "
            "or with --n-neighbors K, the K nearest neighbours of each task as a "
            "long table (task, neighbor, distance, rank), never a dense matrix. "
            "What was done is reported on stderr (on stdout with -o)."
        ),
    )
    parser.add_argument("csv", help="CSV file with a header row (.csv or .csv.gz)")
    parser.add_argument("--tasks", required=True, metavar="COL", help="task column")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--target",
        metavar="COL",
        default=None,
        help="target column (never a feature); one of --target, --no-target or "
        "--features is required",
    )
    target.add_argument(
        "--no-target",
        action="store_true",
        help="the file has no target: every column but --tasks is a feature",
    )
    parser.add_argument(
        "--features",
        nargs="+",
        metavar="COL",
        default=None,
        help="feature columns (default: every column but --tasks and --target)",
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
        default=None,
        metavar="K",
        help="write the K nearest neighbours of each task as a long table instead "
        f"of the matrix (default: the matrix up to {DENSE_MAX_TASKS} tasks, "
        f"{DEFAULT_NEIGHBORS} neighbours beyond)",
    )
    parser.add_argument(
        "--digits",
        type=positive_int,
        default=6,
        metavar="D",
        help="significant digits of every distance written (default: 6)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.csv",
        default=None,
        help="write the CSV to this file instead of stdout",
    )
    parser.set_defaults(func=_cmd_similarity)
    return parser
