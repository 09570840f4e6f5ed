"""The axioms and the output contract, checked on one distance matrix.

Shared by the checks of feature metrics (:mod:`._metric_checks`) and of sample
metrics (:mod:`._sample_metric_checks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._common import fail, fmt

__all__ = ["Points", "Tolerance", "check_axioms", "check_output"]


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


@dataclass
class Points:
    """Points (vectors or tasks) of a distance matrix, with what is known of them."""

    describe: Callable[[int], str]
    #: pairs known to be the same point, with why
    same: list[tuple[int, int, str]] = field(default_factory=list)
    #: pairs known to be clearly different points, with why
    different: list[tuple[int, int, str]] = field(default_factory=list)


def check_output(D: Any, shape: tuple[int, int], who: str, call_text: str) -> None:
    if not isinstance(D, np.ndarray):
        fail(who, "output", f"{call_text} returned a {type(D).__name__}, not ndarray")
    if D.shape != shape:
        fail(who, "output", f"{call_text} returned shape {D.shape}, expected {shape}")
    if D.dtype.kind != "f":
        fail(who, "output", f"{call_text} returned dtype {D.dtype}, expected float")
    if not np.isfinite(D).all():
        fail(who, "output", f"{call_text} returned non-finite values {fmt(D)}")


def check_axioms(
    D: np.ndarray, declared: frozenset, points: Points, tol: Tolerance, who: str
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
