"""Powers of two that bring values into a safe range before they are squared.

Dividing by a power of two is exact in floating point, so a computation can be
run on ``x / 2**e`` and its result multiplied back by the matching power of two
without any rounding of its own. The library does this wherever values are
squared (distances, variances, Gram matrices): with the largest entry below 1,
no square overflows, and the squares of the values that matter do not
underflow.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAFE_EXPONENT", "exponent", "unsafe"]

#: Values up to ``2 ** SAFE_EXPONENT`` (about ``1e60``) and down to its inverse
#: are squared, and summed by the thousand, far inside the float range: they
#: are left as they are (``e = 0``), so ordinary data is computed unchanged.
SAFE_EXPONENT = 200


def exponent(largest):
    """``e`` with ``largest / 2**e`` in ``[0.5, 1)``, or 0 in the safe range.

    Parameters
    ----------
    largest : float or ndarray
        Largest absolute values (finite, ``>= 0``); NaN counts as 0.

    Returns
    -------
    e : int or ndarray of int
        0 where ``largest`` is 0 or within ``2 ** +-SAFE_EXPONENT``.
    """
    e = np.frexp(np.nan_to_num(np.asarray(largest, dtype=float)))[1].astype(np.int64)
    e = np.where(np.abs(e) > SAFE_EXPONENT, e, 0)
    return int(e) if e.ndim == 0 else e


def unsafe(mean, var) -> np.ndarray:
    """Where per-task means and variances may have lost their squares.

    A mean beyond ``1e140`` (the square of its rounding error overflows), a
    variance beyond ``1e280`` or not finite, or a variance below ``1e-280`` with
    a mean below ``1e-130`` (values whose squares underflow, where rounding no
    longer tells a constant column; exact zeros excepted). Elsewhere the
    computation is exact as it is.
    """
    size = np.abs(mean)
    with np.errstate(invalid="ignore"):
        tiny = (var < 1e-280) & (size < 1e-130) & ~((var == 0) & (size == 0))
        return (
            ~np.isfinite(size)
            | ~np.isfinite(var)
            | (size > 1e140)
            | (var > 1e280)
            | tiny
        )
