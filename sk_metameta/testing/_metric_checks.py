"""Conformance check of task metrics: the declared axioms and the output contract."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hypothesis
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .._components import resolve_metric
from ..metrics.base import (
    AXIOMS,
    BaseTaskMetric,
    FeatureMetric,
    FittedFeatureMetric,
    SampleMetric,
)
from ._axioms import Points, Tolerance, check_axioms, check_output
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
from ._sample_metric_checks import check_sample_example, task_samples
from ._strategies import DEFAULT_BOUNDS, finite_floats

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

    A fitted metric (:class:`~sk_metameta.metrics.FittedFeatureMetric`) is
    checked twice on every example: unfitted, then fitted on the example's
    vectors and random task models (``fit`` must return the metric and set
    ``n_features_in_``).

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
    tol = Tolerance(float(atol), float(rtol))

    if isinstance(metric, FittedFeatureMetric):

        @given(_feature_points(bounds), st.data())
        def conforms(points, data):
            _check_feature_example(fresh(metric), points, declared, tol, who)
            fitted = _fitted(metric, points[0], data, who)
            _check_feature_example(fitted, points, declared, tol, f"{who}, fitted,")

    elif isinstance(metric, FeatureMetric):

        @given(_feature_points(bounds))
        def conforms(points):
            _check_feature_example(fresh(metric), points, declared, tol, who)

    else:
        rows = metric.min_rows if min_rows is None else int(min_rows)

        if not metric.requires_y:
            y_elements = None
        elif y_elements is None:
            y_elements = finite_floats(*bounds)

        @given(task_samples(bounds, max(rows, 1), y_elements))
        def conforms(sample):
            check_sample_example(metric, sample, declared, tol, who)

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


def _feature_pairs(P: np.ndarray) -> Points:
    points = Points(describe=lambda i: fmt(P[i]))
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


def _fitted(metric, P: np.ndarray, data, who: str):
    """A fresh clone of a fitted metric, fitted on ``P`` and drawn task models."""
    models = data.draw(
        hnp.arrays(
            np.float64,
            (P.shape[0], data.draw(st.integers(1, 3))),
            elements=finite_floats(-10.0, 10.0),
        ),
        label="task_models",
    )
    m = fresh(metric)
    result = call(who, "fit(A, task_models)", m.fit, P, models)
    if result is not m:
        fail(who, "fit", f"fit must return self, got {result!r}")
    if getattr(m, "n_features_in_", None) != P.shape[1]:
        fail(who, "fit", f"n_features_in_ is not {P.shape[1]} after fit")
    return m


def _check_feature_example(m, example, declared, tol, who) -> None:
    P, split = example
    n = P.shape[0]
    D = call(who, "pairwise(A)", m.pairwise, P)
    check_output(D, (n, n), who, f"pairwise(A) with A = {fmt(P)}")
    check_axioms(D, declared, _feature_pairs(P), tol, who)

    zero = tol.atol + tol.rtol * float(np.abs(D).max(initial=0.0))
    context = f" for A = {fmt(P)}"
    D2 = call(who, "pairwise(A, A)", m.pairwise, P, P)
    check_output(D2, (n, n), who, f"pairwise(A, A) with A = {fmt(P)}")
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
    check_output(R, (A.shape[0], B.shape[0]), who, "pairwise(A, B)" + context)
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
        check_output(R2, (B.shape[0], A.shape[0]), who, "pairwise(B, A)" + context)
        assert_close(
            R2,
            R.T,
            atol=zero,
            rtol=tol.rtol,
            who=who,
            what="declares symmetry but pairwise(B, A) is not pairwise(A, B).T",
            context=context,
        )
