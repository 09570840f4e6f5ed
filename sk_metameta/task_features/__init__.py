"""Task feature extractors: describe every task by a vector."""

from ._moments import MomentFeatures
from .base import BaseTaskFeatures, CallableTaskFeatures

#: Extractor classes registered by the built-in plugin.
BUILTIN_TASK_FEATURES = [MomentFeatures]

__all__ = [
    "BUILTIN_TASK_FEATURES",
    "BaseTaskFeatures",
    "CallableTaskFeatures",
    "MomentFeatures",
]
