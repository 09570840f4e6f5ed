r"""The computations behind the sample metrics, on rows rescaled to a safe range.

Scale. Every sample metric first divides all rows (of both sets of tasks) by one
power of two, :math:`2^e`, chosen so that the largest absolute entry lies in
``[0.5, 1)``: exact in floating point, and squares of rows then neither overflow nor
underflow (rows whose largest entry is between about ``1e-60`` and ``1e60`` are safe
as they are, and left so: see ``sk_metameta/_scale.py``). The metrics are then
computed in these units and brought back exactly: the energy distance (a square root
of a distance) is multiplied by :math:`2^{e/2}` (``e`` made even), the sliced
Wasserstein distance by :math:`2^e`; the MMD with the median-heuristic width does
not change at all (it is scale invariant), and a fixed width :math:`\gamma` becomes
:math:`\gamma 4^e`. A result that does not fit in a float raises a ``ValueError``
that names the metric and asks to scale the features.

Kernel sums. MMD and energy need, for every pair of tasks, the sum of a kernel
over their row pairs; :meth:`TaskIndex.pair_sums <sk_metameta.TaskIndex.pair_sums>`
computes it in blocks, each block of kernel values from one matrix product of
augmented rows (below).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from scipy.spatial.distance import cdist, pdist

from .._scale import exponent
from .._threads import one_blas_thread

__all__ = [
    "DistanceKernel",
    "GaussianKernel",
    "blas_single_thread",
    "centred",
    "gamma_in_scaled_units",
    "kernel_distances",
    "median_gamma",
    "orthogonal_frequencies",
    "quantile_features",
    "random_feature_distances",
    "scaled_rows",
    "unscale",
]

#: Rows sampled (with a fixed seed) for the median heuristic of the kernel width.
MEDIAN_HEURISTIC_ROWS = 1000

#: Smallest kernel width used, in units of the rescaled rows (``2 ** -100``). Below
#: it ``gamma |x - y|^2 < 1e-29``, where the squared MMD is exactly proportional to
#: ``gamma`` (to double precision): the MMD is computed at this width and
#: multiplied by ``sqrt(gamma / GAMMA_FLOOR)``, so it never underflows to 0.
GAMMA_FLOOR = 2.0**-100
#: Largest kernel width the random features use, in rescaled units: their phases
#: stay below about ``1e16``, where cosines are already noise.
RANDOM_FEATURES_GAMMA_CEIL = 2.0**100


# -- scale -----------------------------------------------------------------------
def scaled_rows(X, X_other, same: bool, *, even: bool = False):
    """Rows divided by the power of two ``2 ** e`` that brings them below 1.

    Returns ``X / 2**e``, ``X_other / 2**e`` (the same array when ``same``) and
    ``e``: the largest absolute entry of both is then in ``[0.5, 1)`` (in
    ``[0.25, 1)`` with ``even``, which makes ``e`` even). The division is exact;
    rows in the safe range of :func:`~sk_metameta._scale.exponent` are returned
    as they are, with ``e = 0``.
    """
    largest = max(np.abs(X).max(), 0.0 if same else np.abs(X_other).max())
    e = exponent(largest)
    if even:
        e += e % 2
    if e == 0:
        return X, X_other, 0
    Xs = np.ldexp(X, -e)
    return Xs, Xs if same else np.ldexp(X_other, -e), e


def centred(X, X_other, same: bool):
    """Rows minus their pooled mean row.

    The kernels here are translation invariant, and centred rows lose fewer
    digits in the expansion of squared distances.
    """
    n, m = X.shape[0], X_other.shape[0]
    center = X.mean(axis=0) if same else (X.sum(0) + X_other.sum(0)) / (n + m)
    Xc = X - center
    return Xc, Xc if same else X_other - center


def unscale(D: np.ndarray, e: int, name: str) -> np.ndarray:
    """``D * 2**e``, or a ``ValueError`` naming the metric when that overflows."""
    with np.errstate(over="ignore"):
        D = np.ldexp(D, e)
    if not np.isfinite(D).all():
        raise ValueError(
            f"metric {name!r}: the distances overflow the float range (the rows "
            f"reach about 2**{e} in absolute value); scale the features first, for "
            "example with sklearn.preprocessing.StandardScaler."
        )
    return D


def gamma_in_scaled_units(gamma: float, e: int, ceil: float) -> tuple[float, float]:
    """The width ``gamma * 4**e`` of the rescaled rows, kept in a safe range.

    Returns the width to compute with, clipped to ``[GAMMA_FLOOR, ceil]``, and the
    factor that multiplies the resulting MMD: ``sqrt(gamma 4**e / GAMMA_FLOOR)``
    below the floor (where the squared MMD is proportional to the width), else 1.
    Above ``ceil`` the kernel of any two rows that differ by more than about
    ``1e-140`` of the largest entry is 0, as it is at the true width.
    """
    log2_gamma = math.log2(gamma) + 2 * e
    if log2_gamma < math.log2(GAMMA_FLOOR):
        half = math.log2(GAMMA_FLOOR) / 2
        return GAMMA_FLOOR, math.ldexp(math.sqrt(gamma), e - int(half))
    try:
        return float(min(math.ldexp(gamma, 2 * e), ceil)), 1.0
    except OverflowError:
        return float(ceil), 1.0


def median_gamma(X: np.ndarray, X_other: np.ndarray | None = None) -> float | None:
    """``1 / (2 * median squared distance)`` between distinct rows, or None.

    The distinct rows of ``X`` and ``X_other`` (sorted, so the result depends on
    the set of rows only, not on their order or repetitions) are subsampled to
    :data:`MEDIAN_HEURISTIC_ROWS` with a fixed seed when there are more. Meant
    for rescaled rows (entries below 1), whose squares do not overflow. None
    when all rows are equal (then any width gives the same distances).
    """
    rows = X if X_other is None or X_other is X else np.vstack([X, X_other])
    rows = np.unique(rows, axis=0)
    if rows.shape[0] > MEDIAN_HEURISTIC_ROWS:
        keep = np.random.default_rng(0).choice(
            rows.shape[0], MEDIAN_HEURISTIC_ROWS, replace=False
        )
        rows = rows[np.sort(keep)]
    sq = pdist(rows, "sqeuclidean") if rows.shape[0] > 1 else np.empty(0)
    sq = sq[sq > 0]
    if sq.size == 0:
        return None
    return float(0.5 / np.median(sq))


# -- kernels of blocks of row pairs ----------------------------------------------
class SquaredDistanceKernel:
    """``|x - y|^2`` of a block of row pairs from one matrix product.

    The left rows are augmented to ``[-2 x, |x|^2, 1]`` and the right ones to
    ``[y, 1, |y|^2]``, so ``L @ R.T`` holds ``|x|^2 + |y|^2 - 2 x.y``. That
    expansion has rounding errors of the order of ``eps * (|x|^2 + |y|^2)``:
    entries below ``rtol`` times the squared norms (near-duplicate rows, usually a
    handful) are recomputed from the rows themselves.
    """

    #: Squared distances below this fraction of the squared norms are recomputed.
    rtol = 1e-9
    #: Pairs recomputed at once (bounds the memory of the correction).
    chunk = 1 << 16

    def left(self, X):
        sq = np.einsum("ij,ij->i", X, X)[:, None]
        return np.hstack([-2.0 * X, sq, np.ones_like(sq)])

    def right(self, X):
        sq = np.einsum("ij,ij->i", X, X)[:, None]
        return np.hstack([X, np.ones_like(sq), sq])

    def __call__(self, L, R, G, same: bool):
        np.matmul(L, R.T, out=G)
        d = R.shape[1] - 2
        threshold = self.rtol * (L[:, d] + R[:, d + 1].max())
        rows, cols = np.nonzero(G < threshold[:, None])
        for k in range(0, rows.shape[0], self.chunk):
            r, c = rows[k : k + self.chunk], cols[k : k + self.chunk]
            diff = L[r, :d] * -0.5 - R[c, :d]
            G[r, c] = np.einsum("ij,ij->i", diff, diff)
        if same:
            np.fill_diagonal(G, 0.0)
        return G


class DistanceKernel(SquaredDistanceKernel):
    """``k(x, y) = |x - y|`` (Euclidean); enters distances with a minus sign."""

    sign = -1.0

    def __call__(self, L, R, G, same: bool):
        G = super().__call__(L, R, G, same)
        np.sqrt(G, out=G)
        return G


class GaussianKernel(SquaredDistanceKernel):
    """``k(x, y) = exp(-gamma |x - y|^2)`` from one matrix product per block.

    Three ways, chosen from the largest value ``u_max`` that ``gamma |x - y|^2``
    can take on the rows compared (``gamma`` times the sum of the largest squared
    norms of both sets, rows centred):

    - usually, ``gamma`` is folded into the augmented rows (``[2 gamma x,
      -gamma |x|^2, 1]`` and ``[y, 1, -gamma |y|^2]``), so that the product
      holds ``-gamma |x - y|^2`` and one ``exp`` finishes the block;
    - when ``u_max < 1e-3`` every kernel value is close to 1, and ``exp`` would
      keep only the digits of ``1 - u``: the block holds ``expm1``, the kernel
      minus 1 (a constant that cancels in the MMD);
    - when ``u_max > 1e6`` the rounding of the expansion, ``eps * u_max``, is
      no longer small against 1: squared distances are computed (and corrected
      near duplicates) as in :class:`SquaredDistanceKernel`, then scaled.
    """

    sign = 1.0

    def __init__(self, gamma: float, u_max: float):
        self.gamma = gamma
        self.mode = "expm1" if u_max < 1e-3 else "exact" if u_max > 1e6 else "exp"

    def left(self, X):
        if self.mode == "exact":
            return super().left(X)
        sq = np.einsum("ij,ij->i", X, X)[:, None]
        return np.hstack([2.0 * self.gamma * X, -self.gamma * sq, np.ones_like(sq)])

    def right(self, X):
        if self.mode == "exact":
            return super().right(X)
        sq = np.einsum("ij,ij->i", X, X)[:, None]
        return np.hstack([X, np.ones_like(sq), -self.gamma * sq])

    def __call__(self, L, R, G, same: bool):
        if self.mode == "exact":
            G = super().__call__(L, R, G, same)
            with np.errstate(over="ignore"):
                G *= -self.gamma
            np.exp(G, out=G)
            return G
        np.matmul(L, R.T, out=G)  # -gamma |x - y|^2
        if self.mode == "expm1":
            np.expm1(G, out=G)
        else:
            np.exp(G, out=G)
        if same:
            np.fill_diagonal(G, 0.0 if self.mode == "expm1" else 1.0)
        return G


def blas_single_thread(work: float):
    """Limit BLAS to one thread for large thin matrix products, else do nothing.

    The products here have a few columns only; BLAS threads barely speed them up
    and, on a loaded machine, spin-wait. Parallelism comes from ``n_jobs``.
    """
    if work < 1e6:
        return contextlib.nullcontext()
    return one_blas_thread()


def kernel_distances(
    kernel, X, index, X_other, index_other, same: bool, *, block_size: int, n_jobs
) -> np.ndarray:
    r"""``sqrt(max(sign * (S_ii / n_i^2 + S_jj / m_j^2 - 2 S_ij / (n_i m_j)), 0))``.

    ``S`` are the sums of the kernel over the row pairs of two tasks
    (:meth:`TaskIndex.pair_sums <sk_metameta.TaskIndex.pair_sums>`), ``X`` and
    ``X_other`` the rows (rescaled and centred).
    """
    nx = index.counts.astype(float)
    options = {"block_size": block_size, "n_jobs": n_jobs}
    L, R = kernel.left(X), kernel.right(X)
    with blas_single_thread(float(X.shape[0]) * X_other.shape[0]):
        if same:
            S = index.pair_sums(kernel, L, R, **options)
            tx = ty = np.diag(S) / (nx * nx)
            ny = nx
        else:
            ny = index_other.counts.astype(float)
            L_other, R_other = kernel.left(X_other), kernel.right(X_other)
            S = index.pair_sums(kernel, L, R_other, index_other, **options)
            tx = index.pair_sums(kernel, L, R, diagonal=True, **options) / (nx * nx)
            ty = index_other.pair_sums(
                kernel, L_other, R_other, diagonal=True, **options
            ) / (ny * ny)
    squared = tx[:, None] + ty[None, :] - 2.0 * S / np.outer(nx, ny)
    squared *= kernel.sign
    D = np.sqrt(np.maximum(squared, 0.0))
    if same:
        np.fill_diagonal(D, 0.0)
    return D


def orthogonal_frequencies(rng, n_features: int, n_frequencies: int) -> np.ndarray:
    """Random frequencies, ``(n_features, n_frequencies)``, orthogonal in blocks.

    Each block of ``n_features`` columns is a Haar-random orthogonal matrix with
    its columns rescaled by chi-distributed norms, so every column is exactly
    standard normal (the kernel estimate stays unbiased) while the columns of a
    block are orthogonal, which lowers its variance (orthogonal random
    features).
    """
    n_blocks = -(-n_frequencies // n_features)
    G = rng.standard_normal((n_blocks, n_features, n_features))
    Q, R = np.linalg.qr(G)
    signs = np.where(np.diagonal(R, axis1=1, axis2=2) < 0, -1.0, 1.0)
    norms = np.sqrt(rng.chisquare(n_features, size=(n_blocks, n_features)))
    W = Q * (signs * norms)[:, None, :]
    W = W.transpose(1, 0, 2).reshape(n_features, n_blocks * n_features)
    return np.ascontiguousarray(W[:, :n_frequencies])


def random_feature_distances(
    rng, gamma, n_components, block_size, X, index, X_other, index_other, same
):
    """Euclidean distances between the tasks' mean random Fourier features."""
    n_frequencies = -(-n_components // 2)
    W = orthogonal_frequencies(rng, X.shape[1], n_frequencies)
    W *= np.sqrt(2.0 * gamma)

    rows_per_block = max(1, block_size * block_size // (2 * n_frequencies))
    # One buffer for the features of every chunk (sum_map reduces a chunk
    # before it asks for the next).
    buffer = np.empty((rows_per_block, 2 * n_frequencies), dtype=np.float32)

    def features(rows):
        # Phases in double precision, cosines and sines in single: their
        # rounding (~1e-7) is far below the Monte Carlo error. The rows are
        # centred, so the phases stay small.
        Z = (rows @ W).astype(np.float32)
        out = buffer[: rows.shape[0]]
        np.cos(Z, out=out[:, :n_frequencies])
        np.sin(Z, out=out[:, n_frequencies:])
        return out

    def mean_features(A, idx):
        sums = idx.sum_map(features, A, chunk_rows=rows_per_block)
        return sums * (np.sqrt(1.0 / n_frequencies) / idx.counts[:, None])

    with blas_single_thread(float(X.shape[0] + X_other.shape[0]) * n_frequencies):
        E = mean_features(X, index)
        E_other = E if same else mean_features(X_other, index_other)
    return cdist(E, E_other, "euclidean")


def quantile_features(X, index, directions: np.ndarray, n_quantiles: int) -> np.ndarray:
    """Every task's quantiles of every projection, ``(n_tasks, n_proj * Q)``."""
    n, n_proj = X.shape[0], directions.shape[1]
    out = np.empty((index.n_tasks, n_proj, n_quantiles))
    chunk = max(1, (1 << 22) // max(n, 1))  # projections per chunk, bounded memory
    for p0 in range(0, n_proj, chunk):
        p1 = min(p0 + chunk, n_proj)
        with blas_single_thread(float(n) * (p1 - p0)):
            values = X @ directions[:, p0:p1]
        out[:, p0:p1, :] = index.midpoint_quantiles(values, n_quantiles)
    return out.reshape(index.n_tasks, n_proj * n_quantiles)
