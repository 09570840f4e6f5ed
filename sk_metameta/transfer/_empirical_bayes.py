"""A prior over task models learned from all tasks at once (empirical Bayes).

Every task's model ``theta_t`` (intercept and coefficients in the shared frame of
:mod:`._linear`) is a draw from a prior whose *mean is local* and whose spread is
learned across tasks::

    r_t | theta_t  ~ N(Z_t theta_t, sigma^2 / s)         (rows of task t)
    theta_t | tau_t ~ N(m_t, Psi / tau_t)                 (between-task spread)
    tau_t           ~ Gamma(nu / 2, nu / 2)               (heavy tails)

- ``m_t`` is the *local prior mean* of task ``t``: the generalised least-squares
  centre of its sources' models, each source ``a`` weighted by its similarity
  ``v_ta`` and by the precision of its own estimate,
  ``m_t = (sum_a v_ta P_a)^-1 sum_a v_ta u_a`` with ``P_a = (G_a Psi_a +
  sigma^2 I)^-1 G_a`` (the inverse of ``Psi_a + sigma^2 G_a^-1``, the spread of
  ``a``'s least-squares fit around a prior draw) and ``u_a = (G_a Psi_a + sigma^2
  I)^-1 g_a``; no inverse of ``G_a`` is needed, so sources with fewer rows than
  coefficients count too, by what they say.
- ``Psi`` (full, diagonal or spherical) says which coefficients vary between tasks
  and by how much; ``sigma^2`` is the noise variance; both are learned.
- The scale ``tau_t`` of a task that sits far from its prior mean is small: its
  prior is wider, it is shrunk less and, as a source, it weighs less in its
  neighbours' prior means; ``nu`` (learned, or fixed) says how heavy the tails are
  (``nu = inf`` is the Gaussian model of ``MixedLM``).

Each task's model is its posterior mean given ``(m_t, Psi / tau_t, sigma^2)``,
closed form from its sufficient statistics ``G_t, g_t``::

    theta_t = m_t + Psi_t (G_t Psi_t + sigma^2 I)^-1 (g_t - G_t m_t)
    C_t     = sigma^2 Psi_t (G_t Psi_t + sigma^2 I)^-1      (posterior covariance)

``Psi``, ``sigma^2``, the scales and ``nu`` maximise the marginal likelihood of
all tasks' rows by an EM algorithm (the scales by their variational update, ``nu``
by its fixed-point equation), accelerated by SQUAREM; every step is a few batched
``(q, q)`` products and solves over all tasks, with no loop over tasks in Python.
The prior mean of a task is built from its sources only (never itself), so the
likelihood that chooses ``Psi`` is that of each task given the others: a
cross-validation over tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import brentq
from scipy.special import digamma

from ._linear import TaskStats
from ._squarem import squarem

__all__ = ["LearnedPrior", "fit_learned_prior", "local_prior_mean", "posterior"]

#: Largest tail degrees of freedom learned; beyond it the prior is Gaussian.
MAX_DOF = 100.0
#: Smallest degrees of freedom learned.
MIN_DOF = 0.5
#: Power ``a`` of the weak prior ``|Psi|^a`` on the between-task covariance (a
#: Wishart prior of vanishing inverse scale): it keeps the estimate off the
#: boundary, where the likelihood is flat and EM crawls (Chung et al., 2013).
_PRIOR_POWER = 1.0
#: Most tasks the EM algorithm runs on; beyond, on a subsample (its few
#: parameters are about as well determined by 300 tasks as by a million).
MAX_TASKS = 300
#: Powers of the similarities tried with ``locality="auto"`` (for the Gaussian
#: kernel, bandwidths 2, 1 and 1/2 times the estimator's).
LOCALITIES = (0.25, 1.0, 4.0)
#: SQUAREM cycles of each covariance structure before the AIC chooses one.
_TRIAL_CYCLES = 8
#: Number of parameters of each covariance structure, for its AIC.
_N_PARAMS = {
    "full": lambda q: q * (q + 1) / 2,
    "diag": lambda q: q,
    "spherical": lambda q: 1,
}


@dataclass
class LearnedPrior:
    """The prior learned across tasks.

    Attributes
    ----------
    covariance : ndarray of shape (q, q)
        Between-task covariance ``Psi`` of the models.
    noise_variance : float
        Noise variance ``sigma^2`` of a row of unit weight.
    dof : float
        Tail degrees of freedom ``nu`` (``inf``: Gaussian).
    scale : ndarray of shape (n_tasks,)
        Each task's scale ``tau_t`` (its prior covariance is ``Psi / tau_t``).
    structure : str
        ``"full"``, ``"diag"`` or ``"spherical"``.
    log_likelihood : float
        Log marginal likelihood of the rows of all tasks at the estimate (with
        the scales plugged in).
    n_iter : int
        EM steps taken.
    """

    covariance: np.ndarray
    noise_variance: float
    dof: float
    scale: np.ndarray
    structure: str
    log_likelihood: float = np.nan
    n_iter: int = 0
    shrinkage: np.ndarray | None = None
    source_size: np.ndarray | None = None
    column_scale: np.ndarray | None = None
    target_scale: float = 1.0
    unit_covariance: np.ndarray | None = None
    unit_noise: float | None = None

    def scaled(self, stats: TaskStats) -> TaskStats:
        """``stats`` in the unit scale the prior was learned in (exact)."""
        d, s = self.column_scale, self.target_scale
        if d is None:
            return stats
        return TaskStats(
            stats.G * d[:, None] * d[None, :], stats.g * d / s, stats.h / s**2, stats.n
        )

    def predictive_variance(self, Z, stats: TaskStats | None, scale) -> np.ndarray:
        """Variance of the prediction of each row ``z`` under its task's posterior.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, q)
            Design rows, each of one task.
        stats : TaskStats or None
            The statistics of each row's task (``None``: tasks without rows,
            whose models follow the prior).
        scale : ndarray of shape (n_samples,)
            The scale ``tau`` of each row's task (1 for a new task).

        Returns
        -------
        variance : ndarray of shape (n_samples,)
            ``sigma^2 + z^T C z``, computed in the unit scale of fit.
        """
        scale = np.asarray(scale, dtype=float)
        Psi_t = self.unit_covariance[None] / scale[:, None, None]
        if stats is None:
            C = Psi_t
        else:
            zero = np.zeros(stats.g.shape)
            _, C = posterior(self.scaled(stats), zero, Psi_t, self.unit_noise)
        W = Z * self.column_scale
        quad = np.einsum("ij,ijk,ik->i", W, C, W)
        return (self.unit_noise + np.maximum(quad, 0.0)) * self.target_scale**2

    def prior_mean(self, weights, source_stats, scale=None) -> np.ndarray:
        """Local prior mean of targets from their sources (weights over them).

        Parameters
        ----------
        weights : sparse array of shape (n_targets, n_sources)
            Similarity of each target to its sources.
        source_stats : TaskStats
            The sources' statistics.
        scale : ndarray of shape (n_sources,), default=None
            The sources' scales ``tau``; default :attr:`scale`.

        Returns
        -------
        mean : ndarray of shape (n_targets, q)
        """
        S = sparse.csr_array(weights, dtype=float)
        scale = self.scale if scale is None else np.asarray(scale)
        n_sources, q = source_stats.g.shape
        P, u = np.zeros((n_sources, q, q)), np.zeros((n_sources, q))
        used = np.unique(S.indices)
        if used.size:
            P[used], u[used], _ = source_summaries(
                self.scaled(source_stats.take(used)),
                self.unit_covariance[None] / scale[used][:, None, None],
                self.unit_noise,
            )
        return local_prior_mean(S, P, u) * self.target_scale * self.column_scale

    def task_covariance(self, scale=None) -> np.ndarray:
        """``Psi / tau_t`` of every task: shape ``(n_tasks, q, q)``."""
        scale = self.scale if scale is None else scale
        return self.covariance[None] / np.asarray(scale)[:, None, None]


def _psd_solve(A, b):
    """Batched solve of ``A x = b`` (the minimum-norm solution where singular)."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("...ij,...j->...i", np.linalg.pinv(A), b)


