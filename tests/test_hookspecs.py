"""The plugin contract: hook specifications, records, the table of component kinds,
and the import graph around them (hookspecs and the built-ins never import the
registry)."""

import inspect
import subprocess
import sys

import pytest

import sk_metameta.plugins
from sk_metameta import hookspecs
from sk_metameta.hookspecs import (
    COMPONENT_KINDS,
    MetricRecord,
    TaskFeatureRecord,
    TransferRuleRecord,
    kind_of,
)
from sk_metameta.metrics import BaseTaskMetric, EuclideanMetric
from sk_metameta.plugins import KINDS
from sk_metameta.task_features import BaseTaskFeatures, MomentFeatures
from sk_metameta.transfer import BaseTransferRule, NoTransfer


def test_every_hook_is_specified_documented_and_known():
    specs = {
        name
        for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("sk_metameta_")
    }
    assert specs == set(KINDS.values())
    for name in specs:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "Returns" in doc, name


def test_records_normalise_names_and_need_a_callable():
    assert MetricRecord("My-Metric Name", EuclideanMetric).name == "my_metric_name"
    assert TaskFeatureRecord("m", MomentFeatures).summary == MomentFeatures.summary

    def factory():
        """First line of the docstring.

        More text.
        """

    assert TransferRuleRecord("r", factory).summary == "First line of the docstring."
    with pytest.raises(TypeError, match="factory must be callable"):
        MetricRecord("broken", "not callable")
    with pytest.raises(ValueError, match="non-empty str"):
        MetricRecord("  ", EuclideanMetric)


def test_the_table_of_kinds_names_each_kind_once():
    assert list(COMPONENT_KINDS) == ["metric", "task_features", "transfer_rule"]
    bases = [BaseTaskMetric, BaseTaskFeatures, BaseTransferRule]
    records = [MetricRecord, TaskFeatureRecord, TransferRuleRecord]
    for (name, kind), base, record in zip(
        COMPONENT_KINDS.items(), bases, records, strict=True
    ):
        assert kind.name == name and record.kind == name
        assert kind.record is record and kind.base is base
        assert getattr(hookspecs, kind.hook).__doc__
        # the registry's table of hooks is derived from this one
        assert KINDS[name] == kind.hook
    assert [kind_of(c).name for c in (EuclideanMetric(), MomentFeatures())] == [
        "metric",
        "task_features",
    ]
    assert kind_of(NoTransfer()).label == "transfer rule"
    assert kind_of(object()) is None


def test_the_old_import_paths_are_aliases_of_the_contract():
    for name in ["MetricRecord", "TaskFeatureRecord", "TransferRuleRecord", "hookimpl"]:
        assert getattr(sk_metameta.plugins, name) is getattr(hookspecs, name), name
        # the API reference names the canonical home only
        assert name in hookspecs.__all__ and name not in sk_metameta.plugins.__all__


@pytest.mark.parametrize("module", ["sk_metameta.hookspecs", "sk_metameta._builtin"])
def test_the_contract_and_the_builtins_do_not_import_the_registry(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.startswith('sk_metameta')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "sk_metameta.plugins" not in out
    assert "sk_metameta._components" not in out
