"""The checks of a MetricMetaEstimator fit: the rules, the data, the target."""

from __future__ import annotations

import numpy as np
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import has_fit_parameter, validate_data

from .._base import check_numeric_target
from .._compat import _check_sample_weight
from .._components import resolve_transfer_rule
from ..transfer.base import BaseTransferRule
from ._responses import Target

__all__ = ["candidate_rules", "check_fit_data", "check_rule", "uses_scores"]

#: What a rule of MetricMetaEstimator may transfer.
KINDS = ("nothing", "instances", "predictions")

#: The rule of ``transfer="auto"``: the first of these the estimator can use
#: (``"instance"`` needs a ``fit`` that takes ``sample_weight``).
AUTO_RULES = ("instance", "ensemble")


def check_rule(transfer):
    """The resolved rule, if this estimator can apply it."""
    rule = resolve_transfer_rule(transfer)
    transfers = rule.transfers
    if transfers == "parameters":
        raise ValueError(
            f"transfer={transfer!r}: the rule {rule.name!r} transfers model "
            "parameters, which only linear models have; use "
            "sk_metameta.TransferRegressor for it, or a rule that transfers "
            "instances or predictions ('instance', 'ensemble', 'select')."
        )
    if transfers not in KINDS:
        raise ValueError(
            f"transfer rule {rule.name!r} declares transfers={transfers!r}; "
            f"MetricMetaEstimator supports {KINDS}."
        )
    return rule


def uses_scores(rule) -> bool:
    """Whether the rule's source weights may use the transferability.

    The base class's :meth:`~sk_metameta.transfer.base.BaseTransferRule.source_weights`
    (the normalised similarities, as ``"instance"``'s) does not; a rule that
    overrides it may.
    """
    return type(rule).source_weights is not BaseTransferRule.source_weights


def candidate_rules(transfer, strength, estimator) -> list[tuple[object, bool]]:
    """The rules to fit, each with whether it was given by name.

    One rule; for ``transfer="auto"`` the first rule of :data:`AUTO_RULES` the
    estimator can use; for a list of rules, those rules, among which the
    episodes choose.
    """
    is_auto = isinstance(transfer, str) and transfer == "auto"
    several = isinstance(transfer, list | tuple)
    if several and not transfer:
        raise ValueError("transfer=[]: give at least one rule to choose from.")
    if (is_auto or (several and len(transfer) > 1)) and strength != "auto":
        raise ValueError(
            f"strength={strength!r} with transfer={transfer!r}: the strength of "
            "each rule means something else (a pseudo-count of rows for "
            "'ensemble', the weight of a source row for 'instance'), and the rule "
            "is chosen with its strength. Name the rule (transfer='ensemble' or "
            "'instance') to fix its strength, or leave strength='auto'."
        )
    if several:
        return [(check_rule(rule), isinstance(rule, str)) for rule in transfer]
    if not is_auto:
        return [(check_rule(transfer), isinstance(transfer, str))]
    accepts_weights = has_fit_parameter(estimator, "sample_weight")
    name = next(n for n in AUTO_RULES if n != "instance" or accepts_weights)
    return [(check_rule(name), True)]


def check_fit_data(meta, X, y, sample_weight, rules):
    """Validated ``X``, the encoded target and the sample weights."""
    name = type(meta.estimator).__name__
    accepts_weights = has_fit_parameter(meta.estimator, "sample_weight")
    for rule in rules:
        if rule.transfers == "instances" and not accepts_weights:
            raise ValueError(
                f"transfer rule {rule.name!r} transfers instances: it adds the "
                f"source tasks' rows with weights, but {name}.fit does not accept "
                "sample_weight. Use a predictions rule such as 'ensemble', or an "
                "estimator whose fit takes sample_weight."
            )
    if sample_weight is not None and not accepts_weights:
        raise ValueError(f"sample_weight was given but {name}.fit does not take it.")
    is_clf = meta._base_type() == "classifier"
    multi_output = not is_clf and get_tags(meta.estimator).target_tags.multi_output
    X, y = validate_data(
        meta,
        X,
        y,
        accept_sparse=False,
        multi_output=multi_output,
        y_numeric=not is_clf,
    )
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    if not is_clf:
        check_numeric_target(y, type(meta).__name__)
        return X, Target(y), sample_weight
    try:
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError:  # labels that cannot be ordered, such as 'a' and 1
        kinds = sorted({type(v).__name__ for v in np.ravel(y)})
        raise ValueError(
            f"y mixes class labels of types {', '.join(kinds)}, which cannot "
            "be sorted; give labels that are all strings or all numbers."
        ) from None
    return X, Target(y, classes, codes.ravel()), sample_weight
