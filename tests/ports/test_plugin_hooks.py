"""Plugins: registration, validation, processes with their own guards, authorization."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.ports import PluginError, PluginHost, hookimpl
from itsmcore.registry import Context

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
BOB = ic.Actor("bob", roles=frozenset({"agent"}))
INCIDENT = {"title": "Mail down", "caller": "carol", "impact": 2, "urgency": 2}

ACCESS_REQUEST = {
    "name": "access_request",
    "version": 1,
    "id_prefix": "ACC",
    "states": [
        {"name": "requested", "initial": True},
        {"name": "granted", "category": "closed", "terminal": True},
    ],
    "fields": [{"name": "system", "type": "str", "required": True}],
    "transitions": [
        {"event": "open", "sources": [], "target": "requested"},
        {
            "event": "grant",
            "sources": ["requested"],
            "target": "granted",
            "guards": ["acme.not_production"],
        },
    ],
}


def _not_production(ctx: Context) -> str | None:
    return "production access needs a change" if ctx.value("system") == "prod" else None


class AccessPlugin:
    """A plugin shipping a workflow (as data) that names its own guard."""

    @hookimpl
    def itsmcore_guards(self) -> Mapping[str, Any]:
        return {"acme.not_production": _not_production}

    @hookimpl
    def itsmcore_processes(self) -> list[Mapping[str, Any]]:
        return [ACCESS_REQUEST]


def test_a_plugin_workflow_given_as_data_uses_the_plugins_own_guards() -> None:
    engine = ic.Engine.in_memory(plugins=[AccessPlugin()])
    rec = engine.open("access_request", at=T0, actor=ALICE, fields={"system": "prod"})
    with pytest.raises(ic.GuardFailed, match="needs a change") as err:
        engine.fire(rec.id, "grant", at=T0, actor=ALICE)
    assert err.value.guard == "acme.not_production"


def test_each_engine_has_its_own_plugins() -> None:
    with_plugin = ic.Engine.in_memory(plugins=[AccessPlugin()])
    without = ic.Engine.in_memory()
    assert "access_request" in with_plugin.catalog
    assert "access_request" not in without.catalog
    assert "acme.not_production" not in without.registry.guards
    assert with_plugin.plugins.manager is not without.plugins.manager


def test_builtin_behaviour_is_registered_as_plugins() -> None:
    assert ic.Engine.in_memory().plugins.names() == ["itsmcore.storage", "itsmcore.log"]


def test_a_plugin_spec_object_built_with_its_registry_is_registered() -> None:
    registry = ic.BUILTINS.extended({"acme.not_production": _not_production})
    spec = ic.spec_from_dict(ACCESS_REQUEST, registry=registry)

    class SpecPlugin:
        @hookimpl
        def itsmcore_processes(self) -> list[ic.ProcessSpec]:
            return [spec]

    assert ic.Engine.in_memory(plugins=[SpecPlugin()]).catalog.get("access_request") == spec


def test_a_plugin_spec_clashing_with_a_builtin_names_the_plugin() -> None:
    clash = {**ACCESS_REQUEST, "name": "incident"}

    class Clash:
        @hookimpl
        def itsmcore_guards(self) -> Mapping[str, Any]:
            return {"acme.not_production": _not_production}

        @hookimpl
        def itsmcore_processes(self) -> list[Mapping[str, Any]]:
            return [clash]

    with pytest.raises(PluginError, match="higher version") as err:
        ic.Engine.in_memory(plugins=[Clash()])
    assert (err.value.plugin, err.value.hook) == ("Clash", "itsmcore_processes")


def test_two_plugins_giving_one_guard_name_different_functions_conflict() -> None:
    class Other:
        @hookimpl
        def itsmcore_guards(self) -> Mapping[str, Any]:
            return {"acme.not_production": lambda ctx: None}

    with pytest.raises(PluginError, match="already registered"):
        ic.Engine.in_memory(plugins=[AccessPlugin(), Other()])


def test_a_misspelt_hook_is_refused_with_a_suggestion() -> None:
    class Typo:
        @hookimpl
        def itsmcore_notfy(self, notification: ic.Notification) -> None: ...

    with pytest.raises(PluginError, match="did you mean 'itsmcore_notify'") as err:
        PluginHost([Typo()])
    assert err.value.plugin == "Typo"


def test_an_argument_the_spec_lacks_is_refused_at_registration() -> None:
    class Extra:
        @hookimpl
        def itsmcore_notify(self, notification: ic.Notification, channel: str) -> None: ...

    with pytest.raises(PluginError, match="channel"):
        PluginHost([Extra()])


def test_a_plugin_with_no_hooks_is_refused() -> None:
    class Empty:
        def itsmcore_notify(self, notification: ic.Notification) -> None: ...

    with pytest.raises(PluginError, match="hookimpl"):
        PluginHost([Empty()])


def test_hook_wrappers_are_refused() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def itsmcore_notify(self, notification: ic.Notification) -> Any:
            return (yield)

    with pytest.raises(PluginError, match="wrappers are not supported"):
        PluginHost([Wrapper()])


class Deny:
    def __init__(self, who: str) -> None:
        self.who = who

    @hookimpl
    def itsmcore_authorize(self, actor: ic.Actor) -> str | None:  # fewer args: allowed
        return f"{self.who} is suspended" if actor.id == self.who else None


class AllowAll:
    @hookimpl
    def itsmcore_authorize(self) -> bool:
        return True


def test_any_deny_wins_names_the_plugin_and_saves_nothing() -> None:
    engine = ic.Engine.in_memory(plugins=[Deny("bob"), AllowAll()])
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    with pytest.raises(ic.Forbidden, match="bob is suspended") as err:
        engine.fire(rec.id, "assign", at=T0, actor=BOB, fields={"assignee": "bob"})
    assert (err.value.by, err.value.actor, err.value.event) == ("Deny", "bob", "assign")
    assert engine.get(rec.id) == rec
    assert [n.id for n in engine.storage.pending()] == [f"event:{rec.id}:1"]


def test_authorize_sees_the_record_after_the_event_and_the_event() -> None:
    seen: list[tuple[str, str, str | None, str]] = []

    class Spy:
        @hookimpl
        def itsmcore_authorize(self, actor: ic.Actor, record: ic.Record, event: ic.Event) -> None:
            seen.append((actor.id, record.state, event.source, event.name))

    engine = ic.Engine.in_memory(plugins=[Spy()])
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    assert seen == [("alice", "new", None, "open"), ("alice", "assigned", "new", "assign")]


def test_an_authorize_answer_of_the_wrong_type_is_a_plugin_error() -> None:
    class Sloppy:
        @hookimpl
        def itsmcore_authorize(self) -> str:
            return ""

    engine = ic.Engine.in_memory(plugins=[Sloppy()])
    with pytest.raises(PluginError, match="non-empty reason"):
        engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    assert engine.storage.record_ids() == []


def test_a_plugin_raising_in_a_hook_is_a_plugin_error_and_nothing_is_written() -> None:
    class Crashing:
        @hookimpl
        def itsmcore_authorize(self) -> None:
            raise RuntimeError("directory unreachable")

    engine = ic.Engine.in_memory(plugins=[Crashing()])
    with pytest.raises(PluginError, match="directory unreachable") as err:
        engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    assert (err.value.plugin, err.value.hook) == ("Crashing", "itsmcore_authorize")
    assert isinstance(err.value.__cause__, RuntimeError)
    assert engine.storage.record_ids() == []


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    acme = metadata.EntryPoint(name="acme", value="ports_entry_plugin", group="itsmcore")

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return [acme] if group == "itsmcore" else []

    monkeypatch.setattr("itsmcore.ports.plugins.metadata.entry_points", entry_points)


def test_entry_points_load_only_when_allow_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch)
    assert "acme.always" not in ic.Engine.in_memory().registry.guards
    engine = ic.Engine.in_memory(entry_points=["acme"])
    assert "acme.always" in engine.registry.guards
    assert "acme" in engine.plugins.names()


def test_an_unknown_entry_point_lists_the_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch)
    with pytest.raises(PluginError, match=r"did you mean 'acme'.*installed: acme"):
        ic.Engine.in_memory(entry_points=["acm"])
