"""Batched closed-form linear algebra of parameter transfer between linear models.

Every task's data enter only through sufficient statistics in one shared frame:
with ``z = [1, x - mu]`` (or ``z = x`` without intercept) and ``r = y - nu``,
where ``mu`` and ``nu`` are the weighted means of ``X`` and ``y`` over all training
rows, task ``t`` contributes

- ``G[t] = sum_i s_i z_i z_i^T`` of shape ``(q, q)``;
- ``g[t] = sum_i s_i r_i z_i`` of shape ``(q,)``;
- ``h[t] = sum_i s_i r_i^2`` and ``n[t] = sum_i s_i``,

(``s_i`` the sample weights). These are additive over rows, so a pooled fit of
several tasks' rows with row weights ``v_a`` uses ``sum_a v_a G[a]``, and every
ridge-type fit is one ``(q, q)`` solve per task, batched over all tasks.

A model is ``theta = (b, w)`` and predicts ``nu + b + (x - mu) @ w``; ``b`` is the
prediction at the centre ``mu`` of the training rows, minus ``nu``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

__all__ = ["Frame", "LinearTransferProblem", "LinearTransferResult", "TaskStats"]


@dataclass
class Frame:
    """The shared frame of every task's linear model: ``z = [1, x - mu]``.

    Attributes
    ----------
    x_mean : ndarray of shape (n_features,)
        ``mu``, the weighted mean of the training rows (zeros without intercept).
    fit_intercept : bool
        Whether ``z`` starts with the constant 1.
    """

    x_mean: np.ndarray
    fit_intercept: bool

    @classmethod
    def of(cls, X, sample_weight, fit_intercept: bool) -> Frame:
        """The frame of the training rows ``X`` (weights of positive sum)."""
        total = sample_weight.sum()
        if total <= 0:
            raise ValueError("sample_weight must have a positive sum.")
        if not fit_intercept:
            return cls(np.zeros(X.shape[1]), False)
        return cls(sample_weight @ X / total, True)

    def design(self, X) -> np.ndarray:
        """The rows ``z`` of ``X``, shape ``(n, q)``."""
        Xc = X - self.x_mean
        if self.fit_intercept:
            return np.hstack([np.ones((X.shape[0], 1)), Xc])
        return Xc

    def to_original(self, coef, offset=0.0):
        """Coefficients and intercepts in the units of ``X`` from models ``coef``.

        ``coef`` has shape ``(..., q)``; ``offset`` is added to the intercepts
        (the mean of ``y`` of a regression).
        """
        coef = np.asarray(coef, dtype=float)
        if self.fit_intercept:
            w = coef[..., 1:]
            return w.copy(), offset + coef[..., 0] - w @ self.x_mean
        return coef.copy(), np.zeros(coef.shape[:-1])


@dataclass
class TaskStats:
    """Per-task sufficient statistics of a weighted least-squares fit.

    Attributes
    ----------
    G : ndarray of shape (n_tasks, q, q)
        Weighted Gram matrix of the design rows ``z``.
    g : ndarray of shape (n_tasks, q)
        Weighted ``z^T r``.
    h : ndarray of shape (n_tasks,)
        Weighted ``r^T r``.
    n : ndarray of shape (n_tasks,)
        Sum of the sample weights (the number of rows without weights).
    """

    G: np.ndarray
    g: np.ndarray
    h: np.ndarray
    n: np.ndarray

    @classmethod
    def from_rows(cls, rows: RowData, n_tasks: int) -> TaskStats:
        """Statistics of the rows of each task (batched products per bucket)."""
        q = rows.q
        G = np.zeros((n_tasks, q, q))
        g = np.zeros((n_tasks, q))
        h = np.zeros(n_tasks)
        n = np.zeros(n_tasks)
        for tasks, Z, r, w in rows.buckets:
            Zw = Z * w[:, :, None]
            G[tasks] = np.swapaxes(Zw, 1, 2) @ Z
            g[tasks] = (np.swapaxes(Zw, 1, 2) @ r[:, :, None])[:, :, 0]
            h[tasks] = np.einsum("bn,bn->b", w * r, r)
            n[tasks] = w.sum(axis=1)
        return cls(G, g, h, n)

    def combine(self, weights) -> TaskStats:
        """Pooled statistics ``sum_a weights[b, a] * stats[a]`` of each target ``b``.

        Parameters
        ----------
        weights : ndarray or sparse array of shape (n_targets, n_tasks)
            Row weight of each task's rows in each target's pooled fit.
        """
        T, q = self.g.shape
        W = weights if sparse.issparse(weights) else np.asarray(weights)
        G = np.asarray(W @ self.G.reshape(T, q * q)).reshape(-1, q, q)
        return TaskStats(
            G, np.asarray(W @ self.g), np.asarray(W @ self.h), np.asarray(W @ self.n)
        )

    def __add__(self, other: TaskStats) -> TaskStats:
        return TaskStats(
            self.G + other.G, self.g + other.g, self.h + other.h, self.n + other.n
        )

    def scale(self, factor) -> TaskStats:
        """Statistics with every task's rows weighted by ``factor`` (per task)."""
        f = np.asarray(factor, dtype=float)
        return TaskStats(
            self.G * f[:, None, None], self.g * f[:, None], self.h * f, self.n * f
        )

    def take(self, idx) -> TaskStats:
        """Statistics of the tasks ``idx``."""
        return TaskStats(self.G[idx], self.g[idx], self.h[idx], self.n[idx])

    def mse(self, coef) -> np.ndarray:
        """Weighted mean squared error of model ``coef[t]`` on task ``t``'s rows.

        ``coef`` has shape ``(n_tasks, q)`` or ``(n_tasks, k, q)`` (``k`` models
        per task); the result has shape ``(n_tasks,)`` or ``(n_tasks, k)``. NaN for
        a task without rows.
        """
        coef = np.asarray(coef, dtype=float)
        one = coef.ndim == 2
        C = coef[:, None, :] if one else coef
        quad = np.einsum("tkj,tkj->tk", C @ self.G, C)
        lin = np.einsum("tkj,tj->tk", C, self.g)
        sse = np.maximum(self.h[:, None] - 2.0 * lin + quad, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(self.n[:, None] > 0, sse / self.n[:, None], np.nan)
        return out[:, 0] if one else out


def solve_psd(A, b) -> np.ndarray:
    """Batched solve of symmetric positive (semi-)definite systems ``A x = b``.

    Singular systems (no rows and no penalty) get the minimum-norm solution.
    """
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("...ij,...j->...i", np.linalg.pinv(A, hermitian=True), b)


class RowData:
    """The training rows in the shared frame, grouped by task and padded.

    Tasks are put in buckets of similar numbers of rows; a bucket holds arrays
    ``(n_bucket_tasks, n_rows_max, ...)`` padded with rows of weight zero, so
    every per-task product over rows is one batched matrix product.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, q)
        Design rows.
    r : ndarray of shape (n_samples,)
        Centred targets.
    w : ndarray of shape (n_samples,)
        Sample weights.
    codes : ndarray of shape (n_samples,)
        Task of each row.
    n_tasks : int
        Number of tasks.

    Attributes
    ----------
    buckets : list of tuple
        ``(tasks, Z, r, w)`` with ``tasks`` of shape ``(B,)``, ``Z`` of shape
        ``(B, m, q)``, ``r`` and ``w`` of shape ``(B, m)``.
    """

    def __init__(self, Z, r, w, codes, n_tasks):
        self.q = Z.shape[1]
        self.n_tasks = n_tasks
        counts = np.bincount(codes, minlength=n_tasks)
        order = np.argsort(codes, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        if (
            n_tasks
            and counts.min() == counts.max()
            and np.array_equal(order, np.arange(order.shape[0]))
        ):
            # rows already grouped by task, all tasks of one size: views
            m = int(counts[0])
            self.buckets = [
                (
                    np.arange(n_tasks),
                    Z.reshape(n_tasks, m, self.q),
                    r.reshape(n_tasks, m),
                    w.reshape(n_tasks, m),
                )
            ]
            return
        # buckets of tasks whose row counts differ by at most 25 %
        key = np.ceil(np.log(np.maximum(counts, 1)) / np.log(1.25)).astype(int)
        self.buckets = []
        for value in np.unique(key[counts > 0]):
            tasks = np.flatnonzero((key == value) & (counts > 0))
            m = int(counts[tasks].max())
            pos = starts[tasks][:, None] + np.arange(m)
            valid = np.arange(m) < counts[tasks][:, None]
            idx = order[np.where(valid, pos, 0)]
            wb = np.where(valid, w[idx], 0.0)
            Zb = np.where(valid[:, :, None], Z[idx], 0.0)
            rb = np.where(valid, r[idx], 0.0)
            self.buckets.append((tasks, Zb, rb, wb))

    def subset(self, targets) -> RowData:
        """The rows of the tasks ``targets`` only, renumbered ``0, 1, ...``."""
        new = RowData.__new__(RowData)
        new.q, new.n_tasks = self.q, len(targets)
        code = np.full(self.n_tasks, -1, dtype=np.intp)
        code[np.asarray(targets)] = np.arange(len(targets))
        new.buckets = []
        for tasks, Z, r, w in self.buckets:
            keep = code[tasks] >= 0
            if keep.any():
                new.buckets.append((code[tasks][keep], Z[keep], r[keep], w[keep]))
        return new


@dataclass
class LinearTransferResult:
    """Linear models of the targets built by a transfer rule.

    Attributes
    ----------
    coef : ndarray of shape (n_targets, q)
        Model of each target in the shared frame (``theta = (b, w)``).
    source_weights : ndarray or sparse array of shape (n_targets, n_sources)
        How much each source contributed to each target (the rule's own weights).
    strength : ndarray of shape (n_targets,) or None
        Per-target transfer strength used, for rules that choose one.
    """

    coef: np.ndarray
    source_weights: object
    strength: np.ndarray | None = None
    info: dict = field(default_factory=dict)


@dataclass
class LinearTransferProblem:
    """What a transfer rule gets to build one linear model per target task.

    Attributes
    ----------
    stats : TaskStats
        Statistics of the targets' labelled rows (all zero for a target without
        rows, as in zero-shot prediction).
    source_stats : TaskStats
        Statistics of the source tasks.
    source_coef : ndarray of shape (n_sources, q)
        Each source's own ridge model.
    similarity : sparse array of shape (n_targets, n_sources)
        Similarity of each target to its nearest sources (zero elsewhere).
    penalty : ndarray of shape (q,)
        Diagonal ridge penalty (``alpha`` on coefficients, 0 on the intercept).
    scale : ndarray of shape (q, q)
        Second moments of ``z`` per training row; a prior penalty
        ``lam * (theta - prior) @ scale @ (theta - prior)`` counts like ``lam``
        rows.
    rows : RowData or None
        The targets' rows, for leave-one-out criteria (None: statistics only).
    fit_intercept : bool
        Whether ``z`` starts with the constant 1 (the intercept).
    learned_prior : object or None
        What the rule learned in fit, for zero-shot prediction (the
        ``"learned_prior"`` of the fit's ``LinearTransferResult.info``).
    """

    stats: TaskStats
    source_stats: TaskStats
    source_coef: np.ndarray
    similarity: object
    penalty: np.ndarray
    scale: np.ndarray
    rows: RowData | None = None
    fit_intercept: bool = True
    learned_prior: object = None
    _transferability: object = None
    _own_coef: np.ndarray | None = None

    @property
    def n_targets(self) -> int:
        """Number of target tasks."""
        return int(self.stats.n.shape[0])

    @property
    def n_sources(self) -> int:
        """Number of source tasks."""
        return int(self.source_stats.n.shape[0])

    def subset(self, targets) -> LinearTransferProblem:
        """The same problem restricted to the targets ``targets`` (sorted indices)."""
        targets = np.asarray(targets, dtype=np.intp)
        rows = None if self.rows is None else self.rows.subset(targets)
        return LinearTransferProblem(
            stats=self.stats.take(targets),
            source_stats=self.source_stats,
            source_coef=self.source_coef,
            similarity=sparse.csr_array(self.similarity)[targets],
            penalty=self.penalty,
            scale=self.scale,
            rows=rows,
            fit_intercept=self.fit_intercept,
        )

    # -- building blocks for the rules -------------------------------------------------
    def ridge(self, stats: TaskStats) -> np.ndarray:
        """Ridge fit (with the problem's penalty) of each set of statistics."""
        return solve_psd(stats.G + np.diag(self.penalty), stats.g)

    def own_coef(self) -> np.ndarray:
        """Each target's ridge model on its own rows (computed once)."""
        if self._own_coef is None:
            self._own_coef = self.ridge(self.stats)
        return self._own_coef.copy()

    def pooled_coef(self, weights, *, target_weight=0.0):
        """Ridge fit of each target on its sources' rows (and its own).

        Parameters
        ----------
        weights : sparse array of shape (n_targets, n_sources)
            Row weight of each source's rows in each target's fit.
        target_weight : float, default=0.0
            Row weight of the target's own rows.

        Returns
        -------
        coef : ndarray of shape (n_targets, q)
        """
        pooled = self.source_stats.combine(weights)
        if target_weight:
            pooled = pooled + self.stats.scale(np.full(self.n_targets, target_weight))
        return self.ridge(pooled)

    def transferability(self):
        """Score of each source's own model on each target's rows (neighbours only).

        The score is the negative weighted mean squared error (greater is better,
        as scikit-learn's ``neg_mean_squared_error``), computed from the target's
        statistics: ``(h_b - 2 theta_a . g_b + theta_a^T G_b theta_a) / n_b``.

        Returns
        -------
        scores : sparse array of shape (n_targets, n_sources)
            Same sparsity as :attr:`similarity`; ``nan`` for a target without rows.
        """
        if self._transferability is None:
            S = sparse.csr_array(self.similarity)
            counts = np.diff(S.indptr)
            scores = np.empty(S.indices.shape[0])
            # edges grouped by their target: (target, k, q) blocks of equal k
            for k in np.unique(counts):
                if k == 0:
                    continue
                targets = np.flatnonzero(counts == k)
                pos = S.indptr[targets][:, None] + np.arange(k)
                coef = self.source_coef[S.indices[pos]]
                scores[pos] = -self.stats.take(targets).mse(coef)
            self._transferability = sparse.csr_array(
                (scores, S.indices.copy(), S.indptr.copy()), shape=S.shape
            )
        return self._transferability

    def prior_fit(
        self,
        prior,
        strength,
        *,
        has_prior=None,
        criterion="loo",
        pseudo_rows=0.0,
        scale=None,
    ):
        """Each target's ridge fit pulled toward a prior model.

        Minimises, for each target, ``sum_i s_i (r_i - z_i theta)^2 + theta^T P
        theta + lam * (theta - prior)^T M (theta - prior)`` with ``P`` the ridge
        penalty and ``M`` the :attr:`scale` (so ``lam`` counts like ``lam`` rows
        labelled by the prior).

        Parameters
        ----------
        prior : ndarray of shape (n_targets, q)
            Prior model of each target.
        strength : float or ndarray of shape (n_grid,)
            One ``lam`` for every target, or a grid to choose from per target.
        has_prior : ndarray of bool of shape (n_targets,), default=None
            Targets without a prior get ``lam = 0``.
        criterion : {"loo", "gcv"}, default="loo"
            Per-target criterion over the grid: exact leave-one-out error of the
            target's rows (needs :attr:`rows`) or generalised cross-validation
            from the statistics.
        pseudo_rows : float, default=0.0
            Smooths each target's criterion toward the criterion of all targets
            together, as if it had ``pseudo_rows`` more rows that behave like the
            average row.
        scale : ndarray of shape (q, q), default=None
            Prior metric ``M``; default :attr:`scale`.

        Returns
        -------
        coef : ndarray of shape (n_targets, q)
        lam : ndarray of shape (n_targets,)
        error : float
            Sum over the targets of the chosen strength's criterion (squared
            errors; 0 for a single strength).
        """
        T = self.stats.g.shape[0]
        prior = np.asarray(prior, dtype=float)
        has_prior = np.ones(T, bool) if has_prior is None else np.asarray(has_prior)
        grid = np.atleast_1d(np.asarray(strength, dtype=float))
        if grid.shape[0] == 1:
            # one strength: a direct solve of the normal equations, no eigh
            lam = np.where(has_prior, grid[0], 0.0)
            M = self.scale if scale is None else scale
            A = self.stats.G + np.diag(self.penalty) + lam[:, None, None] * M
            b = self.stats.g + lam[:, None] * (prior @ M)
            return solve_psd(0.5 * (A + np.swapaxes(A, 1, 2)), b), lam, 0.0
        K, lam_vals, U, a, c = self._eigen(prior, scale)
        error = 0.0
        crit = self._criterion(
            grid, lam_vals, U, a, c, K, criterion=criterion
        )  # (T, L): (sse, n) pairs
        sse, n = crit
        if pseudo_rows > 0:
            total = sse.sum(axis=0) / max(n.sum(axis=0).max(), 1e-300)
            sse = sse + pseudo_rows * total[None, :]
            n = n + pseudo_rows
        with np.errstate(invalid="ignore", divide="ignore"):
            score = sse / n
        score = np.where(np.isfinite(score), score, np.inf)
        best = np.argmin(score, axis=1)
        chosen = np.where(has_prior, best, np.flatnonzero(grid == grid.min())[0])
        picked = sse[np.arange(T), chosen]
        error = float(picked[np.isfinite(picked)].sum())
        lam = np.where(has_prior, grid[best], 0.0)
        # a target without usable rows (all scores infinite) follows its prior
        nothing = ~np.isfinite(score).any(axis=1) & has_prior
        lam = np.where(nothing, grid.max(), lam)
        beta = self._beta(lam[:, None], lam_vals, a, c)[:, 0]
        coef = (U @ beta[:, :, None])[:, :, 0] @ K.T
        return coef, lam, error

    def _eigen(self, prior, scale=None):
        """Whitened eigen-decomposition of every target's penalised Gram matrix.

        With ``theta = K phi`` and ``K = M^(-1/2)`` (``M`` the :attr:`scale`), the
        normal equations ``(G + P + lam M) theta = g + lam M prior`` become
        ``(B + lam I) phi = K g + lam phi0`` with ``B = K (G + P) K = U diag(l)
        U^T``, so ``phi(lam) = U (a + lam c) / (l + lam)`` with ``a = U^T K g``
        and ``c = U^T phi0``: every ``lam`` at the cost of one eigh per target.
        """
        evals, evecs = np.linalg.eigh(self.scale if scale is None else scale)
        floor = max(evals.max(), 1.0) * 1e-10
        evals = np.maximum(evals, floor)
        K = (evecs / np.sqrt(evals)) @ evecs.T
        K_inv = (evecs * np.sqrt(evals)) @ evecs.T
        B = K @ (self.stats.G + np.diag(self.penalty)) @ K
        B = 0.5 * (B + np.swapaxes(B, 1, 2))
        lam_vals, U = np.linalg.eigh(B)
        lam_vals = np.maximum(lam_vals, 0.0)
        Ut = np.swapaxes(U, 1, 2)
        a = (Ut @ (self.stats.g @ K)[:, :, None])[:, :, 0]  # U^T K g
        c = (Ut @ (prior @ K_inv)[:, :, None])[:, :, 0]  # U^T phi0
        return K, lam_vals, U, a, c

    def own_cv_mse(self, criterion="loo") -> np.ndarray:
        """Cross-validated mean squared error of each target's own ridge fit.

        Exact leave-one-out with the targets' rows (generalised cross-validation
        from the statistics without them); ``inf`` where undefined (a target with
        one row and a free intercept), ``nan`` without rows.
        """
        if self.rows is None:
            criterion = "gcv"
        K, lam_vals, U, a, c = self._eigen(np.zeros_like(self.stats.g))
        sse, n = self._criterion(np.zeros(1), lam_vals, U, a, c, K, criterion=criterion)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n[:, 0] > 0, sse[:, 0] / n[:, 0], np.nan)

    def refit_intercept(self, coef) -> np.ndarray:
        """``coef`` with each target's intercept refitted on its rows (if it has any).

        The intercept becomes the weighted mean residual of the target's rows for
        the given coefficients, ``ybar - xbar @ w`` in the original units.
        """
        coef = np.array(coef, dtype=float)
        if not self.fit_intercept:
            return coef
        n = self.stats.G[:, 0, 0]
        has = n > 0
        resid = self.stats.g[:, 0] - np.einsum(
            "tj,tj->t", self.stats.G[:, 0, 1:], coef[:, 1:]
        )
        coef[has, 0] = resid[has] / n[has]
        return coef

    @staticmethod
    def _beta(lam, lam_vals, a, c):
        """Eigen-coordinates of the solution at each ``lam``: (T, L, q)."""
        num = a[:, None, :] + lam[..., None] * c[:, None, :]
        den = lam_vals[:, None, :] + lam[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 1e-12 * (1 + lam_vals.max()), num / den, 0.0)

    def _criterion(self, grid, lam_vals, U, a, c, K, *, criterion):
        T = a.shape[0]
        L = grid.shape[0]
        if criterion == "gcv":
            beta = self._beta(np.broadcast_to(grid, (T, L)), lam_vals, a, c)
            # rows' Gram in eigen-coordinates: U^T K G K U = diag(l) - U^T K P K U
            KPK = K @ np.diag(self.penalty) @ K
            D = np.swapaxes(U, 1, 2) @ (KPK @ U)  # (T, q, q)
            # a = U^T K g and theta = K U beta, so theta . g = beta . a
            quad = np.sum(lam_vals[:, None, :] * beta * beta, axis=2) - np.sum(
                (beta @ D) * beta, axis=2
            )
            lin = np.sum(beta * a[:, None, :], axis=2)
            sse = np.maximum(self.stats.h[:, None] - 2 * lin + quad, 0.0)
            diagG = lam_vals - np.diagonal(D, axis1=1, axis2=2)
            den = lam_vals[:, :, None] + grid[None, None, :]  # (T, q, L)
            tiny = 1e-12 * (1.0 + lam_vals.max(initial=0.0))
            with np.errstate(invalid="ignore", divide="ignore"):
                inv = np.where(den > tiny, 1.0 / den, 0.0)
                trace = np.sum(diagG[:, :, None] * inv, axis=1)  # (T, L)
                n = self.stats.n[:, None]
                gcv_sse = sse / np.square(1.0 - trace / n)
            gcv_sse = np.where(np.isfinite(gcv_sse) & (trace < n), gcv_sse, np.inf)
            return gcv_sse, np.broadcast_to(n, gcv_sse.shape).copy()
        if self.rows is None:
            raise ValueError("criterion='loo' needs the targets' rows.")
        sse = np.zeros((T, L))
        tiny = 1e-12 * (1.0 + lam_vals.max(initial=0.0))
        for tasks, Z, r, w in self.rows.buckets:
            u = (Z @ K) @ U[tasks]  # (B, m, q): U^T K z of every row
            lam = np.broadcast_to(grid, (tasks.shape[0], L))
            beta = self._beta(lam, lam_vals[tasks], a[tasks], c[tasks])  # (B, L, q)
            fitted = u @ np.swapaxes(beta, 1, 2)  # (B, m, L)
            den = lam_vals[tasks][:, :, None] + grid[None, None, :]  # (B, q, L)
            with np.errstate(invalid="ignore", divide="ignore"):
                inv = np.where(den > tiny, 1.0 / den, 0.0)
                lev = w[:, :, None] * ((u * u) @ inv)
                e = (r[:, :, None] - fitted) / (1.0 - lev)
                err = w[:, :, None] * e * e
            ok = (lev < 1.0 - 1e-10) | (w[:, :, None] == 0)
            sse[tasks] = np.where(ok, err, np.inf).sum(axis=1)
        n = np.broadcast_to(self.stats.n[:, None], sse.shape).copy()
        return sse, n