def _inverse(M):
    try:
        return np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(M)


def source_summaries(stats: TaskStats, Psi_t, noise_variance):
    """``(P_a, u_a, M_a^-1)`` of every task as a source of its neighbours' priors.

    ``M_a = G_a Psi_a + sigma^2 I``; ``P_a = M_a^-1 G_a`` (symmetrised) and
    ``u_a = M_a^-1 g_a``.
    """
    q = stats.g.shape[1]
    M = stats.G @ Psi_t + noise_variance * np.eye(q)
    Minv = _inverse(M)
    P = Minv @ stats.G
    P = 0.5 * (P + np.swapaxes(P, 1, 2))
    u = np.einsum("tij,tj->ti", Minv, stats.g)
    return P, u, Minv


def local_prior_mean(weights, P, u) -> np.ndarray:
    """``m_t = (sum_a v_ta P_a)^-1 sum_a v_ta u_a`` of every target.

    Parameters
    ----------
    weights : sparse array of shape (n_targets, n_sources)
        Non-negative weight ``v_ta`` of each source for each target.
    P : ndarray of shape (n_sources, q, q)
        Precision of each source's estimate.
    u : ndarray of shape (n_sources, q)
        ``P_a`` times each source's estimate.

    Returns
    -------
    m : ndarray of shape (n_targets, q)
        Zero for a target without sources (the centre of the shared frame).
    """
    n_sources, q = u.shape
    V = sparse.csr_array(weights)
    A = np.asarray(V @ P.reshape(n_sources, q * q)).reshape(-1, q, q)
    b = np.asarray(V @ u)
    # a vanishing ridge keeps directions no source informs at zero
    size = np.trace(A, axis1=1, axis2=2) / q
    jitter = 1e-10 * size + 1e-300
    return _psd_solve(A + jitter[:, None, None] * np.eye(q), b)


