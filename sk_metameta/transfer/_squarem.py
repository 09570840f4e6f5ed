"""SQUAREM: an EM algorithm accelerated by squared extrapolation.

Varadhan and Roland (2008), "Simple and globally convergent methods for
accelerating the convergence of any EM algorithm". The state of the learned
prior is ``(Psi, noise_variance, dof, scales)``; it is extrapolated in the
coordinates of :func:`_pack` (log-Cholesky of ``Psi``, logs of the rest), where
a variance that decays toward zero moves on a line.
"""

from __future__ import annotations

import numpy as np

__all__ = ["squarem"]


def _cholesky(Psi):
    """Cholesky factor of ``Psi``, its eigenvalues first lifted to be positive."""
    Psi = 0.5 * (Psi + Psi.T)
    try:
        return np.linalg.cholesky(Psi)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(Psi)
        floor = max(1e-12 * abs(values).max(), 1e-300)
        lifted = (vectors * np.maximum(values, floor)) @ vectors.T
        return np.linalg.cholesky(0.5 * (lifted + lifted.T) + floor * np.eye(len(Psi)))


def _pack(state):
    """The state as one vector: log-Cholesky of ``Psi``, logs of the rest.

    In these coordinates a variance that decays toward zero moves on a line, so
    the extrapolation of SQUAREM follows it far.
    """
    Psi, noise, dof, tau = state
    L = _cholesky(Psi)
    rows, cols = np.tril_indices(Psi.shape[0], -1)
    return np.concatenate(
        [
            np.log(np.diag(L)),
            L[rows, cols],
            [np.log(noise), np.log(dof) if np.isfinite(dof) else 0.0],
            np.log(tau),
        ]
    )


def _unpack(v, q, finite_dof):
    n_off = q * (q - 1) // 2
    L = np.diag(np.exp(v[:q]))
    rows, cols = np.tril_indices(q, -1)
    L[rows, cols] = v[q : q + n_off]
    k = q + n_off
    noise = float(np.exp(v[k]))
    dof = float(np.exp(v[k + 1])) if finite_dof else np.inf
    return L @ L.T, noise, dof, np.exp(v[k + 2 :])


def _valid(state) -> bool:
    Psi, noise, _, tau = state
    finite = np.isfinite(Psi).all() and np.isfinite(noise) and np.isfinite(tau).all()
    if not finite or noise <= 0:
        return False
    return bool(np.linalg.eigvalsh(Psi).min() >= -1e-12 * max(np.trace(Psi), 1e-300))


def squarem(model, state, max_iter, tol):
    """EM accelerated by SQUAREM (Varadhan and Roland, 2008).

    Each cycle takes two EM steps, extrapolates along them (in the coordinates
    of :func:`_pack`) and takes one more step from the extrapolation, falling
    back to the two plain steps when the extrapolation leaves the parameter
    space. Stops when a cycle moves the parameters by less than ``tol``
    (relative), or after ``max_iter`` cycles.
    """
    finite = np.isfinite(state[2])
    q = model.q
    n_steps = 0
    for _ in range(max_iter):
        s1 = model.step(state)
        s2 = model.step(s1)
        n_steps += 2
        v0, v1, v2 = _pack(state), _pack(s1), _pack(s2)
        r, w = v1 - v0, v2 - 2.0 * v1 + v0
        alpha = min(-np.sqrt(r @ r) / max(np.sqrt(w @ w), 1e-300), -1.0)
        alpha = max(alpha, -1e3)  # a bounded step: the extrapolation is a guess
        new = s2
        for _ in range(5):
            with np.errstate(over="ignore", invalid="ignore"):
                candidate = _unpack(v0 - 2.0 * alpha * r + alpha**2 * w, q, finite)
            if _valid(candidate):
                stepped = model.step(candidate)
                n_steps += 1
                if _valid(stepped):
                    new = stepped
                    break
            alpha = 0.5 * (alpha - 1.0)
        moved = _pack(new) - v0
        state = new
        if np.abs(moved).max() <= tol:
            break
    return state, model.log_likelihood(state), n_steps
