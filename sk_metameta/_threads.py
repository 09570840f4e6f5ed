"""One place that limits BLAS threads for batched small-matrix work."""

from __future__ import annotations

import functools
from functools import cache

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread", "with_one_blas_thread"]


@cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread():
    """Context that limits BLAS to one thread.

    Batched work over tasks is many small matrix products and solves; BLAS threads
    do not speed those up, and on a busy machine (or under joblib workers) waiting
    for them makes each product orders of magnitude slower. Parallelism comes from
    ``n_jobs`` instead.
    """
    return _threadpools().limit(limits=1, user_api="blas")


def with_one_blas_thread(method):
    """Decorate ``method`` to run under :func:`one_blas_thread`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return method(*args, **kwargs)

    return wrapper