def posterior(stats: TaskStats, prior_mean, Psi_t, noise_variance, Minv=None):
    """Posterior means and covariances of every task's model.

    Parameters
    ----------
    stats : TaskStats
        The tasks' sufficient statistics.
    prior_mean : ndarray of shape (n_tasks, q)
        Prior mean of each task.
    Psi_t : ndarray of shape (n_tasks, q, q)
        Prior covariance of each task.
    noise_variance : float
        Noise variance.
    Minv : ndarray of shape (n_tasks, q, q), default=None
        ``(G_t Psi_t + sigma^2 I)^-1`` when already computed.

    Returns
    -------
    theta : ndarray of shape (n_tasks, q)
    C : ndarray of shape (n_tasks, q, q)
    """
    q = stats.g.shape[1]
    if Minv is None:
        Minv = _inverse(stats.G @ Psi_t + noise_variance * np.eye(q))
    r = stats.g - np.einsum("tij,tj->ti", stats.G, prior_mean)
    theta = prior_mean + np.einsum(
        "tij,tj->ti", Psi_t, np.einsum("tij,tj->ti", Minv, r)
    )
    C = noise_variance * (Psi_t @ Minv)
    return theta, 0.5 * (C + np.swapaxes(C, 1, 2))


def _restrict(S, structure):
    if structure == "diag":
        return np.diag(np.diag(S))
    if structure == "spherical":
        return np.trace(S) / S.shape[0] * np.eye(S.shape[0])
    return 0.5 * (S + S.T)


def _update_dof(a, b, tau, dof):
    """The degrees of freedom maximising the expected log density of the scales."""
    c = np.mean(digamma(a) - np.log(b) - tau)
    if not np.isfinite(c):
        return dof

    def equation(v):
        return 1.0 + np.log(v / 2.0) - digamma(v / 2.0) + c

    if equation(MAX_DOF) > 0:
        return MAX_DOF
    if equation(MIN_DOF) < 0:
        return MIN_DOF
    return float(brentq(equation, MIN_DOF, MAX_DOF, xtol=1e-10))


