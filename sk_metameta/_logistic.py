"""Batched logistic regression of every task under a prior learned across tasks.

Each task ``t`` has one linear model per class, ``Theta_t`` of shape ``(K', q)``
(``K' = 1`` for two classes, the logit of the second; ``K' = K`` classes
otherwise, the softmax), in the shared frame ``z = [1, x - mu]`` of
:mod:`sk_metameta.transfer._linear`. The prior is that of the hierarchical
regression rule (:mod:`sk_metameta.transfer._empirical_bayes`), with the classes
independent and sharing the between-task covariance ``Psi`` (of size ``q``)::

    vec(Theta_t) ~ N(vec(M_t), (I_K' kron Psi) / tau_t)

and the same local prior mean, heavy tails and EM updates. The likelihood is not
Gaussian: every iteration replaces it by its quadratic approximation at the
current models (the Laplace approximation; the working statistics
``G_t = H_t`` and ``g_t = H_t theta_t + grad_t`` of a Newton step), so that the
E-step of the Gaussian prior is one batched Newton step of every task toward its
posterior mode, and the M-step updates ``Psi``, the scales and the degrees of
freedom from the approximate posteriors (penalised quasi-likelihood). A fixed
prior (``Psi`` given, prior mean zero) gives per-task ridge logistic regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logsumexp, softmax

from .transfer._empirical_bayes import (
    _PRIOR_POWER,
    _update_dof,
    local_prior_mean,
    posterior,
    source_summaries,
)
from .transfer._linear import RowData, TaskStats

__all__ = ["LogisticPrior", "fit_logistic_tasks", "working_statistics"]

#: Largest change of a coefficient in one Newton step (a damping for separable
#: rows, whose likelihood alone would send the coefficients to infinity).
_MAX_STEP = 5.0


@dataclass
class LogisticPrior:
    """What the logistic fit learned (or was given) about the task models.

    Attributes
    ----------
    covariance : ndarray of shape (q, q)
        Between-task covariance ``Psi`` of each class's model.
    dof : float
        Tail degrees of freedom (``inf``: Gaussian).
    scale : ndarray of shape (n_tasks,)
        Each task's scale ``tau_t``.
    stats : TaskStats
        The tasks' working statistics at the final models (their Laplace
        approximations), for the prior means of new tasks.
    n_iter : int
        Newton-EM iterations taken.
    """

    covariance: np.ndarray
    dof: float
    scale: np.ndarray
    stats: TaskStats
    n_iter: int = 0

    def task_covariance(self, n_blocks: int, scale=None) -> np.ndarray:
        """``(I kron Psi) / tau_t`` of every task: shape ``(n, K' q, K' q)``."""
        scale = self.scale if scale is None else np.asarray(scale)
        big = np.kron(np.eye(n_blocks), self.covariance)
        return big[None] / scale[:, None, None]


def _probabilities(eta, binary):
    if binary:
        return expit(eta[..., 0])
    return softmax(eta, axis=-1)


def working_statistics(rows: RowData, theta, n_classes) -> TaskStats:
    """The Laplace approximation of every task's log-likelihood at ``theta``.

    Parameters
    ----------
    rows : RowData
        Rows of every task; ``r`` holds each row's class number.
    theta : ndarray of shape (n_tasks, K', q)
        Current models.
    n_classes : int
        Number of classes ``K``.

    Returns
    -------
    stats : TaskStats
        ``G`` the negative Hessian (``(n_tasks, K' q, K' q)``), ``g = G theta +
        gradient``, ``h`` the negative log-likelihood and ``n`` the sum of the
        row weights.
    """
    T, Kp, q = theta.shape
    binary = n_classes == 2
    G = np.zeros((T, Kp * q, Kp * q))
    grad = np.zeros((T, Kp, q))
    loss = np.zeros(T)
    n = np.zeros(T)
    for tasks, Z, r, w in rows.buckets:
        codes = r.astype(np.intp)
        eta = np.einsum("bmq,bkq->bmk", Z, theta[tasks])
        if binary:
            p = _probabilities(eta, True)
            y = (codes == 1).astype(float)
            grad[tasks, 0] = np.einsum("bm,bmq->bq", w * (y - p), Z)
            wt = w * p * (1.0 - p)
            G[tasks] = np.einsum("bm,bmq,bmr->bqr", wt, Z, Z)
            # -log p(y) from the logit itself: finite however sure the model is
            nll = np.logaddexp(0.0, eta[..., 0]) - y * eta[..., 0]
        else:
            P = _probabilities(eta, False)
            Y = np.eye(n_classes)[codes]
            grad[tasks] = np.einsum("bmk,bmq->bkq", w[..., None] * (Y - P), Z)
            W = P[..., :, None] * (np.eye(n_classes) - P[..., None, :])  # (b,m,k,l)
            H = np.einsum("bm,bmkl,bmq,bmr->bkqlr", w, W, Z, Z)
            G[tasks] = H.reshape(len(tasks), Kp * q, Kp * q)
            chosen = np.take_along_axis(eta, codes[..., None], -1)[..., 0]
            nll = logsumexp(eta, axis=-1) - chosen
        loss[tasks] = np.einsum("bm,bm->b", w, np.where(w > 0, nll, 0.0))
        n[tasks] = w.sum(axis=1)
    flat = theta.reshape(T, Kp * q)
    g = np.einsum("tij,tj->ti", G, flat) + grad.reshape(T, Kp * q)
    return TaskStats(G, g, loss, n)


def _block_mean(E, n_blocks, q):
    """Mean of the ``n_blocks`` diagonal ``(q, q)`` blocks of each ``E_t``."""
    T = E.shape[0]
    blocks = E.reshape(T, n_blocks, q, n_blocks, q)
    return np.einsum("tkakb->tab", blocks) / n_blocks


def fit_logistic_tasks(
    rows: RowData,
    n_classes: int,
    similarity,
    *,
    covariance="full",
    dof="auto",
    max_iter=100,
    tol=1e-6,
    fixed_covariance=None,
):
    """Fit every task's logistic model under a learned (or fixed) prior.

    Parameters
    ----------
    rows : RowData
        Rows of every task (class numbers in ``r``).
    n_classes : int
        Number of classes.
    similarity : sparse array of shape (n_tasks, n_tasks)
        Each task's sources and their similarity (empty: prior mean zero).
    covariance : {"full", "diag", "spherical"}, default="full"
        Structure of the learned ``Psi``.
    dof : "auto" or float, default="auto"
        Tail degrees of freedom (``inf``: Gaussian).
    max_iter : int, default=100
        Most Newton-EM iterations.
    tol : float, default=1e-6
        Stop when no coefficient and no (log) variance moves more than ``tol``.
    fixed_covariance : ndarray of shape (q, q), default=None
        A fixed ``Psi`` (not learned); with no similarity, per-task ridge.

    Returns
    -------
    theta : ndarray of shape (n_tasks, K', q)
        Each task's model (its posterior mode).
    mean : ndarray of shape (n_tasks, K', q)
        Each task's prior mean.
    prior : LogisticPrior
    """
    from .transfer._empirical_bayes import _restrict

    T, q = rows.n_tasks, rows.q
    Kp = 1 if n_classes == 2 else n_classes
    theta = np.zeros((T, Kp, q))
    fixed = fixed_covariance is not None
    Psi = np.eye(q) if fixed_covariance is None else fixed_covariance
    tau = np.ones(T)
    nu = 30.0 if dof == "auto" else float(dof)
    has_sources = similarity.nnz > 0
    mean = np.zeros_like(theta)
    stats, n_iter = None, 0
    for _ in range(max_iter):
        n_iter += 1
        stats = working_statistics(rows, theta, n_classes)
        Psi_t = np.kron(np.eye(Kp), Psi)[None] / tau[:, None, None]
        P, u, Minv = source_summaries(stats, Psi_t, 1.0)
        if has_sources:
            mean = local_prior_mean(similarity, P, u).reshape(T, Kp, q)
        new, C = posterior(stats, mean.reshape(T, Kp * q), Psi_t, 1.0, Minv)
        step = new.reshape(T, Kp, q) - theta
        step *= np.minimum(1.0, _MAX_STEP / max(np.abs(step).max(), 1e-300))
        theta = theta + step
        moved = np.abs(step).max()
        if not fixed:
            dev = (theta - mean).reshape(T, Kp * q)
            E = dev[:, :, None] * dev[:, None, :] + C
            if np.isfinite(nu):
                delta = np.einsum("ij,tji->t", np.linalg.pinv(Psi_t[0] * tau[0]), E)
                a, b = 0.5 * (nu + Kp * q), 0.5 * (nu + np.maximum(delta, 0.0))
                new_tau = np.clip(a / b, 1e-8, 1e8)
                if dof == "auto":
                    nu = _update_dof(a, b, new_tau, nu)
            else:
                new_tau = tau
            divisor = max(T - 2.0 * _PRIOR_POWER, 0.5 * T)
            spread = (tau[:, None, None] * _block_mean(E, Kp, q)).sum(axis=0) / divisor
            new_Psi = _restrict(spread, covariance)
            new_Psi += 1e-10 * max(np.trace(new_Psi) / q, 1e-300) * np.eye(q)
            change = np.abs(np.log(np.diag(new_Psi)) - np.log(np.diag(Psi))).max()
            moved = max(moved, change)
            Psi, tau = new_Psi, new_tau
        if moved <= tol:
            break
    prior = LogisticPrior(Psi, nu, tau, stats, n_iter)
    return theta, mean, prior
