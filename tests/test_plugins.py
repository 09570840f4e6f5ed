"""The registry contract: built-ins through hooks, duplicates, broken and blocked
plugins, misspelled hooks, unknown names, and the ``sk-metameta plugins`` listing.

Installed plugins are simulated by real distributions (a ``.dist-info`` directory
with ``entry_points.txt`` next to the plugin module) on a temporary ``sys.path``
entry, which is what ``importlib.metadata`` finds for an installed package."""

import itertools
import sys
import textwrap
import warnings

import numpy as np
import pytest

import sk_metameta
from sk_metameta import _builtin, task_distances
from sk_metameta._components import resolve_metric
from sk_metameta.cli import main
from sk_metameta.exceptions import PluginError, PluginLoadWarning
from sk_metameta.hookspecs import (
    MetricRecord,
    TaskFeatureRecord,
    hookimpl,
)
from sk_metameta.metrics import BUILTIN_METRICS, EuclideanMetric
from sk_metameta.plugins import (
    BLOCK_ENV_VAR,
    KINDS,
    Registry,
    describe_component,
    get_registry,
    iter_plugin_info,
    reset_registry,
    use_registry,
)
from sk_metameta.task_features import BUILTIN_TASK_FEATURES, MomentFeatures
from sk_metameta.transfer import BUILTIN_TRANSFER_RULES

_counter = itertools.count()

PLUGIN_SOURCE = """
from sk_metameta.hookspecs import MetricRecord, hookimpl
from sk_metameta.metrics import EuclideanMetric


class {cls}(EuclideanMetric):
    \"\"\"Euclidean distance, from a test plugin.\"\"\"

    name = "{metric}"


@hookimpl
def {hook}():
    return [MetricRecord("{metric}", {cls})]
"""


