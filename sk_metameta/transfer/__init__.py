"""Transfer rules: combine the knowledge of source tasks into target models."""

from ._hierarchical import HierarchicalTransfer
from ._prior import PriorTransfer
from ._rules import (
    AdditiveTransfer,
    EnsembleTransfer,
    InstanceTransfer,
    InterpolateTransfer,
    SelectTransfer,
)
from .base import (
    TRANSFER_KINDS,
    BaseTransferRule,
    LinearTransferProblem,
    LinearTransferResult,
    NoTransfer,
    check_linear_result,
    check_source_weights,
    normalize_rows,
)

#: Transfer-rule classes registered by the built-in plugin.
BUILTIN_TRANSFER_RULES = [
    NoTransfer,
    AdditiveTransfer,
    InterpolateTransfer,
    PriorTransfer,
    HierarchicalTransfer,
    EnsembleTransfer,
    InstanceTransfer,
    SelectTransfer,
]

__all__ = [
    "BUILTIN_TRANSFER_RULES",
    "TRANSFER_KINDS",
    "AdditiveTransfer",
    "BaseTransferRule",
    "EnsembleTransfer",
    "HierarchicalTransfer",
    "InstanceTransfer",
    "InterpolateTransfer",
    "LinearTransferProblem",
    "LinearTransferResult",
    "NoTransfer",
    "PriorTransfer",
    "SelectTransfer",
    "check_linear_result",
    "check_source_weights",
    "normalize_rows",
]
