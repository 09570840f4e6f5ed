"""Reading a multi-task CSV file: features, target and task labels by column name.

The file is read in chunks of rows, each turned into numpy columns at once, so a
file of a million rows needs little more memory than its numeric columns.
"""

from __future__ import annotations

import csv
import itertools
import logging
import os
import time
from collections import Counter

import numpy as np

from .._progress import progress_bar
from ._common import CommandError, open_text

__all__ = ["read_header", "read_task_csv"]

logger = logging.getLogger(__name__)

#: Rows turned into numpy columns at once.
_CHUNK_ROWS = 65_536


def _check_path(path: str) -> None:
    if not os.path.exists(path):
        raise CommandError(f"no such file: {path!r}.")
    if os.path.isdir(path):
        raise CommandError(f"{path!r} is a folder, not a CSV file.")


def _clean_header(header, path: str) -> list:
    if not header:
        raise CommandError(f"{path!r} is empty: expected a header row of column names.")
    header = [name.strip() for name in header]
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise CommandError(
            f"the header of {path!r} names column(s) "
            f"{', '.join(map(repr, repeated))} more than once; every column needs "
            "its own name."
        )
    return header


def read_header(path: str) -> list:
    """The column names of a CSV file (stripped; a UTF-8 byte order mark removed).

    Parameters
    ----------
    path : str
        CSV file with a header row (``.gz`` is decompressed).

    Returns
    -------
    names : list of str

    Raises
    ------
    CommandError
        For a missing or unreadable file, an empty file or a repeated name.
    """
    _check_path(path)
    try:
        with open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path!r} as a CSV file: {exc}") from None
    return _clean_header(header, path)


def _parse_numeric(values: np.ndarray, column: str, what: str, first_row: int):
    """The str array ``values`` as floats; a ``CommandError`` names a bad cell."""
    try:
        out = values.astype(float)
    except ValueError:
        for row, cell in enumerate(np.char.strip(values).tolist()):
            try:
                float(cell)
            except ValueError:
                shown = "an empty cell" if cell == "" else f"the value {cell!r}"
                raise CommandError(
                    f"{what} column {column!r} is not numeric: {shown} at data row "
                    f"{first_row + row + 1}. Choose numeric columns with --features."
                ) from None
        raise  # pragma: no cover - astype and float agree
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CommandError(
            f"{what} column {column!r} has a missing or infinite value "
            f"({values[row].strip()!r}) at data row {first_row + row + 1}."
        )
    return out


def _choose_columns(header, path, tasks, target, features) -> list:
    """The feature columns; refuse missing, repeated or conflicting choices."""
    if target is not None and target == tasks:
        raise CommandError(
            f"--target and --tasks name the same column {tasks!r}; the target "
            "cannot be the task label."
        )
    wanted = [tasks] + ([target] if target else []) + list(features or [])
    missing = [c for c in dict.fromkeys(wanted) if c not in header]
    if missing:
        raise CommandError(
            f"column(s) {', '.join(map(repr, missing))} not found in {path!r}; "
            f"available columns: {', '.join(header)}."
        )
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
    return list(features)


def _read_chunks(reader, header, columns, path, progress):
    """The named ``columns`` of the data rows, as lists of str arrays per chunk.

    Rows whose cells are all blank are skipped; data rows are numbered without
    them.
    """
    width, position = len(header), [header.index(c) for c in columns]
    parts = {c: [] for c in columns}
    n_rows = 0
    bar = progress_bar(None, f"reading {os.path.basename(path)}", enabled=progress)
    with bar:
        while chunk := list(itertools.islice(reader, _CHUNK_ROWS)):
            rows = [row for row in chunk if "".join(row).strip()]
            lengths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
            ragged = np.flatnonzero(lengths != width)
            if ragged.size:
                i = int(ragged[0])
                raise CommandError(
                    f"data row {n_rows + i + 1} of {path!r} has {lengths[i]} cells "
                    f"but the header has {width} columns."
                )
            if rows:
                cells = list(zip(*rows, strict=True))
                for c, j in zip(columns, position, strict=True):
                    parts[c].append(np.array(cells[j], dtype=str))
            n_rows += len(rows)
            bar.update(len(chunk))
    if not n_rows:
        raise CommandError(f"{path!r} has a header but no data rows.")
    return parts, n_rows


def _task_labels(chunks, tasks: str) -> np.ndarray:
    labels = np.char.strip(np.concatenate(chunks))
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise CommandError(
            f"task column {tasks!r} has an empty cell at data row {empty[0] + 1}; "
            "every row needs a task label."
        )
    try:
        return labels.astype(np.int64)
    except ValueError:
        return labels


def _target(chunks, target: str):
    values = np.char.strip(np.concatenate(chunks))
    try:
        return _parse_numeric(values, target, "target", 0), None
    except CommandError:
        if (values == "").any():
            row = int(np.flatnonzero(values == "")[0])
            raise CommandError(
                f"target column {target!r} has an empty cell at data row {row + 1}."
            ) from None
        classes, y = np.unique(values, return_inverse=True)
        return y, classes


def read_task_csv(path, *, tasks, target=None, features=None, progress=False):
    r"""Read the features, target and task labels of a CSV file.

    Parameters
    ----------
    path : str
        CSV file with a header row (``.gz`` is decompressed; a UTF-8 byte order
        mark is removed).
    tasks : str
        Column of task labels; labels that are all integers become ints.
    target : str, default=None
        Column of the target; a non-numeric target is encoded as ``0, 1, ...``
        in the sorted order of its values.
    features : list of str, default=None
        Feature columns; default every column but ``tasks`` and ``target``.
    progress : bool, default=False
        Show a progress bar of the rows read on stderr (only on a terminal).

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
        For a missing file, missing or repeated columns, ``target`` equal to
        ``tasks``, non-numeric or missing feature values, or a file without
        data rows.

    Examples
    --------
    >>> import os, tempfile
    >>> from sk_metameta.cli import read_task_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "shops.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("shop,price,sales\n1,2.0,10\n1,3.0,12\n2,2.5,7\n")
    >>> X, y, labels, names, _ = read_task_csv(path, tasks="shop", target="sales")
    >>> X.tolist(), y.tolist(), labels.tolist(), names
    ([[2.0], [3.0], [2.5]], [10.0, 12.0, 7.0], [1, 1, 2], ['price'])
    """
    _check_path(path)
    start = time.perf_counter()
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            header = _clean_header(next(reader, None), path)
            features = _choose_columns(header, path, tasks, target, features)
            columns = [tasks, *([target] if target else []), *features]
            parts, n_rows = _read_chunks(reader, header, columns, path, progress)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path!r} as a CSV file: {exc}") from None
    X = np.empty((n_rows, len(features)))
    for j, name in enumerate(features):
        first = 0
        for chunk in parts.pop(name):
            X[first : first + chunk.size, j] = _parse_numeric(
                chunk, name, "feature", first
            )
            first += chunk.size
    labels = _task_labels(parts.pop(tasks), tasks)
    y, classes = _target(parts.pop(target), target) if target else (None, None)
    logger.info(
        "read %d rows of %s in %.1f s: %d feature column(s)",
        n_rows,
        path,
        time.perf_counter() - start,
        len(features),
    )
    return X, y, labels, features, classes
