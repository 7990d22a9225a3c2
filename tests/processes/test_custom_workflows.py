"""Custom workflows as data: safe loading, the same checks as built-ins, versions in flight."""

from __future__ import annotations

import builtins
import importlib
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from processes_b_support import T0

import itsmcore as ic
from itsmcore.loading import MAX_SPEC_BYTES

ROOT = Path(__file__).resolve().parents[2]
V1_FILE = ROOT / "examples" / "workflows" / "access_request.toml"
V2_FILE = ROOT / "examples" / "workflows" / "access_request_v2.toml"
DOCS = ROOT / "docs" / "custom-workflows.md"
RITA = ic.Actor("rita")
OWEN = ic.Actor("owen", roles=frozenset({"resource_owner"}))
ASK = {"title": "Finance share", "system": "fs-finance", "access_level": "read"}


def _minimal(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "vendor_ticket",
        "version": 1,
        "states": [
            {"name": "open", "category": "open", "initial": True},
            {"name": "waiting", "category": "paused"},
            {"name": "done", "category": "closed", "terminal": True},
        ],
        "transitions": [
            {"event": "wait", "sources": ["open"], "target": "waiting"},
            {"event": "answer", "sources": ["waiting"], "target": "open"},
            {"event": "finish", "sources": ["open"], "target": "done"},
        ],
        "fields": [{"name": "title", "type": "str", "required": True}],
    }
    doc.update(changes)
    return doc


def _problems(doc: dict[str, Any]) -> str:
    with pytest.raises(ic.SpecError) as err:
        ic.load_spec(doc)
    return "\n".join(err.value.problems)


# -- loading is safe ----------------------------------------------------------------------


