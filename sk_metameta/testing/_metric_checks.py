"""Conformance check of task metrics: the declared axioms and the output contract."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .._components import resolve_metric
from ..metrics.base import AXIOMS, BaseTaskMetric, FeatureMetric, SampleMetric
from ._common import (
    assert_close,
    call,
    check_clone,
    describe,
    fail,
    fmt,
    fresh,
    hypothesis_settings,
    resolve,
)
from ._strategies import DEFAULT_BOUNDS, finite_floats, task_labels

__all__ = ["check_metric"]

#: Rows closer than this (relative to their size) are not "clearly different".
_SEPARATION = 1e-2


def check_metric(
    metric: Any,
    *,
    axioms: Iterable[str] | None = None,
    max_examples: int | None = None,
    settings: hypothesis.settings | None = None,
    atol: float = 1e-6,
    rtol: float = 1e-6,
    bounds: tuple[float, float] | None = None,
    min_rows: int | None = None,
    y_elements: st.SearchStrategy | None = None,
) -> None:
    """Check that a task metric satisfies exactly the axioms it declares.

    Hypothesis draws inputs and the check verifies every axiom in
    ``metric.axioms`` (see :data:`~sk_metameta.metrics.AXIOMS`) and the output
    contract of ``pairwise``:

    - the output is a finite float array of shape ``(n_a, n_b)``;
    - ``pairwise(A)`` equals ``pairwise(A, A)``, and a rectangular call equals the
      matching block of the square one;
    - ``non_negativity``: every distance is ``>= 0``;
    - ``zero_self_distance``: ``d(a, a) = 0``; for a sample metric, two tasks with
      the same rows in another order are at distance ``0`` as well;
    - ``identity_of_indiscernibles``: clearly different inputs are at a distance
      greater than ``atol`` (feature vectors that differ by more than ``1e-2`` of
      their size, parallel ones included; for a sample metric, a task and its
      copies shifted by a margin or contracted toward their mean);
    - ``symmetry``: ``d(a, b) = d(b, a)``, in square and rectangular calls;
    - ``triangle_inequality``: ``d(a, c) <= d(a, b) + d(b, c)`` for every triple.

    A feature metric (:class:`~sk_metameta.metrics.FeatureMetric`) gets random
    task-feature vectors, among them copies, midpoints, multiples and collinear
    extensions of one another (where squared distances and angles fail). A sample
    metric (:class:`~sk_metameta.metrics.SampleMetric`) gets random multi-task
    samples with at least ``min_rows`` rows per task, arbitrary task labels and
    interleaved rows. Floats are compared with the tolerance
    ``atol + rtol * |rhs|``, where a distance of ``0`` may be off by
    ``atol + rtol * max(distances)`` (by ``atol`` only for the identity of
    indiscernibles).

    Parameters
    ----------
    metric : str, BaseTaskMetric, type or callable
        The metric: a registered name, an instance, a class or ``func(u, v)``.
    axioms : iterable of str, default=None
        Axioms to check instead of the declared ones (to test the check itself).
    max_examples : int, default=None
        Number of Hypothesis examples; ``None`` uses the active settings profile.
    settings : hypothesis.settings, default=None
        Settings to start from instead of the active profile (for example
        ``settings(phases=[Phase.generate])`` to skip shrinking).
    atol : float, default=1e-6
        Absolute tolerance of every comparison.
    rtol : float, default=1e-6
        Relative tolerance of every comparison.
    bounds : (float, float), default=None
        Range of the drawn values. ``None`` draws in the metric's declared
        ``input_bounds`` within :data:`DEFAULT_BOUNDS` (``(-100.0, 100.0)``): a
        metric of non-negative vectors declares ``input_bounds = (0.0, None)``
        and gets values in ``[0, 100]``, here and in :func:`check_plugin`.
    min_rows : int, default=None
        Least number of rows per task for a sample metric; default
        ``metric.min_rows``.
    y_elements : SearchStrategy, default=None
        Values of ``y`` for a sample metric that declares ``requires_y``; default
        bounded floats. Pass ``hypothesis.strategies.integers(0, 2)`` for one
        that compares class labels.

    Raises
    ------
    AssertionError
        Naming the metric, the axiom or contract it breaks and the counter-example.

    See Also
    --------
    check_task_features : The check of task feature extractors.
    check_plugin : Every check, over the components of a plugin.

    Examples
    --------
    >>> from sk_metameta.metrics import EuclideanMetric, FeatureMetric, METRIC
    >>> from sk_metameta.testing import check_metric
    >>> check_metric(EuclideanMetric(), max_examples=10)

    Squared Euclidean distance breaks the triangle inequality, so declaring it a
    metric fails:

    >>> class SquaredEuclidean(FeatureMetric):
    ...     name, summary, axioms = "sqeuclidean", "Squared distance.", METRIC
    ...     def _pairwise(self, A, B):
    ...         return ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=-1)
    >>> try:
    ...     check_metric(SquaredEuclidean(), max_examples=50)
    ... except AssertionError as exc:
    ...     print(str(exc)[:70])
    metric 'sqeuclidean' (SquaredEuclidean): declares triangle_inequality:
    """
    metric = resolve(metric, resolve_metric, BaseTaskMetric, "metric")
    who = describe(metric, "metric")
    declared = _declared_axioms(metric, who, axioms)
    _check_attributes(metric, who)
    check_clone(metric, who)
    bounds = _drawn_bounds(metric, who) if bounds is None else bounds
    if float(bounds[1]) <= float(bounds[0]):
        raise ValueError(f"bounds must be (low, high) with low < high; got {bounds}.")
    tol = _Tolerance(float(atol), float(rtol))

    if isinstance(metric, FeatureMetric):

        @given(_feature_points(bounds))
        def conforms(points):
            _check_feature_example(metric, points, declared, tol, who)

    else:
        rows = metric.min_rows if min_rows is None else int(min_rows)

        if not metric.requires_y:
            y_elements = None
        elif y_elements is None:
            y_elements = finite_floats(*bounds)

        @given(_task_samples(bounds, max(rows, 1), y_elements))
        def conforms(sample):
            _check_sample_example(metric, sample, declared, tol, who)

    hypothesis_settings(max_examples, settings)(conforms)()


# -- declarations -----------------------------------------------------------------
def _declared_axioms(metric: Any, who: str, override) -> frozenset:
    if override is not None:
        axioms = frozenset([override] if isinstance(override, str) else override)
        unknown = sorted(axioms - set(AXIOMS))
        if unknown:
            raise ValueError(f"unknown axioms {unknown}; choose from {list(AXIOMS)}.")
        return axioms
    declared = getattr(metric, "axioms", None)
    if not isinstance(declared, (set, frozenset)) or not all(
        isinstance(a, str) for a in declared
    ):
        fail(
            who,
            "declared axioms",
            f"axioms must be a frozenset of names from AXIOMS, got {declared!r}",
        )
    unknown = sorted(set(declared) - set(AXIOMS))
    if unknown:
        fail(
            who,
            "declared axioms",
            f"unknown axioms {unknown}; the known ones are {list(AXIOMS)}",
        )
    return frozenset(declared)


def _check_attributes(metric: Any, who: str) -> None:
    if not isinstance(metric, BaseTaskMetric):
        fail(
            who,
            "type",
            "a task metric must be an instance of FeatureMetric or SampleMetric",
        )
    if not isinstance(metric, (FeatureMetric, SampleMetric)):
        fail(who, "type", "it must derive from FeatureMetric or SampleMetric")
    expected = "features" if isinstance(metric, FeatureMetric) else "samples"
    if metric.space != expected:
        fail(who, "space", f"space is {metric.space!r}; expected {expected!r}")
    for attribute in ("name", "summary"):
        value = getattr(metric, attribute, None)
        if not isinstance(value, str) or not value.strip() or "\n" in value.strip():
            fail(who, attribute, f"must be a non-empty one-line str, got {value!r}")
    if not isinstance(metric.min_rows, (int, np.integer)) or metric.min_rows < 1:
        fail(who, "min_rows", f"must be an int >= 1, got {metric.min_rows!r}")
    if not isinstance(metric.requires_y, (bool, np.bool_)):
        fail(who, "requires_y", f"must be a bool, got {metric.requires_y!r}")


def _drawn_bounds(metric: Any, who: str) -> tuple[float, float]:
    """The declared ``input_bounds``, within :data:`DEFAULT_BOUNDS` where they meet."""
    declared = getattr(metric, "input_bounds", (None, None))
    if (
        not isinstance(declared, tuple)
        or len(declared) != 2
        or not all(b is None or isinstance(b, (int, float)) for b in declared)
        or not all(b is None or np.isfinite(b) for b in declared)
        or (None not in declared and declared[0] >= declared[1])
    ):
        fail(
            who,
            "input_bounds",
            f"must be (low, high), each a finite float or None, low < high; got "
            f"{declared!r}",
        )
    d_low, d_high = DEFAULT_BOUNDS
    low = d_low if declared[0] is None else float(declared[0])
    high = d_high if declared[1] is None else float(declared[1])
    if max(low, d_low) < min(high, d_high):
        return max(low, d_low), min(high, d_high)
    # a domain beside the default range: a range of the same width at its bound
    if declared[1] is None:
        return low, low + (d_high - d_low)
    if declared[0] is None:
        return high - (d_high - d_low), high
    return low, high


# -- the axioms on one distance matrix -------------------------------------------
@dataclass(frozen=True)
class _Tolerance:
    atol: float
    rtol: float


@dataclass
class _Points:
    """Points (vectors or tasks) of a distance matrix, with what is known of them."""

    describe: Callable[[int], str]
    #: pairs known to be the same point, with why
    same: list[tuple[int, int, str]] = field(default_factory=list)
    #: pairs known to be clearly different points, with why
    different: list[tuple[int, int, str]] = field(default_factory=list)


def _check_output(D: Any, shape: tuple[int, int], who: str, call_text: str) -> None:
    if not isinstance(D, np.ndarray):
        fail(who, "output", f"{call_text} returned a {type(D).__name__}, not ndarray")
    if D.shape != shape:
        fail(who, "output", f"{call_text} returned shape {D.shape}, expected {shape}")
    if D.dtype.kind != "f":
        fail(who, "output", f"{call_text} returned dtype {D.dtype}, expected float")
    if not np.isfinite(D).all():
        fail(who, "output", f"{call_text} returned non-finite values {fmt(D)}")


def _check_axioms(
    D: np.ndarray, declared: frozenset, points: _Points, tol: _Tolerance, who: str
) -> None:
    name = points.describe
    scale = float(np.abs(D).max(initial=0.0))
    zero = tol.atol + tol.rtol * scale  # how far from 0 a distance of 0 may be

    if "non_negativity" in declared:
        i, j = np.unravel_index(int(np.argmin(D)), D.shape)
        if D[i, j] < -zero:
            fail(
                who,
                "declares non_negativity",
                f"d(a, b) = {fmt(D[i, j])} < 0 for a = {name(i)}, b = {name(j)}",
            )

    if "zero_self_distance" in declared:
        diag = np.abs(np.diag(D))
        i = int(np.argmax(diag))
        if diag[i] > zero:
            fail(
                who,
                "declares zero_self_distance",
                f"d(a, a) = {fmt(D[i, i])} is not 0 (tolerance {zero:.3g}) for "
                f"a = {name(i)}",
            )
        for i, j, why in points.same:
            for p, q in ((i, j), (j, i)):
                if abs(D[p, q]) > zero:
                    fail(
                        who,
                        "declares zero_self_distance",
                        f"d(a, b) = {fmt(D[p, q])} is not 0 (tolerance {zero:.3g}) "
                        f"although {why}: a = {name(p)}, b = {name(q)}",
                    )

    if "identity_of_indiscernibles" in declared:
        # clearly different points are far from equal: their distance must exceed
        # atol itself (a tolerance scaled by the largest distance would excuse
        # metrics that are flat near 0, such as squared distances)
        for i, j, why in points.different:
            for p, q in ((i, j), (j, i)):
                if D[p, q] <= tol.atol:
                    fail(
                        who,
                        "declares identity_of_indiscernibles",
                        f"d(a, b) = {fmt(D[p, q])} is 0 (tolerance {tol.atol:.3g}) "
                        f"although {why}: a = {name(p)}, b = {name(q)}",
                    )

    if "symmetry" in declared:
        excess = np.abs(D - D.T) - (zero + tol.rtol * np.abs(D.T))
        i, j = np.unravel_index(int(np.argmax(excess)), D.shape)
        if excess[i, j] > 0:
            fail(
                who,
                "declares symmetry",
                f"d(a, b) = {fmt(D[i, j])} but d(b, a) = {fmt(D[j, i])} for "
                f"a = {name(i)}, b = {name(j)}",
            )

    if "triangle_inequality" in declared and D.shape[0] >= 3:
        rhs = D[:, :, None] + D[None, :, :]  # [i, j, k] = d(i, j) + d(j, k)
        lhs = D[:, None, :]  # [i, j, k] = d(i, k)
        excess = lhs - rhs - (zero + tol.rtol * np.abs(rhs))
        i, j, k = np.unravel_index(int(np.argmax(excess)), excess.shape)
        if excess[i, j, k] > 0:
            fail(
                who,
                "declares triangle_inequality",
                f"d(a, c) = {fmt(D[i, k])} > d(a, b) + d(b, c) = {fmt(D[i, j])} + "
                f"{fmt(D[j, k])} for a = {name(i)}, b = {name(j)}, c = {name(k)}",
            )


# -- feature metrics --------------------------------------------------------------
@st.composite
def _feature_points(draw, bounds: tuple[float, float]):
    """Task-feature vectors, some derived from others, and a split into A, B."""
    low, high = bounds
    n_features = draw(st.integers(1, 4))
    base = draw(
        hnp.arrays(
            np.float64,
            (draw(st.integers(1, 4)), n_features),
            elements=finite_floats(low, high),
        )
    )
    rows = list(base)
    for _ in range(draw(st.integers(0, 4))):
        how = draw(st.sampled_from(("copy", "midpoint", "multiple", "extension")))
        a = rows[draw(st.integers(0, len(rows) - 1))]
        b = rows[draw(st.integers(0, len(rows) - 1))]
        if how == "copy":
            new = a.copy()
        elif how == "midpoint":
            new = 0.5 * a + 0.5 * b
        elif how == "multiple":
            new = a * draw(st.sampled_from((0.5, 2.0, 3.0)))
        else:  # a, b, 2b - a lie on one line
            new = 2.0 * b - a
        if ((new >= low) & (new <= high)).all():
            rows.append(new)
    P = np.vstack(rows)
    split = draw(st.integers(1, max(P.shape[0] - 1, 1)))
    return P, split


def _feature_pairs(P: np.ndarray) -> _Points:
    points = _Points(describe=lambda i: fmt(P[i]))
    n = P.shape[0]
    size = np.abs(P).max(axis=1)
    for i in range(n):
        for j in range(i + 1, n):
            gap = np.abs(P[i] - P[j]).max()
            if gap == 0:
                points.same.append((i, j, "a and b are equal"))
            elif gap > _SEPARATION * max(1.0, size[i], size[j]):
                points.different.append((i, j, "a and b differ"))
    return points


def _check_feature_example(metric, example, declared, tol, who) -> None:
    P, split = example
    m = fresh(metric)
    n = P.shape[0]
    D = call(who, "pairwise(A)", m.pairwise, P)
    _check_output(D, (n, n), who, f"pairwise(A) with A = {fmt(P)}")
    _check_axioms(D, declared, _feature_pairs(P), tol, who)

    zero = tol.atol + tol.rtol * float(np.abs(D).max(initial=0.0))
    context = f" for A = {fmt(P)}"
    D2 = call(who, "pairwise(A, A)", m.pairwise, P, P)
    _check_output(D2, (n, n), who, f"pairwise(A, A) with A = {fmt(P)}")
    assert_close(
        D2,
        D,
        atol=zero,
        rtol=tol.rtol,
        who=who,
        what="pairwise(A, A) differs from pairwise(A)",
        context=context,
    )
    if n < 2:
        return
    A, B = P[:split], P[split:]
    context = f" for A = {fmt(A)}, B = {fmt(B)}"
    R = call(who, "pairwise(A, B)", m.pairwise, A, B)
    _check_output(R, (A.shape[0], B.shape[0]), who, "pairwise(A, B)" + context)
    assert_close(
        R,
        D[:split, split:],
        atol=zero,
        rtol=tol.rtol,
        who=who,
        what="pairwise(A, B) differs from the block of pairwise(vstack(A, B))",
        context=context,
    )
    if "symmetry" in declared:
        R2 = call(who, "pairwise(B, A)", m.pairwise, B, A)
        _check_output(R2, (B.shape[0], A.shape[0]), who, "pairwise(B, A)" + context)
        assert_close(
            R2,
            R.T,
            atol=zero,
            rtol=tol.rtol,
            who=who,
            what="declares symmetry but pairwise(B, A) is not pairwise(A, B).T",
            context=context,
        )


# -- sample metrics ---------------------------------------------------------------
@dataclass
class _Sample:
    X: np.ndarray
    y: np.ndarray | None
    tasks: np.ndarray
    blocks: list  # (X_t, y_t) of each task, in the order the tasks were made
    labels: list  # label of each block
    same: list  # (block, block, why)
    different: list  # (block, block, why)
    split: list  # blocks of the first group of the rectangular call

    def __repr__(self) -> str:  # what Hypothesis prints as falsifying example
        y = "" if self.y is None else f", y={fmt(self.y)}"
        return f"_Sample(X={fmt(self.X)}{y}, tasks={self.tasks.tolist()!r})"


@st.composite
def _task_samples(draw, bounds: tuple[float, float], min_rows: int, y_elements):
    """Tasks drawn at random, plus copies, shifts and contractions of the first."""
    low, high = bounds
    elements = finite_floats(low, high)
    n_features = draw(st.integers(1, 3))
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        m = draw(st.integers(min_rows, min_rows + 4))
        Xt = draw(hnp.arrays(np.float64, (m, n_features), elements=elements))
        yt = None
        if y_elements is not None:
            yt = np.asarray(draw(st.lists(y_elements, min_size=m, max_size=m)))
        blocks.append((Xt, yt))
    same, different = [], []
    X0, y0 = blocks[0]

    order = np.asarray(draw(st.permutations(range(X0.shape[0]))), dtype=int)
    if (order == np.arange(order.size)).all():
        order = order[::-1].copy()  # another order, whenever there are two rows
    blocks.append((X0[order], None if y0 is None else y0[order]))
    same.append((0, len(blocks) - 1, "b has the rows of a in another order"))

    step = (high - low) / 8.0
    room_up = X0.max(axis=0) + 2 * step <= high
    room_down = X0.min(axis=0) - 2 * step >= low
    shift = np.where(room_up, step, np.where(room_down, -step, 0.0))
    if shift.any():
        first = len(blocks)
        blocks.append((X0 + shift, y0))
        blocks.append((X0 + 2 * shift, y0))
        why = f"b is a shifted by {fmt(shift)}"
        different.append((0, first, why))
        different.append((first, first + 1, why))
        different.append((0, first + 1, f"b is a shifted by {fmt(2 * shift)}"))

    centre = X0.mean(axis=0)
    if np.abs(X0 - centre).max() >= 0.01 * (high - low):
        blocks.append((centre + 0.5 * (X0 - centre), y0))
        different.append(
            (0, len(blocks) - 1, "b is a contracted by half toward its mean")
        )

    labels = draw(task_labels(len(blocks)))
    counts = [b[0].shape[0] for b in blocks]
    X = np.vstack([b[0] for b in blocks])
    y = None if y_elements is None else np.concatenate([b[1] for b in blocks])
    codes = np.repeat(np.arange(len(blocks)), counts)
    shuffle = np.asarray(draw(st.permutations(range(X.shape[0]))), dtype=int)
    X, codes = X[shuffle], codes[shuffle]
    y = None if y is None else y[shuffle]
    tasks = np.asarray(labels)[codes]
    split = (
        sorted(
            draw(
                st.sets(
                    st.integers(0, len(blocks) - 1),
                    min_size=1,
                    max_size=len(blocks) - 1,
                )
            )
        )
        if len(blocks) > 1
        else []
    )
    return _Sample(X, y, tasks, blocks, labels, same, different, split)


def _check_sample_example(metric, sample: _Sample, declared, tol, who) -> None:
    m = fresh(metric)
    X, y, tasks = sample.X, sample.y, sample.tasks
    sorted_labels = np.unique(np.asarray(sample.labels))
    # position of each block in the task order (sorted labels) of the output
    pos = np.searchsorted(sorted_labels, np.asarray(sample.labels))
    block_of = np.empty(len(pos), dtype=int)
    block_of[pos] = np.arange(len(pos))
    n = len(pos)

    def name(i: int) -> str:
        Xt, yt = sample.blocks[block_of[i]]
        y_text = "" if yt is None else f" and y {fmt(yt)}"
        return f"task {sample.labels[block_of[i]]!r} with rows {fmt(Xt)}{y_text}"

    D = call(who, "pairwise(X, tasks)", m.pairwise, X, tasks, y=y, y_other=y)
    _check_output(D, (n, n), who, f"pairwise(X, tasks) with {sample!r}")
    points = _Points(
        describe=name,
        same=[(pos[a], pos[b], why) for a, b, why in sample.same],
        different=[(pos[a], pos[b], why) for a, b, why in sample.different],
    )
    _check_axioms(D, declared, points, tol, who)

    zero = tol.atol + tol.rtol * float(np.abs(D).max(initial=0.0))
    D2 = call(
        who,
        "pairwise(X, tasks, X, tasks)",
        m.pairwise,
        X,
        tasks,
        X,
        tasks,
        y=y,
        y_other=y,
    )
    _check_output(D2, (n, n), who, f"pairwise(X, tasks, X, tasks) with {sample!r}")
    assert_close(
        D2,
        D,
        atol=zero,
        rtol=tol.rtol,
        who=who,
        what="pairwise(X, tasks, X, tasks) differs from pairwise(X, tasks)",
        context=f" for {sample!r}",
    )
    if not sample.split:
        return
    in_a = np.isin(tasks, np.asarray(sample.labels)[sample.split])
    ia = np.sort(pos[sample.split])
    ib = np.setdiff1d(np.arange(n), ia)
    Xa, ta, Xb, tb = X[in_a], tasks[in_a], X[~in_a], tasks[~in_a]
    ya = None if y is None else y[in_a]
    yb = None if y is None else y[~in_a]
    context = (
        f" for X_a = {fmt(Xa)}, tasks_a = {ta.tolist()!r}, X_b = {fmt(Xb)}, "
        f"tasks_b = {tb.tolist()!r}"
    )
    R = call(
        who,
        "pairwise(X_a, tasks_a, X_b, tasks_b)",
        m.pairwise,
        Xa,
        ta,
        Xb,
        tb,
        y=ya,
        y_other=yb,
    )
    _check_output(R, (ia.size, ib.size), who, "pairwise(X_a, tasks_a, X_b, tasks_b)")
    assert_close(
        R,
        D[np.ix_(ia, ib)],
        atol=zero,
        rtol=tol.rtol,
        who=who,
        what="pairwise(X_a, tasks_a, X_b, tasks_b) differs from the block of "
        "pairwise(X, tasks)",
        context=context,
    )
    if "symmetry" in declared:
        R2 = call(
            who,
            "pairwise(X_b, tasks_b, X_a, tasks_a)",
            m.pairwise,
            Xb,
            tb,
            Xa,
            ta,
            y=yb,
            y_other=ya,
        )
        _check_output(
            R2, (ib.size, ia.size), who, "pairwise(X_b, tasks_b, X_a, tasks_a)"
        )
        assert_close(
            R2,
            R.T,
            atol=zero,
            rtol=tol.rtol,
            who=who,
            what="declares symmetry but pairwise(X_b, ..., X_a, ...) is not the "
            "transpose of pairwise(X_a, ..., X_b, ...)",
            context=context,
        )