class _Model:
    """The EM map and the likelihood of one covariance structure."""

    def __init__(
        self, stats, weights, structure, dof, fixed_covariance, fixed_noise, power=1.0
    ):
        self.power = power
        self.stats, self.structure = stats, structure
        self.weights = self.weights_of(weights)
        self.dof_mode = dof
        self.fixed_covariance, self.fixed_noise = fixed_covariance, fixed_noise
        self.T, self.q = stats.g.shape
        self.total = float(stats.n.sum())
        self._last = None
        # a floor for the variances, relative to the data's scale of coefficients
        total = max(self.total, 1e-300)
        y_var = float(stats.h.sum()) / total
        x_var = float(np.trace(stats.G.sum(axis=0))) / (total * self.q)
        scale = y_var / x_var if x_var > 0 and y_var > 0 else 1.0
        self.floor = 1e-10 * scale
        self.noise_floor = 1e-12 * (y_var if y_var > 0 else 1.0)

    def weights_of(self, weights):
        """The similarities raised to this model's locality power."""
        V = sparse.csr_array(weights, dtype=float, copy=True)
        V.data = np.power(np.maximum(V.data, 0.0), self.power)
        return V

    def e_step(self, state):
        Psi, noise, _, tau = state
        Psi_t = Psi[None] / tau[:, None, None]
        P, u, Minv = source_summaries(self.stats, Psi_t, noise)
        m = local_prior_mean(self.weights, P, u)
        theta, C = posterior(self.stats, m, Psi_t, noise, Minv)
        self._last = (state, m, Psi_t, Minv)
        return m, theta, C

    def step(self, state):
        Psi, noise, dof, tau = state
        m, theta, C = self.e_step(state)
        dev = theta - m
        E = dev[:, :, None] * dev[:, None, :] + C
        if np.isfinite(dof):
            delta = np.einsum("ij,tji->t", _inverse(Psi), E)
            delta = np.where(np.isfinite(delta), np.maximum(delta, 0.0), self.q)
            a = 0.5 * (dof + self.q)
            b = 0.5 * (dof + delta)
            new_tau = np.clip(a / b, 1e-8, 1e8)
            if self.dof_mode == "auto":
                dof = _update_dof(a, b, new_tau, dof)
        else:
            new_tau = tau
        if self.fixed_covariance is None:
            Psi = _restrict(
                (tau[:, None, None] * E).sum(axis=0) / self.T, self.structure
            )
        if self.fixed_noise is None:
            G, g = self.stats.G, self.stats.g
            sse = (
                self.stats.h
                - 2.0 * np.einsum("tj,tj->t", theta, g)
                + np.einsum("tj,tjk,tk->t", theta, G, theta)
                + np.einsum("tij,tji->t", G, C)
            )
            noise = max(float(sse.sum()) / self.total, self.noise_floor)
        return Psi, noise, dof, new_tau

    def log_likelihood(self, state) -> float:
        """Gaussian log marginal likelihood of all rows, scales plugged in."""
        Psi, noise, _, tau = state
        stats, q = self.stats, self.q
        if self._last is not None and self._last[0] is state:
            _, m, Psi_t, Minv = self._last  # the E-step of this state, done already
        else:
            Psi_t = Psi[None] / tau[:, None, None]
            P, u, Minv = source_summaries(stats, Psi_t, noise)
            m = local_prior_mean(self.weights, P, u)
        M = stats.G @ Psi_t + noise * np.eye(q)
        _, logdet = np.linalg.slogdet(M)
        gm = stats.g - np.einsum("tij,tj->ti", stats.G, m)
        hm = (
            stats.h
            - 2.0 * np.einsum("tj,tj->t", m, stats.g)
            + np.einsum("tj,tjk,tk->t", m, stats.G, m)
        )
        quad = hm - np.einsum("ti,ti->t", gm, np.einsum("tij,tj->ti", Psi_t @ Minv, gm))
        ll = -0.5 * (
            stats.n * np.log(2 * np.pi * noise)
            + logdet
            - q * np.log(noise)
            + quad / noise
        )
        _, logdet_psi = np.linalg.slogdet(Psi)
        return float(ll.sum()) + _PRIOR_POWER * logdet_psi


