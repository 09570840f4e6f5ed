"""Reading a multi-task CSV file: features, target and task labels by column name."""

from __future__ import annotations

import csv
import os

import numpy as np

from ._common import CommandError, open_text

__all__ = ["read_task_csv"]


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
    >>> from sk_metameta.cli import read_task_csv
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
        with open_text(path) as handle:
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
