"""Loaders of the real multi-task datasets shipped with the package."""

from __future__ import annotations

import csv
import gzip
import io
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_contraception", "load_hsb"]

_DATA_PACKAGE = "sk_metameta.datasets"


def _read_csv(name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (as str) of the gzip-compressed CSV ``data/name``."""
    raw = resources.files(_DATA_PACKAGE).joinpath("data", name).read_bytes()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), "utf-8") as text:
        reader = csv.reader(text)
        header = next(reader)
        rows = [row for row in reader if row]
    return header, rows


def _columns(name: str) -> dict[str, np.ndarray]:
    """The columns of ``data/name`` as str arrays, by header name."""
    header, rows = _read_csv(name)
    table = np.array(rows, dtype=str)
    return {col: table[:, j] for j, col in enumerate(header)}


def _indicator(values: np.ndarray, positive: str, column: str) -> np.ndarray:
    """``1.0`` where ``values == positive`` and ``0.0`` elsewhere (two levels only)."""
    levels = set(np.unique(values).tolist())
    if not levels <= {positive} | _NEGATIVE[column]:
        raise ValueError(f"unexpected levels {sorted(levels)} in column {column!r}.")
    return (values == positive).astype(float)


_NEGATIVE = {
    "Minority": {"No"},
    "Sex": {"Male"},
    "use": {"N"},
    "urban": {"N"},
}


def _pandas(loader: str):
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a test dependency
        raise ImportError(
            f"{loader}(as_frame=True) needs pandas; install it with "
            "`pip install pandas`, or call it with as_frame=False."
        ) from exc
    return pd


def _package(
    *,
    loader: str,
    data: np.ndarray,
    target: np.ndarray,
    tasks: np.ndarray,
    feature_names: list[str],
    target_name: str,
    task_name: str,
    as_frame: bool,
    return_X_y_tasks: bool,
    descr: str,
    filename: str,
    extra: dict | None = None,
):
    """Return the tuple or the Bunch of a loader, as arrays or pandas objects."""
    frame = None
    if as_frame:
        pd = _pandas(loader)
        X = pd.DataFrame(data, columns=feature_names)
        y = pd.Series(target, name=target_name)
        t = pd.Series(tasks, name=task_name)
        frame = pd.concat([t, X, y], axis=1)
        data, target, tasks = X, y, t
    if return_X_y_tasks:
        return data, target, tasks
    bunch = Bunch(
        data=data,
        target=target,
        tasks=tasks,
        feature_names=list(feature_names),
        target_names=[target_name],
        task_name=task_name,
        frame=frame,
        DESCR=descr,
        filename=filename,
    )
    bunch.update(extra or {})
    return bunch


_HSB_STUDENT_FEATURES = ["Minority", "Sex", "SES"]
_HSB_SCHOOL_COLUMNS = ["Size", "Sector", "PRACAD", "DISCLIM", "HIMINTY", "MEANSES"]


def load_hsb(*, as_frame=False, return_X_y_tasks=False, include_meanses=False):
    """Load the High School and Beyond mathematics data (regression, 160 tasks).

    Mathematics achievement of 7,185 US high-school students in 160 schools, 14
    to 67 students per school. Each school is one task; the target is the
    student's mathematics achievement score ``MathAch``.

    =================  ==========================================
    Tasks (schools)                                          160
    Rows (students)                                        7,185
    Rows per task                                       14 to 67
    Features           3 (4 with ``include_meanses=True``)
    Target             ``MathAch``, real, -2.83 to 24.99
    =================  ==========================================

    Categorical columns are encoded as numbers: ``Minority`` is 1.0 for a student
    of an ethnic minority ("Yes") and 0.0 otherwise; ``Sex`` is 1.0 for "Female"
    and 0.0 for "Male" (the ``FEMALE`` indicator of Raudenbush and Bryk); ``SES``
    is the standardised socio-economic status, as published. ``MEANSES``, the
    mean ``SES`` of the student's school, is constant within a task.

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame, ``target`` and ``tasks`` are
        Series, and the Bunch has a ``frame`` with the task, feature and target
        columns (pandas is imported only then).
    return_X_y_tasks : bool, default=False
        If True, return ``(data, target, tasks)`` instead of a Bunch.
    include_meanses : bool, default=False
        If True, add the school-level column ``MEANSES`` as a fourth feature.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : {ndarray, DataFrame} of shape (7185, 3) or (7185, 4)
            Student features ``Minority``, ``Sex``, ``SES`` (and ``MEANSES``).
        target : {ndarray, Series} of shape (7185,)
            ``MathAch``.
        tasks : {ndarray, Series} of shape (7185,)
            School identifier (int) of each student, the task label.
        feature_names : list of str
            Names of the columns of ``data``.
        target_names : list of str
            ``["MathAch"]``.
        task_name : str
            ``"School"``.
        task_labels : ndarray of shape (160,)
            The schools, sorted: the rows of ``task_data``.
        task_data : ndarray of shape (160, 6)
            School-level table: ``Size`` (students enrolled), ``Sector`` (1.0
            for Catholic, 0.0 for Public), ``PRACAD`` (share of students on the
            academic track), ``DISCLIM`` (disciplinary climate), ``HIMINTY`` (1.0
            if more than 40% minority students) and ``MEANSES``.
        task_data_names : list of str
            Names of the columns of ``task_data``.
        frame : DataFrame of shape (7185, 5) or (7185, 6), or None
            Tasks, features and target together when ``as_frame=True``.
        DESCR : str
            This description.
        filename : str
            Name of the bundled student file.

    (data, target, tasks) : tuple if ``return_X_y_tasks`` is True
        The arrays (or pandas objects) described above.

    Notes
    -----
    Source: the 1982 High School and Beyond survey of the US National Center for
    Education Statistics, the subsample analysed by Raudenbush and Bryk (2002,
    ch. 4), as distributed in the R package nlme (data sets ``MathAchieve`` and
    ``MathAchSchool``). The files are shipped with the package, gzip-compressed;
    loading never touches the network.

    Known behaviour (ridge regression, 75/25 split inside each school): one pooled
    model explains about 0.18 of the variance, a separate model per school about
    0.16, and mixed models that share strength between schools do better.

    References
    ----------
    .. [1] S. W. Raudenbush and A. S. Bryk, *Hierarchical Linear Models:
       Applications and Data Analysis Methods*, 2nd ed., Sage, 2002.

    Examples
    --------
    >>> from sk_metameta.datasets import load_hsb
    >>> X, y, tasks = load_hsb(return_X_y_tasks=True)
    >>> X.shape, y.shape, len(set(tasks))
    ((7185, 3), (7185,), 160)
    >>> hsb = load_hsb(include_meanses=True)
    >>> hsb.feature_names, hsb.task_data.shape
    (['Minority', 'Sex', 'SES', 'MEANSES'], (160, 6))
    """
    filename = "hsb_students.csv.gz"
    cols = _columns(filename)
    features = [
        _indicator(cols["Minority"], "Yes", "Minority"),
        _indicator(cols["Sex"], "Female", "Sex"),
        cols["SES"].astype(float),
    ]
    names = list(_HSB_STUDENT_FEATURES)
    if include_meanses:
        features.append(cols["MEANSES"].astype(float))
        names.append("MEANSES")
    schools = _columns("hsb_schools.csv.gz")
    order = np.argsort(schools["School"].astype(int), kind="stable")
    sector = schools["Sector"]
    if not set(np.unique(sector).tolist()) <= {"Public", "Catholic"}:
        raise ValueError(f"unexpected levels {np.unique(sector)} in column 'Sector'.")
    task_data = np.column_stack(
        [
            (sector == "Catholic").astype(float)
            if c == "Sector"
            else schools[c].astype(float)
            for c in _HSB_SCHOOL_COLUMNS
        ]
    )[order]
    return _package(
        loader="load_hsb",
        data=np.column_stack(features),
        target=cols["MathAch"].astype(float),
        tasks=cols["School"].astype(int),
        feature_names=names,
        target_name="MathAch",
        task_name="School",
        as_frame=as_frame,
        return_X_y_tasks=return_X_y_tasks,
        descr=load_hsb.__doc__,
        filename=filename,
        extra={
            "task_labels": schools["School"].astype(int)[order],
            "task_data": task_data,
            "task_data_names": list(_HSB_SCHOOL_COLUMNS),
        },
    )


def load_contraception(*, as_frame=False, return_X_y_tasks=False):
    """Load the Bangladesh contraception data (binary classification, 60 tasks).

    Contraceptive use of 1,934 women in 60 districts of Bangladesh. Each district
    is one task; the target is whether the woman used contraception at the time
    of the survey.

    =================  ==========================================
    Tasks (districts)                                         60
    Rows (women)                                           1,934
    Rows per task                                      2 to 118
    Features           3: ``livch``, ``age``, ``urban``
    Target             ``use``, binary (1 = uses contraception)
    =================  ==========================================

    Columns are encoded as numbers: ``use`` is 1 for "Y" and 0 for "N";
    ``livch``, the number of living children, is 0.0, 1.0, 2.0 or 3.0, where 3.0
    stands for "3 or more" ("3+"); ``age`` is the age in years, centred on the
    sample mean, as published; ``urban`` is 1.0 for an urban and 0.0 for a rural
    area. District labels are ints from 1 to 61 (district 54 has no rows).

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame, ``target`` and ``tasks`` are
        Series, and the Bunch has a ``frame`` with the task, feature and target
        columns (pandas is imported only then).
    return_X_y_tasks : bool, default=False
        If True, return ``(data, target, tasks)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : {ndarray, DataFrame} of shape (1934, 3)
            Features ``livch``, ``age``, ``urban``.
        target : {ndarray, Series} of shape (1934,)
            ``use`` as int, 0 or 1.
        tasks : {ndarray, Series} of shape (1934,)
            District (int) of each woman, the task label.
        feature_names : list of str
            ``["livch", "age", "urban"]``.
        target_names : list of str
            ``["use"]``.
        task_name : str
            ``"district"``.
        frame : DataFrame of shape (1934, 5) or None
            Tasks, features and target together when ``as_frame=True``.
        DESCR : str
            This description.
        filename : str
            Name of the bundled file.

    (data, target, tasks) : tuple if ``return_X_y_tasks`` is True
        The arrays (or pandas objects) described above.

    Notes
    -----
    Source: the 1988 Bangladesh Fertility Survey, as distributed in the R package
    mlmRev (data set ``Contraception``); see Huq and Cleland (1990). The file is
    shipped with the package, gzip-compressed; loading never touches the network.

    References
    ----------
    .. [1] N. M. Huq and J. Cleland, *Bangladesh Fertility Survey 1989 (Main
       Report)*, National Institute of Population Research and Training, Dhaka,
       1990.

    Examples
    --------
    >>> from sk_metameta.datasets import load_contraception
    >>> X, y, tasks = load_contraception(return_X_y_tasks=True)
    >>> X.shape, y.shape, len(set(tasks))
    ((1934, 3), (1934,), 60)
    >>> sorted(set(y.tolist()))
    [0, 1]
    """
    filename = "contraception.csv.gz"
    cols = _columns(filename)
    livch_codes = {"0": 0.0, "1": 1.0, "2": 2.0, "3+": 3.0}
    unknown = set(np.unique(cols["livch"]).tolist()) - set(livch_codes)
    if unknown:
        raise ValueError(f"unexpected levels {sorted(unknown)} in column 'livch'.")
    levels, codes = np.unique(cols["livch"], return_inverse=True)
    livch = np.array([livch_codes[v] for v in levels.tolist()])[codes]
    data = np.column_stack(
        [livch, cols["age"].astype(float), _indicator(cols["urban"], "Y", "urban")]
    )
    return _package(
        loader="load_contraception",
        data=data,
        target=_indicator(cols["use"], "Y", "use").astype(int),
        tasks=cols["district"].astype(int),
        feature_names=["livch", "age", "urban"],
        target_name="use",
        task_name="district",
        as_frame=as_frame,
        return_X_y_tasks=return_X_y_tasks,
        descr=load_contraception.__doc__,
        filename=filename,
    )
