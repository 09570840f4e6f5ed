"""Transfer rules: combine the knowledge of source tasks into target models."""

from .base import TRANSFER_KINDS, BaseTransferRule, NoTransfer

#: Transfer-rule classes registered by the built-in plugin.
BUILTIN_TRANSFER_RULES = [NoTransfer]

__all__ = [
    "BUILTIN_TRANSFER_RULES",
    "TRANSFER_KINDS",
    "BaseTransferRule",
    "NoTransfer",
]
