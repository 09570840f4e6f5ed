"""Every registered component, built-in or from an installed plugin, passes the
conformance kit. The parameters are the registry's listing at collection time, so a
new built-in or a newly installed plugin is covered without editing this file."""

import pytest

from sk_metameta.plugins import KINDS, get_registry
from sk_metameta.testing import check_component, check_plugin

REGISTRY = get_registry()
COMPONENTS = REGISTRY.components()
PLUGINS = sorted(
    info.plugin for info in REGISTRY.plugin_info.values() if info.status == "loaded"
)


def test_registry_lists_components_of_every_kind():
    assert {c.kind for c in COMPONENTS} == set(KINDS)
    assert "builtin" in PLUGINS


@pytest.mark.slow
@pytest.mark.parametrize(
    "component", COMPONENTS, ids=[f"{c.kind}-{c.name}" for c in COMPONENTS]
)
def test_component_conforms(component):
    check_component(component.create())


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_hooks_and_records_conform(plugin):
    module = REGISTRY.plugin_manager.get_plugin(plugin)
    registered = check_plugin(module, components=False)
    listed = [(c.kind, c.name) for c in COMPONENTS if c.plugin == plugin]
    assert sorted(registered) == sorted(listed)