def _initial_state(stats, dof, fixed_covariance, fixed_noise):
    """Start from the tasks' own least-squares fits (a small ridge)."""
    T, q = stats.g.shape
    ridge = 1e-6 * np.trace(stats.G, axis1=1, axis2=2).mean() / q + 1e-12
    own = _psd_solve(stats.G + ridge * np.eye(q), stats.g)
    sse = (
        stats.h
        - 2.0 * np.einsum("tj,tj->t", own, stats.g)
        + np.einsum("tj,tjk,tk->t", own, stats.G, own)
    )
    dof_left = max(float(stats.n.sum()) - 0.5 * T * q, 1.0)
    noise = fixed_noise if fixed_noise is not None else max(sse.sum() / dof_left, 1e-12)
    if fixed_covariance is not None:
        Psi = fixed_covariance
    else:
        spread = np.maximum(((own - own.mean(axis=0)) ** 2).mean(axis=0), 1e-6)
        Psi = np.diag(spread)
    dof0 = 30.0 if dof == "auto" else float(dof)
    return Psi, float(noise), dof0, np.ones(T)


def _power_of_two(x) -> np.ndarray:
    """The power of two nearest to ``x`` (1 where ``x`` is not positive)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        exponent = np.where(x > 0, np.round(np.log2(np.where(x > 0, x, 1.0))), 0.0)
    return np.exp2(exponent)


def fit_learned_prior(stats: TaskStats, weights, **params):
    """Learn the prior of every task from all tasks (see the module docstring).

    The problem is first brought to unit scale, exactly (each coefficient's
    column and the target divided by powers of two), so that neither tiny nor
    huge values of ``X`` or ``y`` over- or underflow; the result is brought back.
    Parameters and returns as :func:`_fit_learned_prior`.
    """
    total = max(float(stats.n.sum()), 1e-300)
    d = 1.0 / _power_of_two(np.sqrt(np.diagonal(stats.G.sum(axis=0)) / total))
    s = _power_of_two(np.sqrt(float(stats.h.sum()) / total))
    scaled = TaskStats(
        stats.G * d[:, None] * d[None, :], stats.g * d / s, stats.h / s**2, stats.n
    )
    fixed = params.get("fixed_covariance")
    if fixed is not None:
        params["fixed_covariance"] = fixed / (s**2 * d[:, None] * d[None, :])
    if params.get("fixed_noise") is not None:
        params["fixed_noise"] = params["fixed_noise"] / s**2
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            prior, mean, theta = _fit_learned_prior(scaled, weights, **params)
            # each task's share of the prior and each source's weight (unit scale)
            Psi_t = prior.task_covariance()
            P, _, Minv = source_summaries(scaled, Psi_t, prior.noise_variance)
            trace = np.trace(Minv, axis1=1, axis2=2)
            prior.shrinkage = np.clip(prior.noise_variance * trace / len(d), 0, 1)
            prior.source_size = np.trace(P, axis1=1, axis2=2)
            prior.column_scale, prior.target_scale = d, float(s)
            prior.unit_covariance = prior.covariance
            prior.unit_noise = prior.noise_variance
            prior.noise_variance = prior.noise_variance * s**2
            mean, theta = mean * s * d, theta * s * d
        # in the units of the data: infinite where they cannot be represented
        with np.errstate(over="ignore"):
            prior.covariance = prior.covariance * (s**2 * d[:, None] * d[None, :])
        return prior, mean, theta
    except (FloatingPointError, np.linalg.LinAlgError) as exc:
        raise ValueError(
            "transfer rule 'hierarchical': the prior cannot be computed in floating "
            "point for these data: a feature or the target spans too many orders of "
            f"magnitude ({exc}); scale the features (for example with "
            "sklearn.preprocessing.StandardScaler)."
        ) from exc


def _fit_learned_prior(
    stats: TaskStats,
    weights,
    *,
    covariance="auto",
    dof="auto",
    max_iter=20,
    tol=1e-6,
    fixed_covariance=None,
    fixed_noise=None,
    locality=1.0,
    max_tasks=MAX_TASKS,
):
    """Learn the prior of every task from all tasks (see the module docstring).

    Parameters
    ----------
    stats : TaskStats
        Sufficient statistics of every task.
    weights : sparse array of shape (n_tasks, n_tasks)
        Similarity of each task to its sources (its prior mean's weights).
    covariance : {"auto", "full", "diag", "spherical"}, default="auto"
        Structure of ``Psi``; ``"auto"`` fits ``"full"`` and ``"diag"`` and keeps
        the one of smaller AIC.
    dof : "auto" or float > 0, default="auto"
        Tail degrees of freedom ``nu`` (``inf``: Gaussian); ``"auto"`` learns it.
    max_iter : int, default=20
        Most SQUAREM cycles (each about three EM steps).
    tol : float, default=1e-6
        Stop when a cycle moves the (log-scale) parameters by less than ``tol``.
    fixed_covariance : ndarray of shape (q, q), default=None
        Use this ``Psi`` instead of learning it.
    fixed_noise : float, default=None
        Use this ``sigma^2`` instead of learning it.
    locality : float > 0 or "auto", default=1.0
        Power of the similarities in the prior means (larger: more local); with
        ``"auto"``, the one of :data:`LOCALITIES` of largest likelihood.
    max_tasks : int, default=MAX_TASKS
        With more tasks, the prior's parameters are learned on this many tasks
        drawn at random (seed 0), with their neighbours among them; every task's
        scale and model then follow in two passes.

    Returns
    -------
    prior : LearnedPrior
    mean : ndarray of shape (n_tasks, q)
        Each task's local prior mean.
    theta : ndarray of shape (n_tasks, q)
        Each task's posterior mean (its model).
    """
    q = stats.g.shape[1]
    if fixed_covariance is not None or covariance != "auto":
        structures = ["full" if covariance == "auto" else covariance]
    else:
        structures = ["full", "diag"] if q > 1 else ["diag"]
    localities = list(LOCALITIES) if locality == "auto" else [float(locality)]
    candidates = [(st, loc) for st in structures for loc in localities]
    W = sparse.csr_array(weights, dtype=float)
    T = stats.g.shape[0]
    fixed = (dof, fixed_covariance, fixed_noise)
    if T <= max_tasks:
        model, state, ll, n_steps, structure = _fit_candidates(
            stats, W, candidates, fixed, max_iter, tol
        )
    else:
        # the prior's few parameters from a subsample of tasks (and their
        # neighbours among it); then every task's scale and model, in two passes
        tasks = np.sort(np.random.default_rng(0).choice(T, max_tasks, replace=False))
        sub = sparse.csr_array(W[tasks][:, tasks])
        sub_model, sub_state, ll, n_steps, structure = _fit_candidates(
            stats.take(tasks), sub, candidates, fixed, max_iter, tol
        )
        Psi, noise, nu, _ = sub_state
        model = _Model(stats, W, structure, nu, Psi, noise, sub_model.power)
        state = model.step((Psi, noise, nu, np.ones(T)))
        n_steps += 1
    m, theta, _ = model.e_step(state)
    Psi, noise, nu, tau = state
    prior = LearnedPrior(Psi, noise, nu, tau, structure, ll, n_steps)
    return prior, m, theta


def _fit_candidates(stats, W, candidates, fixed, max_iter, tol):
    """EM of each candidate (structure, locality); the one of smallest AIC goes on.

    Each candidate gets a few SQUAREM cycles; the best then runs to the end.
    """
    dof, fixed_covariance, fixed_noise = fixed
    q = stats.g.shape[1]
    trial = max_iter if len(candidates) == 1 else min(max_iter, _TRIAL_CYCLES)
    best = None
    for structure, power in candidates:
        model = _Model(stats, W, structure, dof, fixed_covariance, fixed_noise, power)
        state = _initial_state(stats, dof, fixed_covariance, fixed_noise)
        state, ll, n_steps = squarem(model, state, trial, tol)
        aic = ll - _N_PARAMS[structure](q)
        if best is None or aic > best[0]:
            best = (aic, model, state, ll, n_steps, structure)
    _, model, state, ll, n_steps, structure = best
    if trial < max_iter:
        state, ll, more = squarem(model, state, max_iter - trial, tol)
        n_steps += more
    return model, state, ll, n_steps, structure