@pytest.fixture
def install(tmp_path, monkeypatch):
    """Install a plugin distribution: module + dist-info on a new sys.path entry."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules = []

    def _install(
        dist,
        *,
        metric="fake_metric",
        version="1.2.3",
        ep_name=None,
        source=None,
        hook="sk_metameta_register_metrics",
    ):
        module = f"fake_plugin_{next(_counter)}"
        modules.append(module)
        if source is None:
            source = PLUGIN_SOURCE.format(cls="FakeMetric", metric=metric, hook=hook)
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
        )
        (info / "entry_points.txt").write_text(
            f"[sk_metameta]\n{ep_name or dist.replace('-', '_')} = {module}\n"
        )
        return module

    yield _install
    for module in modules:
        sys.modules.pop(module, None)


@pytest.fixture(autouse=True)
def fresh_shared_registry():
    """Tests may build the shared registry with fake plugins: forget it after."""
    yield
    reset_registry()


def _loaded_registry():
    return Registry.from_plugins(builtins=True, entry_points=True)


# -- hooks and built-ins ----------------------------------------------------------
def test_builtins_are_registered_through_the_hooks():
    registry = Registry.from_plugins(builtins=True)
    assert registry.plugin_manager.get_plugin("builtin") is _builtin
    for hook_name in KINDS.values():
        impls = getattr(registry.plugin_manager.hook, hook_name).get_hookimpls()
        assert [impl.plugin_name for impl in impls] == ["builtin"]
    for kind, classes in [
        ("metric", BUILTIN_METRICS),
        ("task_features", BUILTIN_TASK_FEATURES),
        ("transfer_rule", BUILTIN_TRANSFER_RULES),
    ]:
        assert registry.names(kind) == sorted(cls.name for cls in classes)
        for cls in classes:
            component = registry.get(kind, cls.name)
            assert component.factory is cls
            assert (component.plugin, component.provider) == ("builtin", "sk-metameta")
            assert component.version == sk_metameta.__version__
            assert component.summary == cls.summary
            assert isinstance(registry.create(kind, cls.name), cls)


def test_registry_without_builtins_is_empty():
    registry = Registry.from_plugins(builtins=False)
    assert all(registry.names(kind) == [] for kind in KINDS)
    with pytest.raises(ValueError, match=r"available: \(none\)"):
        registry.get("metric", "euclidean")


def test_shared_registry_is_cached_reset_and_swapped():
    first = get_registry()
    assert get_registry() is first
    reset_registry()
    second = get_registry()
    assert second is not first
    other = Registry.from_plugins(builtins=True)
    with use_registry(other):
        assert get_registry() is other
    assert get_registry() is second


# -- object plugins ---------------------------------------------------------------
class _MetricPlugin:
    def __init__(self, *names):
        self.names = names

    @hookimpl
    def sk_metameta_register_metrics(self):
        return [MetricRecord(name, EuclideanMetric) for name in self.names]


class PluginA(_MetricPlugin):
    pass


class PluginB(_MetricPlugin):
    pass


def test_object_plugins_register_components():
    registry = Registry.from_plugins(PluginA("metric_a"), PluginB("metric_b"))
    assert {"metric_a", "metric_b", "euclidean"} <= set(registry.names("metric"))
    assert registry.get("metric", "Metric-A").plugin == "PluginA"


def test_duplicate_name_names_both_plugins():
    # a warning when the registry is built, an error when the name is used
    with pytest.warns(PluginLoadWarning, match="'twice'") as record:
        registry = Registry.from_plugins(
            PluginA("twice", "only_a"), PluginB("twice", "only_b")
        )
    with pytest.raises(PluginError) as info:
        registry.get("metric", "twice")
    for message in (str(record[0].message), str(info.value)):
        assert "'twice'" in message and "'PluginA'" in message
        assert "'PluginB'" in message and BLOCK_ENV_VAR in message
        # components are collected in registration order: the first one
        # registered is named first
        assert message.index("'PluginA'") < message.index("'PluginB'")
    # only the ambiguous name is refused
    assert "twice" not in registry.names("metric")
    assert {"only_a", "only_b", "euclidean"} <= set(registry.names("metric"))
    assert len(record) == 1


def test_duplicate_of_a_builtin_names_sk_metameta():
    # the built-in keeps its name: a plugin cannot replace it
    with pytest.warns(
        PluginLoadWarning, match=r"'builtin' \(provider sk-metameta"
    ) as record:
        registry = Registry.from_plugins(PluginA("Euclidean"))
    assert "'PluginA'" in str(record[0].message)
    assert registry.get("metric", "euclidean").plugin == "builtin"
    assert registry.plugin_info["PluginA"].status == "partial"
    assert registry.plugin_info["builtin"].status == "loaded"


def test_duplicate_between_installed_distributions_names_both_providers(install):
    install("dist-one", metric="shared_name", version="1.0")
    install("dist-two", metric="shared_name", version="2.0")
    with pytest.warns(PluginLoadWarning, match="'shared_name'") as record:
        registry = _loaded_registry()
    with pytest.raises(PluginError) as info:
        registry.get("metric", "shared_name")
    for message in (str(record[0].message), str(info.value)):
        assert "'shared_name'" in message
        assert "dist-one 1.0" in message and "dist-two 2.0" in message


def test_wrong_record_type_is_skipped_with_a_warning():
    class WrongRecords:
        @hookimpl
        def sk_metameta_register_metrics(self):
            return [
                TaskFeatureRecord("x", MomentFeatures),
                MetricRecord("y", EuclideanMetric),
            ]

    with pytest.warns(PluginLoadWarning, match="expected MetricRecord records") as rec:
        registry = Registry.from_plugins(WrongRecords())
    assert "'WrongRecords'" in str(rec[0].message) and len(rec) == 1
    # the malformed record only is refused
    assert "y" in registry.names("metric")
    assert "x" not in registry.names("metric") + registry.names("task_features")
    assert registry.plugin_info["WrongRecords"].status == "partial"


def test_hook_that_raises_warns_and_other_hooks_still_register():
    class HalfBroken:
        @hookimpl
        def sk_metameta_register_metrics(self):
            raise RuntimeError("boom")

        @hookimpl
        def sk_metameta_register_task_features(self):
            return [TaskFeatureRecord("half_moments", MomentFeatures)]

    with pytest.warns(PluginLoadWarning, match=r"'HalfBroken'.*RuntimeError\('boom'\)"):
        registry = Registry.from_plugins(HalfBroken())
    assert "half_moments" in registry.names("task_features")
    assert "euclidean" in registry.names("metric")


def test_misspelled_hookimpl_is_a_plugin_error_for_object_plugins():
    class Misspelled:
        @hookimpl
        def sk_metameta_register_metric(self):  # missing "s"
            return [MetricRecord("never", EuclideanMetric)]

    with pytest.raises(PluginError, match="sk_metameta_register_metric") as info:
        Registry.from_plugins(Misspelled())
    assert "known hooks" in str(info.value)


def test_hookimpl_with_unknown_argument_is_a_plugin_error():
    class WrongArguments:
        @hookimpl
        def sk_metameta_register_metrics(self, registry):
            return []

    with pytest.raises(PluginError, match="does not fit the hook specifications"):
        Registry.from_plugins(WrongArguments())


# -- installed plugins ------------------------------------------------------------
def test_installed_plugin_is_loaded_with_provider_and_version(install):
    install("sk-metameta-fake", metric="fake_installed", version="4.5.6")
    registry = _loaded_registry()
    component = registry.get("metric", "fake_installed")
    assert component.plugin == "sk_metameta_fake"
    assert (component.provider, component.version) == ("sk-metameta-fake", "4.5.6")
    info = registry.plugin_info["sk_metameta_fake"]
    assert info.status == "loaded"


def test_plugin_that_fails_to_import_warns_and_host_keeps_working(install):
    install("sk-metameta-broken", source="raise ImportError('missing dependency')\n")
    with pytest.warns(PluginLoadWarning) as record:
        registry = _loaded_registry()
    messages = [str(w.message) for w in record]
    assert any(
        "'sk_metameta_broken'" in m and "sk-metameta-broken 1.2.3" in m
        and "missing dependency" in m
        for m in messages
    ), messages  # fmt: skip
    info = registry.plugin_info["sk_metameta_broken"]
    assert info.status == "failed" and "missing dependency" in info.detail
    with use_registry(registry):
        X = np.array([[0.0], [1.0], [5.0], [6.0]])
        D = task_distances(X, tasks=[0, 0, 1, 1]).distances
    assert D[0, 1] == pytest.approx(5.0)


def test_misspelled_hookimpl_of_an_installed_plugin_warns_and_is_skipped(install):
    install(
        "sk-metameta-typo", metric="typo_metric", hook="sk_metameta_register_metric"
    )
    with pytest.warns(PluginLoadWarning, match="sk_metameta_register_metric") as rec:
        registry = _loaded_registry()
    assert any("'sk_metameta_typo'" in str(w.message) for w in rec)
    assert "typo_metric" not in registry.names("metric")
    assert registry.plugin_info["sk_metameta_typo"].status == "failed"
    assert "euclidean" in registry.names("metric")


def test_installed_plugin_with_a_broken_hook_is_skipped_whole(install):
    # the valid metrics hook comes before the broken one (alphabetically): nothing
    # of a plugin that is reported skipped may stay registered
    source = PLUGIN_SOURCE.format(
        cls="HalfMetric", metric="half_metric", hook="sk_metameta_register_metrics"
    ) + textwrap.dedent(
        """
        @hookimpl
        def sk_metameta_register_transfer_rules(unexpected_argument):
            return []
        """
    )
    install("sk-metameta-half", source=source)
    with pytest.warns(PluginLoadWarning, match="'sk_metameta_half'.*is skipped"):
        registry = _loaded_registry()
    assert registry.plugin_info["sk_metameta_half"].status == "failed"
    assert "half_metric" not in registry.names("metric")
    assert not registry.plugin_manager.has_plugin("sk_metameta_half")


@pytest.mark.parametrize(
    "blocked",
    ["sk_metameta_blocked", "sk-metameta-blocked", " Other , SK-METAMETA-BLOCKED "],
)
def test_environment_variable_blocks_plugins_by_name(install, monkeypatch, blocked):
    # blocked by entry-point name or by distribution name, normalised; a blocked
    # plugin is never imported, so its broken import does not even warn
    install("sk-metameta-blocked", source="raise ImportError('never imported')\n")
    monkeypatch.setenv(BLOCK_ENV_VAR, blocked)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        registry = _loaded_registry()
    assert registry.plugin_info["sk_metameta_blocked"].status == "blocked"


def test_blocking_one_of_two_duplicates_resolves_the_clash(install, monkeypatch):
    install("dist-keep", metric="contested", version="1.0")
    install("dist-drop", metric="contested", version="2.0")
    monkeypatch.setenv(BLOCK_ENV_VAR, "dist_drop")
    registry = _loaded_registry()
    assert registry.get("metric", "contested").provider == "dist-keep"


def test_two_distributions_with_one_entry_point_name_warn(install):
    install("dist-first", metric="first_metric", ep_name="same_plugin")
    install("dist-second", metric="second_metric", ep_name="same_plugin")
    with pytest.warns(PluginLoadWarning, match="same_plugin") as record:
        registry = _loaded_registry()
    message = " ".join(str(w.message) for w in record)
    assert "dist-first" in message and "dist-second" in message
    # the first one found is loaded, the other skipped
    found = {"first_metric", "second_metric"} & set(registry.names("metric"))
    assert len(found) == 1


# -- what a plugin cannot break ---------------------------------------------------
def _fit_default_and_named(metric="euclidean"):
    """A default fit and a task distance by name: what every user does."""
    from sk_metameta import TransferRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    tasks = np.repeat([0, 1, 2], 10)
    y = X @ [1.0, -1.0] + rng.normal(size=30)
    TransferRegressor().fit(X, y, tasks=tasks).predict(X, tasks=tasks)
    return task_distances(X, tasks=tasks, metric=metric).distances


def test_a_clash_leaves_builtins_and_other_components_working():
    with pytest.warns(PluginLoadWarning):
        registry = Registry.from_plugins(PluginA("twice"), PluginB("twice", "mine"))
    with use_registry(registry):
        assert _fit_default_and_named("mine").shape == (3, 3)
        # the ambiguous name, used by an estimator: the error names both providers
        with pytest.raises(PluginError, match=r"metric='twice': two plugins") as info:
            _fit_default_and_named("twice")
    assert "'PluginA'" in str(info.value) and "'PluginB'" in str(info.value)
    [problem] = registry.problems()
    assert (problem.problem, problem.kind, problem.name) == ("clash", "metric", "twice")
    assert problem.plugins == ("PluginA", "PluginB")
    statuses = {p.plugin: p.status for p in iter_plugin_info(registry)}
    assert statuses == {"builtin": "loaded", "PluginA": "partial", "PluginB": "partial"}
    assert "'twice'" in registry.plugin_info["PluginA"].detail


def test_three_plugins_with_one_name_are_all_named():
    class PluginC(_MetricPlugin):
        pass

    plugins = PluginA("thrice"), PluginB("thrice"), PluginC("thrice")
    with pytest.warns(PluginLoadWarning, match="3 plugins register"):
        registry = Registry.from_plugins(*plugins)
    with pytest.raises(PluginError) as info:
        registry.get("metric", "thrice")
    assert all(f"'{p}'" in str(info.value) for p in ("PluginA", "PluginB", "PluginC"))


class _Exits:
    """A plugin whose metrics hook ends the process; its other hook is fine."""

    @hookimpl
    def sk_metameta_register_metrics(self):
        sys.exit(3)

    @hookimpl
    def sk_metameta_register_task_features(self):
        return [TaskFeatureRecord("exit_moments", MomentFeatures)]


def test_a_hook_that_exits_is_skipped_and_the_host_goes_on():
    with pytest.warns(PluginLoadWarning, match=r"'_Exits'.*SystemExit\(3\)"):
        registry = Registry.from_plugins(_Exits())
    assert "exit_moments" in registry.names("task_features")
    with use_registry(registry):
        assert _fit_default_and_named().shape == (3, 3)
    assert [p.problem for p in registry.problems()] == ["hook failed"]


class _CustomBaseException(BaseException):
    pass


@pytest.mark.parametrize(
    "statement", ["import sys; sys.exit(3)", "raise SystemExit('bye')", "CUSTOM"]
)
def test_an_installed_plugin_that_exits_at_import_is_skipped(install, statement):
    if statement == "CUSTOM":
        statement = "raise BaseException('not an Exception')"
    install("sk-metameta-exits", source=statement + "\n", version="0.3")
    with pytest.warns(PluginLoadWarning) as record:
        registry = _loaded_registry()
    message = " ".join(str(w.message) for w in record)
    assert "'sk_metameta_exits'" in message and "sk-metameta-exits 0.3" in message
    assert registry.plugin_info["sk_metameta_exits"].status == "failed"
    [problem] = registry.problems()
    assert problem.problem == "failed" and problem.plugins == ("sk_metameta_exits",)
    assert "sk-metameta-exits 0.3" in problem.message
    with use_registry(registry):
        assert _fit_default_and_named().shape == (3, 3)


def test_a_keyboard_interrupt_in_a_plugin_is_not_swallowed():
    class Interrupted:
        @hookimpl
        def sk_metameta_register_metrics(self):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Registry.from_plugins(Interrupted())


def _not_a_component():
    """A factory that builds a dict."""
    return {"space": "features"}


def _needs_an_argument(p):
    """A factory that cannot be called with no argument."""
    return EuclideanMetric()


def _exits():
    """A factory that ends the process."""
    sys.exit(4)


def _euclidean_factory():
    """A valid factory that is not a class."""
    return EuclideanMetric()


class _Factories:
    @hookimpl
    def sk_metameta_register_metrics(self):
        return [
            MetricRecord("dict_metric", _not_a_component),
            MetricRecord("class_of_another_kind", MomentFeatures),
            MetricRecord("needs_argument", _needs_an_argument),
            MetricRecord("exiting_factory", _exits),
            MetricRecord("function_metric", _euclidean_factory),
        ]


def test_records_whose_factory_builds_no_component_are_skipped_at_load():
    with pytest.warns(PluginLoadWarning) as record:
        registry = Registry.from_plugins(_Factories())
    messages = [str(w.message) for w in record]
    assert len(messages) == 4
    for name, why in [
        ("dict_metric", "not a BaseTaskMetric"),
        ("class_of_another_kind", "not a subclass of BaseTaskMetric"),
        ("needs_argument", "factory() with no argument raised TypeError"),
        ("exiting_factory", "SystemExit(4)"),
    ]:
        [message] = [m for m in messages if f"'{name}'" in m]
        assert "'_Factories'" in message and "metric" in message and why in message
    assert registry.names("metric") == sorted(
        [c.name for c in BUILTIN_METRICS] + ["function_metric"]
    )
    function_metric = registry.get("metric", "function_metric")
    assert function_metric.component_class is EuclideanMetric
    problems = registry.problems()
    assert {p.problem for p in problems} == {"malformed record"}
    assert {p.name for p in problems} == {
        "dict_metric",
        "class_of_another_kind",
        "needs_argument",
        "exiting_factory",
    }


def test_a_factory_that_builds_something_else_with_parameters_is_an_error_at_use():
    def sometimes(p=1):
        return EuclideanMetric() if p == 1 else {"p": p}

    class Sometimes:
        @hookimpl
        def sk_metameta_register_metrics(self):
            return [MetricRecord("sometimes", sometimes)]

    registry = Registry.from_plugins(Sometimes())
    with pytest.raises(PluginError, match=r"metric 'sometimes' \(plugin 'Sometimes'"):
        registry.create("metric", "sometimes", p=2)


def test_use_registry_is_local_to_the_thread():
    import threading

    empty = Registry.from_plugins(builtins=False)
    entered, fitted = threading.Event(), threading.Event()
    seen = {}

    def in_a_block():
        with use_registry(empty):
            seen["inside"] = get_registry()
            entered.set()
            fitted.wait(timeout=60)

    def plain_fit():
        entered.wait(timeout=60)
        try:
            seen["distances"] = _fit_default_and_named()
            seen["other"] = get_registry()
        finally:
            fitted.set()

    threads = [threading.Thread(target=in_a_block), threading.Thread(target=plain_fit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert seen["inside"] is empty
    assert seen["other"] is not empty and seen["distances"].shape == (3, 3)
    assert get_registry() is not empty


def test_describe_component_names_the_plugin_and_provider(install):
    install("sk-metameta-described", metric="described_metric", version="1.2")
    registry = _loaded_registry()
    with use_registry(registry):
        metric = registry.create("metric", "described_metric")
        assert describe_component(metric) == (
            "metric 'described_metric' (plugin 'sk_metameta_described', provider "
            "sk-metameta-described 1.2)"
        )
        assert describe_component(EuclideanMetric()) == "metric 'euclidean' (built-in)"
        assert describe_component(MomentFeatures()) == (
            "task features 'moments' (built-in)"
        )

        class Unregistered(EuclideanMetric):
            name = "mine"

        assert describe_component(Unregistered()) == (
            f"metric 'mine' (class {__name__}.Unregistered, not registered)"
        )


def test_registry_problems_list_every_kind_of_problem(install):
    install("dist-one", metric="shared_name", version="1.0")
    install("dist-two", metric="shared_name", version="2.0")
    install("sk-metameta-broken", source="raise ImportError('missing dependency')\n")
    with pytest.warns(PluginLoadWarning):
        registry = _loaded_registry()
    problems = {p.problem: p for p in registry.problems()}
    assert set(problems) == {"failed", "clash"}
    assert "missing dependency" in problems["failed"].message
    assert "sk-metameta-broken 1.2.3" in problems["failed"].message
    clash = problems["clash"].message
    assert "dist-one 1.0" in clash and "dist-two 2.0" in clash
    statuses = {p.plugin: p.status for p in iter_plugin_info(registry)}
    assert statuses["dist_one"] == statuses["dist_two"] == "partial"
    assert statuses["sk_metameta_broken"] == "failed"


# -- names ------------------------------------------------------------------------
def test_unknown_names_list_the_available_ones():
    registry = get_registry()
    for kind in KINDS:
        with pytest.raises(ValueError, match=r"unknown .*'nope'; available: ") as info:
            registry.get(kind, "nope")
        for name in registry.names(kind):
            assert name in str(info.value)
    with pytest.raises(ValueError, match="euclidean"):
        resolve_metric("nope")
    with pytest.raises(ValueError, match="unknown component kind"):
        registry.get("metrics", "euclidean")
    with pytest.raises(ValueError, match="available"):
        registry.get("metric", None)


def test_names_are_looked_up_normalised():
    registry = get_registry()
    assert registry.get("metric", " EUCLIDEAN ").name == "euclidean"


# -- command line -----------------------------------------------------------------
def test_cli_plugins_lists_kind_name_provider_version(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:5] == ["kind", "name", "plugin", "provider", "summary"]
    registry = get_registry()
    for component in registry.components():
        line = next(
            row for row in out if row.split()[:2] == [component.kind, component.name]
        )
        assert component.plugin in line
        assert f"{component.provider} {component.version}".strip() in line
    euclidean = next(row for row in out if row.split()[:2] == ["metric", "euclidean"])
    assert f"sk-metameta {sk_metameta.__version__}" in euclidean


def test_cli_plugins_shows_installed_failed_and_blocked_plugins(
    install, monkeypatch, capsys
):
    install("sk-metameta-listed", metric="listed_metric", version="0.9")
    install("sk-metameta-blocked-cli", metric="never_listed")
    install("sk-metameta-failing-cli", source="raise ImportError('no module x')\n")
    monkeypatch.setenv(BLOCK_ENV_VAR, "sk-metameta-blocked-cli")
    reset_registry()
    with pytest.warns(PluginLoadWarning, match="sk_metameta_failing_cli"):
        assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    listed = next(line for line in out.splitlines() if "listed_metric" in line)
    assert listed.split()[:3] == ["metric", "listed_metric", "sk_metameta_listed"]
    assert "sk-metameta-listed 0.9" in listed
    assert "never_listed" not in out
    assert (
        "plugin 'sk_metameta_blocked_cli' (sk-metameta-blocked-cli 1.2.3) blocked"
        in (out)
    )
    assert "plugin 'sk_metameta_failing_cli'" in out and "failed" in out
    statuses = {p.plugin: p.status for p in iter_plugin_info(get_registry())}
    assert statuses["sk_metameta_listed"] == "loaded"


def test_cli_plugins_exits_0_and_lists_clashes_and_refused_records(
    install, monkeypatch, capsys
):
    install("dist-one", metric="shared_name", version="1.0")
    install("dist-two", metric="shared_name", version="2.0")
    install("sk-metameta-exits-cli", source="import sys; sys.exit(3)\n", version="0.3")
    reset_registry()
    with pytest.warns(PluginLoadWarning):
        assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    # the built-ins are listed as usual
    assert any(line.split()[:2] == ["metric", "euclidean"] for line in out.splitlines())
    assert "shared_name" not in [line.split()[1] for line in out.splitlines()[1:]]
    for plugin, version in [("dist_one", "dist-one 1.0"), ("dist_two", "dist-two 2.0")]:
        line = next(x for x in out.splitlines() if x.startswith(f"plugin {plugin!r}"))
        expected = f"({version}) partial: two plugins register the metric"
        assert f"{expected} 'shared_name'" in line
        assert "dist-one 1.0" in line and "dist-two 2.0" in line
    line = next(x for x in out.splitlines() if "'sk_metameta_exits_cli'" in x)
    assert "(sk-metameta-exits-cli 0.3) failed" in line and "SystemExit(3)" in line
