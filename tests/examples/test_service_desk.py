"""The example host (examples/service_desk) works over HTTP, on the public API only."""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

flask = pytest.importorskip("flask", reason="the example host needs the 'examples' extra")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "service_desk"
sys.path.insert(0, str(ROOT / "examples"))

from service_desk import create_app  # noqa: E402

AGENT = {"X-Actor": "dora", "X-Roles": "agent"}
OWNER = {"X-Actor": "olga", "X-Roles": "resource_owner"}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


class FakeClock:
    """The desk's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> Iterator[flask.Flask]:
    app = create_app(tmp_path / "desk.db", clock=clock)
    yield app
    app.extensions["desk_worker"].stop()
    app.extensions["itsmcore"].close()


@pytest.fixture
def client(app: flask.Flask) -> Any:
    return app.test_client()


def _open_incident(client: Any, **fields: Any) -> dict[str, Any]:
    body = {"fields": {"title": "Mail down", "caller": "carol", "impact": 2, "urgency": 2,
                       **fields}}  # fmt: skip
    response = client.post("/records/incident", json=body, headers=AGENT)
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()
    return data


def test_an_incident_opened_over_http_is_stored_with_its_derived_priority(client: Any) -> None:
    data = _open_incident(client)
    assert data["id"] == "INC-000001"
    assert data["state"] == "new"
    assert data["fields"]["priority"] == 3
    again = client.get(f"/records/{data['id']}")
    assert again.status_code == 200
    assert again.headers["ETag"] == '"1"'
    assert again.get_json()["opened_by"] == "dora"


def test_events_move_the_incident_and_the_history_holds_them(client: Any, clock: FakeClock) -> None:
    inc = _open_incident(client)
    clock.now += timedelta(minutes=5)
    moved = client.post(f"/records/{inc['id']}/events/assign", headers=AGENT,
                        json={"fields": {"assignee": "bob"}, "expected_version": 1})  # fmt: skip
    assert moved.status_code == 200
    assert moved.get_json()["state"] == "assigned"
    started = client.post(
        f"/records/{inc['id']}/events/start", headers={**AGENT, "If-Match": '"2"'}
    )
    assert started.status_code == 200
    assert started.get_json()["version"] == 3
    events = client.get(f"/records/{inc['id']}/history").get_json()
    assert [e["name"] for e in events] == ["open", "assign", "start"]
    assert events[1]["at"] == (T0 + timedelta(minutes=5)).isoformat()


def test_a_stale_version_gets_409_and_changes_nothing(client: Any) -> None:
    inc = _open_incident(client)
    client.post(f"/records/{inc['id']}/events/assign", headers=AGENT,
                json={"fields": {"assignee": "bob"}, "expected_version": 1})  # fmt: skip
    stale = client.post(f"/records/{inc['id']}/events/start", headers=AGENT,
                        json={"expected_version": 1})  # fmt: skip
    assert stale.status_code == 409
    assert stale.get_json()["error"] == "conflict"
    assert (stale.get_json()["expected"], stale.get_json()["actual"]) == (1, 2)
    assert client.get(f"/records/{inc['id']}").get_json()["version"] == 2


def test_bad_input_gets_422_with_the_error_paths(client: Any) -> None:
    bad = client.post("/records/incident", headers=AGENT,
                      json={"fields": {"title": "x", "impact": 7, "urgency": "high"}})  # fmt: skip
    assert bad.status_code == 422
    paths = {e["path"] for e in bad.get_json()["errors"]}
    assert paths == {"$.fields.impact", "$.fields.urgency"}
    assert client.get("/records?process=incident").get_json() == []


def test_a_datetime_without_offset_is_refused_with_its_path(client: Any) -> None:
    bad = client.post("/records/access_request", headers=AGENT, json={"fields": {
        "title": "CRM", "system": "crm", "access_level": "read",
        "granted_until": "2026-12-01T00:00:00"}})  # fmt: skip
    assert bad.status_code == 422
    assert [e["path"] for e in bad.get_json()["errors"]] == ["$.fields.granted_until"]


def test_a_transition_not_allowed_now_gets_409_naming_the_allowed_events(client: Any) -> None:
    inc = _open_incident(client)
    wrong = client.post(f"/records/{inc['id']}/events/resolve", headers=AGENT, json={})
    assert wrong.status_code == 409
    assert "assign" in wrong.get_json()["allowed"]


def test_unknown_records_get_404_and_anonymous_callers_401(client: Any) -> None:
    assert client.get("/records/INC-999999").status_code == 404
    assert client.post("/records/incident", json={"fields": {}}).status_code == 401


def test_the_toml_workflow_runs_with_its_guards_and_roles(client: Any) -> None:
    opened = client.post("/records/access_request", headers=AGENT, json={"fields": {
        "title": "CRM read access", "system": "crm", "access_level": "read"}})  # fmt: skip
    assert opened.status_code == 201
    assert opened.get_json()["id"].startswith("ACC-")
    rid = opened.get_json()["id"]
    client.post(f"/records/{rid}/events/submit", headers=AGENT, json={})
    refused = client.post(f"/records/{rid}/events/approve", headers=AGENT, json={})
    assert refused.status_code == 403  # only a resource owner approves
    approved = client.post(f"/records/{rid}/events/approve", headers=OWNER, json={})
    assert approved.status_code == 200
    assert approved.get_json()["state"] == "provisioning"
    until = {"granted_until": "2027-01-31T00:00:00+00:00"}
    granted = client.post(f"/records/{rid}/events/grant", headers=AGENT, json={"fields": until})
    assert granted.status_code == 200
    assert granted.get_json()["state"] == "granted"


def test_the_notification_plugin_receives_every_event(client: Any) -> None:
    inc = _open_incident(client)
    client.post(f"/records/{inc['id']}/events/assign", headers=AGENT,
                json={"fields": {"assignee": "bob"}})  # fmt: skip
    received = client.get("/notifications?kind=event").get_json()
    assert [m["id"] for m in received] == [f"event:{inc['id']}:1", f"event:{inc['id']}:2"]
    assert received[1]["payload"]["event"] == "assign"
    assert received[1]["payload"]["target"] == "assigned"


def test_flask_tick_emits_the_breach_once_and_notifies_it(
    app: flask.Flask, client: Any, clock: FakeClock
) -> None:
    inc = _open_incident(client, impact=1, urgency=1)  # priority 1: respond within 20 min
    clock.now = T0 + timedelta(minutes=30)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert f"{inc['id']}: response breach 100%" in result.output
    again = app.test_cli_runner().invoke(args=["tick"])
    assert "breach" not in again.output  # exactly once
    breaches = [m for m in client.get("/notifications?kind=sla").get_json()
                if m["id"].endswith(":breach:100")]  # fmt: skip
    assert [m["record_id"] for m in breaches] == [inc["id"]]
    sla = client.get(f"/records/{inc['id']}/sla").get_json()
    assert sla[0]["clock"] == "response"
    assert sla[0]["breached"] is True


def test_the_background_thread_ticks_on_its_own(tmp_path: Path, clock: FakeClock) -> None:
    app = create_app(tmp_path / "bg.db", clock=clock, tick_interval=0.05)
    try:
        _open_incident(app.test_client(), impact=1, urgency=1)
        clock.now = T0 + timedelta(hours=5)
        notifier = app.extensions["desk_notifier"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not notifier.messages("sla"):
            time.sleep(0.05)
        kinds = {m["id"].rsplit(":", 2)[-2] for m in notifier.messages("sla")}
        assert "breach" in kinds
    finally:
        app.extensions["desk_worker"].stop()
        app.extensions["itsmcore"].close()


def test_the_example_imports_only_public_itsmcore_modules() -> None:
    for path in EXAMPLE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("itsmcore"):
                    assert not any(p.startswith("_") for p in name.split(".")), (path, name)
