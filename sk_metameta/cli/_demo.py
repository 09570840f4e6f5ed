"""The ``sk-metameta demo`` command: few-shot transfer between the schools of HSB.

The methods it compares (:func:`demo_methods`), its data (:func:`demo_data`) and
its run (:func:`run_demo`); the figure of ``--plot`` is drawn by
:func:`~sk_metameta.cli.plot_demo`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping

import numpy as np

from .._tasks import check_tasks
from .._threads import one_blas_thread
from ..model_selection import PerTaskModel, PooledModel, few_shot_evaluation
from ..model_selection._few_shot import check_protocol
from ._common import positive_int
from ._demo_plot import check_plot_path, plot_demo

__all__ = [
    "add_demo_parser",
    "demo_data",
    "demo_methods",
    "demo_report",
    "describe_methods",
    "run_demo",
    "transfer_methods",
]

logger = logging.getLogger(__name__)

_RIDGE_ALPHAS = np.logspace(-1, 3, 9)

#: Repeats of the demo by default: enough for a spread and a paired test of the
#: winner against the runner-up, in about 15 s on 2 cores.
DEMO_REPEATS = 5

#: What the baselines of :func:`demo_methods` are, for the demo's legend.
_BASELINES = {
    "target-only ridge": "a ridge regression (alpha=1) per school, fitted on the "
    "school's k labelled students alone: no transfer",
    "pooled ridge": "one ridge regression (alpha=1) on the students of all "
    "schools, blind to the school",
    "pooled + task intercept": "pooled ridge plus one intercept per school, "
    "penalised together (penalty chosen by generalised cross-validation): the "
    "multilevel-model baseline",
}


def demo_methods() -> dict:
    """The methods the demo compares, by name.

    Returns
    -------
    methods : dict of str to estimator
        The baselines (target-only ridge, pooled ridge, pooled ridge with a
        per-task intercept whose penalty is chosen by generalised
        cross-validation) and :class:`~sk_metameta.TransferRegressor` with each
        registered transfer rule it supports.
    """
    from sklearn.linear_model import Ridge, RidgeCV

    methods = {
        "target-only ridge": PerTaskModel(Ridge(alpha=1.0)),
        "pooled ridge": PooledModel(Ridge(alpha=1.0)),
        "pooled + task intercept": PooledModel(
            RidgeCV(alphas=_RIDGE_ALPHAS), task_intercept=True
        ),
    }
    methods.update(transfer_methods())
    return methods


def _fits_linear_models(rule) -> bool:
    """Whether :class:`~sk_metameta.TransferRegressor` can use the transfer ``rule``.

    It can unless the rule transfers parameters without implementing
    ``fit_linear`` (the base class builds linear models for the other kinds).
    """
    from ..transfer.base import BaseTransferRule

    overrides = type(rule).fit_linear is not BaseTransferRule.fit_linear
    return overrides or rule.transfers != "parameters"


def transfer_methods() -> dict:
    """TransferRegressor with its defaults and with every built-in rule it supports.

    Returns
    -------
    methods : dict of str to TransferRegressor
        ``"TransferRegressor (default: <rule>)"`` first, then one
        ``"TransferRegressor (<rule>)"`` per other transfer rule of the built-in
        plugin in the registry (:func:`sk_metameta.plugins.get_registry`) that it
        can fit.
    """
    from .. import TransferRegressor
    from ..plugins import BUILTIN_PLUGIN, get_registry

    default = TransferRegressor()
    methods = {f"TransferRegressor (default: {default.transfer})": default}
    for component in get_registry().components("transfer_rule"):
        if component.plugin != BUILTIN_PLUGIN or component.name == default.transfer:
            continue
        if _fits_linear_models(component.create()):
            methods[f"TransferRegressor ({component.name})"] = TransferRegressor(
                transfer=component.name
            )
    return methods


def describe_methods(names) -> dict:
    """One line on each method of the demo: what the name in the table means.

    Parameters
    ----------
    names : iterable of str
        Method names, as in :func:`demo_methods`; others are left out.

    Returns
    -------
    legend : dict of str to str
        A description of each known method, in the order given.

    Examples
    --------
    >>> from sk_metameta.cli import describe_methods
    >>> legend = describe_methods(["pooled ridge", "TransferRegressor (none)"])
    >>> print(legend["TransferRegressor (none)"])
    TransferRegressor, transfer rule 'none': No transfer: each task alone ...
    """
    from ..plugins import get_registry

    summaries = {c.name: c.summary for c in get_registry().components("transfer_rule")}
    legend = {}
    for name in names:
        if name in _BASELINES:
            legend[name] = _BASELINES[name]
            continue
        rule = name.removeprefix("TransferRegressor (").removesuffix(")")
        default = rule.startswith("default: ")
        rule = rule.removeprefix("default: ")
        if not name.startswith("TransferRegressor (") or rule not in summaries:
            continue
        what = f"transfer rule {rule!r}: {summaries[rule]}"
        legend[name] = (
            f"TransferRegressor with its defaults ({what})"
            if default
            else f"TransferRegressor, {what}"
        )
    return legend


def demo_report(result) -> str:
    """The demo's text after the table: the verdict, notes and the legend.

    Parameters
    ----------
    result : FewShotResult
        The demo's evaluation.

    Returns
    -------
    report : str
        The verdict at each ``k`` (best method, its lead over the runner-up,
        beyond noise or not), a note on methods that scored identically, and
        one line on every method.
    """
    better = "higher" if result.greater_is_better else "lower"
    lines = [f"verdict ({result.label}, {better} is better):"]
    lines += [f"  {line}" for line in result.verdict()]
    for group in result.identical_methods():
        names = " and ".join(repr(name) for name in group)
        lines.append(
            f"note: {names} scored the same in every repeat: they make the same "
            "predictions here."
        )
    legend = describe_methods(result.methods)
    if legend:
        lines.append("methods:")
        lines += [f"  {name}: {text}" for name, text in legend.items()]
    return "\n".join(lines)


def demo_data(max_tasks: int | None = None):
    """The rows of the demo: High School and Beyond, optionally fewer schools.

    Parameters
    ----------
    max_tasks : int, default=None
        Keep only the first ``max_tasks`` schools (by label).

    Returns
    -------
    X, y, tasks : ndarrays
        As :func:`sk_metameta.datasets.load_hsb` with ``return_X_y_tasks=True``.
    """
    from ..datasets import load_hsb

    X, y, tasks = load_hsb(return_X_y_tasks=True)
    if max_tasks is not None:
        if max_tasks < 2:
            raise ValueError(f"--max-tasks must be at least 2, got {max_tasks}.")
        keep = np.isin(tasks, np.unique(tasks)[:max_tasks])
        X, y, tasks = X[keep], y[keep], tasks[keep]
    return X, y, tasks


def run_demo(
    *,
    ks=(5, 10, 20),
    n_folds: int = 5,
    n_repeats: int = DEMO_REPEATS,
    random_state=0,
    max_tasks: int | None = None,
    methods: Mapping[str, object] | None = None,
    progress: bool = True,
):
    """The demo's few-shot evaluation on the High School and Beyond data.

    Parameters
    ----------
    ks : sequence of int, default=(5, 10, 20)
        Labelled students per target school.
    n_folds : int, default=5
        Folds of target schools.
    n_repeats : int, default=5
        Repeats with new folds and labelled students.
    random_state : int, RandomState instance or None, default=0
        Seed.
    max_tasks : int, default=None
        Use only the first ``max_tasks`` schools (by label), for a quick run.
    methods : mapping of str to estimator, default=None
        Methods to compare; default :func:`demo_methods`.
    progress : bool, default=True
        Show a progress bar on stderr while stderr is a terminal.

    Returns
    -------
    result : FewShotResult
        The scores (explained variance pooled over the test rows).
    data : tuple of (X, y, tasks)
        The rows used.

    Notes
    -----
    The fits run with one BLAS thread: the demo's matrices are small, and BLAS
    threads waiting for each other made it three times slower on a busy machine.
    """
    X, y, tasks = demo_data(max_tasks)
    logger.info(
        "High School and Beyond: %d students in %d schools, %d method(s)",
        X.shape[0],
        np.unique(tasks).size,
        len(demo_methods() if methods is None else methods),
    )
    # small matrices: BLAS threads only wait for each other (3x slower on a busy
    # 2-core machine)
    with one_blas_thread():
        result = few_shot_evaluation(
            X,
            y,
            tasks,
            demo_methods() if methods is None else methods,
            ks,
            n_folds=n_folds,
            n_repeats=n_repeats,
            random_state=random_state,
            progress=progress,
        )
    return result, (X, y, tasks)


def _cmd_demo(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    try:  # the user's mistakes: reported in one line, before any work
        if args.plot:
            check_plot_path(args.plot)
        _, _, tasks = demo_data(args.max_tasks)
        check_protocol(
            check_tasks(tasks), args.k, n_folds=args.folds, n_repeats=args.repeats
        )
    except ValueError as exc:
        print(f"sk-metameta demo: error: {exc}", file=sys.stderr)
        return 2
    result, (X, y, tasks) = run_demo(
        ks=args.k,
        n_folds=args.folds,
        n_repeats=args.repeats,
        random_state=args.random_state,
        max_tasks=args.max_tasks,
        progress=not args.quiet,
    )
    print(
        "High School and Beyond: mathematics achievement of students in US schools;"
        " one task per school.\nEvery school in turn is the target with k labelled "
        "students; the other schools are sources."
    )
    print(result.table())
    print()
    print(demo_report(result))
    if args.plot:
        plot_demo(result, X, y, tasks, args.plot, task_name="schools")
        print(f"figure written to {args.plot}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` command to the ``sk-metameta`` command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command registry of the main parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``demo`` parser.
    """
    parser = subparsers.add_parser(
        "demo",
        help="few-shot transfer between schools on the embedded real dataset",
        description=(
            "Few-shot evaluation on High School and Beyond (7,185 students, 160 "
            "schools): each school in turn is a target with k labelled students, "
            "the other schools are sources, the target's other students are the "
            "test set. Prints the explained variance of the test rows (pooled over "
            "all targets' test rows; higher is better) of the baselines and of "
            "TransferRegressor with each transfer rule, as mean ± sd over the "
            "repeats, what won at each k and whether it is beyond noise, and what "
            "each method is."
        ),
    )
    parser.add_argument(
        "--k",
        nargs="+",
        type=positive_int,
        default=[5, 10, 20],
        metavar="K",
        help="labelled students per target school (default: 5 10 20)",
    )
    parser.add_argument(
        "--folds",
        type=positive_int,
        default=5,
        help="folds of target schools; each fold is fitted once (default: 5)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=DEMO_REPEATS,
        help="repeats with new folds and labelled students, for the spread and "
        f"the verdict (default: {DEMO_REPEATS})",
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="random seed (default: 0)"
    )
    parser.add_argument(
        "--max-tasks",
        type=positive_int,
        default=None,
        metavar="N",
        help="use only the first N schools, for a quick run",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        default=None,
        help="write a figure: school similarity heatmap and learning curves "
        "(needs matplotlib: pip install sk-metameta[plot])",
    )
    parser.set_defaults(func=_cmd_demo)
    return parser