@pytest.fixture
def no_code_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail on eval/exec/compile and on importing any module not loaded yet; record the
    names asked for."""
    asked: list[str] = []
    real_import = builtins.__import__

    def guarded_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name not in sys.modules:
            asked.append(name)
            raise AssertionError(f"loading a spec imported {name!r}")
        return real_import(name, *args, **kwargs)

    def refuse(what: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"loading a spec called {what}")

        return call

    monkeypatch.setattr(builtins, "__import__", guarded_import)
    monkeypatch.setattr(importlib, "import_module", refuse("importlib.import_module"))
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse(name))
    return asked


@pytest.mark.parametrize(
    "name", ["os.system", "subprocess.run", "antigravity.fly", "__import__('os')"]
)
def test_a_guard_name_is_looked_up_never_imported_or_evaluated(
    no_code_runs: list[str], name: str
) -> None:
    doc = _minimal()
    doc["transitions"][2]["guards"] = [name]
    with pytest.raises(ic.SpecError) as err:
        ic.load_spec(doc)
    assert "not in the registry" in str(err.value)
    assert no_code_runs == []
    assert "antigravity" not in sys.modules


def test_a_dotted_path_is_refused_before_any_lookup() -> None:
    doc = _minimal()
    doc["transitions"][0]["effects"] = ["os.path.join"]
    assert "is not a registered name (no paths)" in _problems(doc)


def test_loading_the_example_files_imports_and_evaluates_nothing(
    no_code_runs: list[str],
) -> None:
    for path in (V1_FILE, V2_FILE):
        assert ic.load_spec(path).name == "access_request"
    assert no_code_runs == []


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"# padding\n" * (MAX_SPEC_BYTES // 10 + 1))
    with pytest.raises(ic.SpecError) as err:
        ic.load_spec(path)
    assert f"the limit is {MAX_SPEC_BYTES}" in str(err.value)


def test_a_file_that_is_not_toml_or_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    with pytest.raises(ic.SpecError) as err:
        ic.load_spec(path)
    assert ".toml or .json" in str(err.value)


def test_broken_toml_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x\n', encoding="utf-8")
    with pytest.raises(ic.SpecError) as err:
        ic.load_spec(path)
    assert "cannot parse" in str(err.value)


def test_a_host_guard_is_passed_in_by_name(no_code_runs: list[str]) -> None:
    def has_vendor_case(ctx: ic.Context) -> str | None:
        return None if ctx.value("title", "").startswith("Case") else "name the vendor case"

    doc = _minimal()
    doc["transitions"][2]["guards"] = ["acme.has_vendor_case"]
    spec = ic.load_spec(doc, guards={"acme.has_vendor_case": has_vendor_case})
    rec = spec.open(record_id="V-1", at=T0, actor=RITA, fields={"title": "Printer"}).record
    with pytest.raises(ic.GuardFailed) as err:
        spec.fire(rec, "finish", at=T0, actor=RITA)
    assert err.value.guard == "acme.has_vendor_case"
    assert no_code_runs == []


# -- the same static checks as built-in specs ---------------------------------------------


def test_every_spec_states_its_version() -> None:
    doc = _minimal()
    del doc["version"]
    assert "$.version: expected a positive integer" in _problems(doc)
    assert "$.version" in _problems(_minimal(version="2"))


def test_a_non_terminal_dead_end_is_refused() -> None:
    doc = _minimal()
    doc["transitions"] = doc["transitions"][:1] + doc["transitions"][2:]  # no way out of wait
    problems = _problems(doc)
    assert "non-terminal dead ends (no way out): waiting" in problems
    assert "no terminal state reachable from: waiting" in problems


def test_unreachable_states_and_unknown_targets_are_refused() -> None:
    doc = _minimal()
    doc["states"].append({"name": "limbo", "category": "open"})
    doc["transitions"].append({"event": "leave", "sources": ["limbo"], "target": "nowhere"})
    problems = _problems(doc)
    assert "unreachable states: limbo" in problems
    assert "unknown target state 'nowhere'" in problems


def test_unknown_keys_are_refused() -> None:
    assert "$.script: unknown key" in _problems(_minimal(script="rm -rf /"))


def test_unknown_state_categories_are_refused() -> None:
    doc = _minimal()
    doc["states"][1]["category"] = "sleeping"
    assert "unknown category 'sleeping'" in _problems(doc)


def test_requires_must_name_declared_fields() -> None:
    doc = _minimal()
    doc["transitions"][2]["requires"] = ["resolution"]
    assert "requires unknown field 'resolution'" in _problems(doc)


# -- the example files --------------------------------------------------------------------


def _walk(engine: ic.Engine, rid: str, *steps: tuple[str, ic.Actor, dict[str, Any]]) -> ic.Record:
    rec = engine.get(rid)
    for event, actor, fields in steps:
        rec = engine.fire(rid, event, at=rec.updated_at, actor=actor, fields=fields)
    return rec


GRANT = (
    ("submit", RITA, {}),
    ("approve", OWEN, {}),
    ("grant", OWEN, {"granted_until": T0 + timedelta(days=90)}),
)


def test_the_example_workflow_runs_with_built_in_guards() -> None:
    engine = ic.Engine.in_memory(processes=[ic.load_spec(V1_FILE)])
    rec = engine.open("access_request", at=T0, actor=OWEN, fields=ASK)
    assert rec.id.startswith("ACC-")
    engine.fire(rec.id, "submit", at=T0, actor=OWEN)
    with pytest.raises(ic.GuardFailed):  # the owner cannot approve their own request
        engine.fire(rec.id, "approve", at=T0, actor=OWEN)
    other = engine.open("access_request", at=T0, actor=RITA, fields=ASK)
    assert _walk(engine, other.id, *GRANT).state == "granted"


def test_the_docs_show_the_example_file_verbatim() -> None:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"^```toml\n(.*?)^```", text, re.S | re.M)
    assert V1_FILE.read_text(encoding="utf-8") in blocks


def test_a_loaded_spec_round_trips_through_plain_data() -> None:
    for path in (V1_FILE, V2_FILE):
        spec = ic.load_spec(path)
        assert ic.spec_from_dict(ic.spec_to_dict(spec)) == spec


@pytest.mark.parametrize(
    "name", ["service_request", "configuration_item", "knowledge_article", "security_incident"]
)
def test_built_in_part_b_specs_round_trip_through_plain_data(name: str) -> None:
    spec = ic.catalog.get(name)
    assert ic.spec_from_dict(ic.spec_to_dict(spec)) == spec


# -- versions: records in flight keep their rules -----------------------------------------


def test_in_flight_records_finish_under_the_version_they_were_opened_with() -> None:
    v1, v2 = ic.load_spec(V1_FILE), ic.load_spec(V2_FILE)
    first = ic.Engine.in_memory(processes=[v1])
    old = first.open("access_request", at=T0, actor=RITA, fields=ASK)
    assert old.spec_version == 1
    # The host deploys version 2 and restarts, keeping version 1 for records in flight.
    engine = ic.Engine(first.storage, processes=[v1, v2])
    with pytest.raises(ic.ValidationError) as err:  # v2 requires a justification
        engine.open("access_request", at=T0, actor=RITA, fields=ASK)
    assert {p for p, _ in err.value.errors} == {"$.fields.justification"}
    new = engine.open(
        "access_request", at=T0, actor=RITA, fields={**ASK, "justification": "Month-end close"}
    )
    assert new.spec_version == 2
    old_rec = _walk(engine, old.id, *GRANT)
    new_rec = _walk(engine, new.id, *GRANT)
    assert (old_rec.spec_version, new_rec.spec_version) == (1, 2)
    with pytest.raises(ic.InvalidTransition):  # v1 has no recertification
        engine.fire(old.id, "recertify", at=T0, actor=OWEN, fields={})
    later = T0 + timedelta(days=180)
    rec = engine.fire(new.id, "recertify", at=T0, actor=OWEN, fields={"granted_until": later})
    assert rec.get("granted_until") == later
    assert ic.replay(engine.spec_of(old_rec), engine.history(old.id)) == engine.get(old.id)


def test_a_running_engine_takes_a_new_version_with_register() -> None:
    v1, v2 = ic.load_spec(V1_FILE), ic.load_spec(V2_FILE)
    engine = ic.Engine.in_memory(processes=[v1])
    old = engine.open("access_request", at=T0, actor=RITA, fields=ASK)
    engine.register(v2)
    new = engine.open("access_request", at=T0, actor=RITA, fields={**ASK, "justification": "j"})
    assert (engine.get(old.id).spec_version, new.spec_version) == (1, 2)
    assert engine.catalog.versions("access_request") == (1, 2)
    assert engine.fire(old.id, "submit", at=T0, actor=RITA).spec_version == 1


def test_an_engine_missing_the_old_version_names_what_it_knows() -> None:
    v1, v2 = ic.load_spec(V1_FILE), ic.load_spec(V2_FILE)
    first = ic.Engine.in_memory(processes=[v1])
    old = first.open("access_request", at=T0, actor=RITA, fields=ASK)
    engine = ic.Engine(first.storage, processes=[v2])
    with pytest.raises(ic.NotFound) as err:
        engine.fire(old.id, "submit", at=T0, actor=RITA)
    assert "no version 1" in str(err.value)
    assert engine.get(old.id) == old


def test_a_version_cannot_be_registered_twice_with_different_rules() -> None:
    v1 = ic.load_spec(V1_FILE)
    engine = ic.Engine.in_memory(processes=[v1])
    changed = ic.load_spec({**ic.spec_to_dict(v1), "title": "Access request (edited)"})
    with pytest.raises(ic.SpecError) as err:
        engine.register(changed)
    assert "higher version" in str(err.value)


def test_register_refuses_a_version_the_sla_rules_cannot_work_with() -> None:
    v1, v2 = ic.load_spec(V1_FILE), ic.load_spec(V2_FILE)
    data = ic.spec_to_dict(v2)
    data["timers"] = [{**t, "calendar": "mars-office"} for t in data["timers"]]
    engine = ic.Engine.in_memory(processes=[v1])
    with pytest.raises(ic.SpecError, match="unknown calendar 'mars-office'"):
        engine.register(ic.load_spec(data))
    assert engine.catalog.versions("access_request") == (1,)


def test_the_pure_layer_refuses_a_record_of_another_version() -> None:
    v1, v2 = ic.load_spec(V1_FILE), ic.load_spec(V2_FILE)
    rec = v1.open(record_id="ACC-1", at=T0, actor=RITA, fields=ASK).record
    with pytest.raises(ic.ValidationError) as err:
        v2.fire(rec, "submit", at=T0, actor=RITA)
    assert "version=" in str(err.value)


def test_a_given_spec_replaces_the_built_in_of_the_same_version() -> None:
    spec = ic.catalog.get("knowledge_article").with_options(review_interval="P30D")
    engine = ic.Engine.in_memory(processes=[spec])
    assert engine.catalog.get("knowledge_article").options["review_interval"] == "P30D"
    with pytest.raises(ic.SpecError):
        ic.Engine.in_memory(processes=[spec, spec.with_options(review_interval="P60D")])
