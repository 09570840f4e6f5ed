"""Moment statistics of each task."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import BaseTaskFeatures

__all__ = ["MomentFeatures"]


class MomentFeatures(BaseTaskFeatures):
    """Per-task mean and standard deviation of every column of X.

    Examples
    --------
    >>> import numpy as np
    >>> MomentFeatures().fit_transform([[0.0], [2.0], [4.0], [4.0]], tasks=[0, 0, 1, 1]).tolist()
    [[1.0, 1.0], [4.0, 0.0]]
    """

    name: ClassVar[str] = "moments"
    summary: ClassVar[str] = "Per-task mean and standard deviation of X."

    def _transform(self, X, y, index):
        return np.hstack([index.mean(X), np.sqrt(index.var(X))])

    def _feature_names(self, input_features):
        return [f"mean_{f}" for f in input_features] + [
            f"std_{f}" for f in input_features
        ]
