"""Task feature extractors: describe every task by a vector."""

from ._coef import CoefFeatures
from ._kernel_mean import KernelMeanFeatures
from ._landmarks import LandmarkFeatures
from ._moments import MomentFeatures, MomentXYFeatures
from .base import BaseTaskFeatures, CallableTaskFeatures

#: Extractor classes registered by the built-in plugin.
BUILTIN_TASK_FEATURES = [
    MomentFeatures,
    MomentXYFeatures,
    CoefFeatures,
    LandmarkFeatures,
    KernelMeanFeatures,
]

__all__ = [
    "BUILTIN_TASK_FEATURES",
    "BaseTaskFeatures",
    "CallableTaskFeatures",
    "CoefFeatures",
    "KernelMeanFeatures",
    "LandmarkFeatures",
    "MomentFeatures",
    "MomentXYFeatures",
]
