"""A small service-desk web API embedding itsmcore: the proof that the ports are enough.

It uses only itsmcore's public API:

- one :class:`itsmcore.Engine` on the embedded SQLite store, built once per app;
- a notification plugin (:class:`~service_desk.notify.DeskNotifier`, hook
  ``itsmcore_notify``), fed from the transactional outbox by ``engine.deliver()``;
- a custom workflow loaded from TOML (``examples/workflows/access_request.toml``);
- a background ``tick``: a thread (:class:`~service_desk.worker.TickWorker`, started when
  ``tick_interval`` is given) or the command ``flask --app service_desk tick`` from cron.

HTTP mapping of itsmcore's errors (one JSON body shape, ``{"error": ..., ...}``):
``ValidationError`` and ``GuardFailed`` → 422 (with the error paths or the guard),
``InvalidTransition`` and ``ConcurrencyError`` → 409, ``Forbidden`` → 403, ``NotFound``
→ 404, ``StorageBusy`` → 503. The caller's identity comes from the ``X-Actor`` and
``X-Roles`` headers: a stand-in for the host's real authentication.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, current_app, jsonify, request

import itsmcore as ic
from service_desk.json_fields import fields_from_json
from service_desk.notify import DeskNotifier
from service_desk.worker import TickWorker

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(
    database: str | Path | None = None,
    *,
    clock: Clock = _system_clock,
    tick_interval: float | None = None,
) -> Flask:
    """The desk over the SQLite file ``database`` (default: ``$SERVICE_DESK_DB`` or
    ``service-desk.db``). ``clock`` tells the time (tests pass a fake one);
    ``tick_interval`` (seconds) starts a background tick thread."""
    app = Flask(__name__)
    database = database or os.environ.get("SERVICE_DESK_DB", "service-desk.db")
    notifier = DeskNotifier()
    access_request = ic.load_spec(WORKFLOWS / "access_request.toml")
    engine = ic.Engine.sqlite(database, processes=[access_request], plugins=[notifier])
    app.extensions["itsmcore"] = engine
    app.extensions["desk_notifier"] = notifier
    app.extensions["desk_clock"] = clock
    worker = TickWorker(engine, clock, interval=tick_interval or 60.0)
    app.extensions["desk_worker"] = worker
    if tick_interval is not None:
        worker.start()
    _routes(app)
    _errors(app)

    @app.cli.command("tick")
    def tick_command() -> None:
        """Emit what came due (SLA warnings and breaches, timers) and deliver the outbox."""
        for line in worker.run_once():
            click.echo(line)

    return app


def _engine() -> ic.Engine:
    engine: ic.Engine = current_app.extensions["itsmcore"]
    return engine


def _now() -> datetime:
    clock: Clock = current_app.extensions["desk_clock"]
    return clock()


def _actor() -> ic.Actor:
    name = request.headers.get("X-Actor", "").strip()
    if not name:
        raise PermissionError("send the caller's id in the X-Actor header")
    roles = frozenset(r.strip() for r in request.headers.get("X-Roles", "").split(",") if r.strip())
    return ic.Actor(name, roles=roles)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ic.ValidationError.single("$", "the body must be a JSON object")
    return data


def _expected_version(body: dict[str, Any]) -> int | None:
    """``expected_version`` from the body, or the ``If-Match`` header (the ETag)."""
    value = body.get("expected_version")
    if value is None and request.headers.get("If-Match"):
        value = request.headers["If-Match"].strip('"W/ ')
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ic.ValidationError.single("$.expected_version", "must be a whole number") from None


def _record(record: ic.Record, status: int = 200) -> Response:
    response = jsonify(ic.dump(record))
    response.status_code = status
    response.headers["ETag"] = f'"{record.version}"'
    response.headers["Location"] = f"/records/{record.id}"
    return response


def _routes(app: Flask) -> None:
    @app.post("/records/<process>")
    def open_record(process: str) -> Response:
        engine = _engine()
        body = _body()
        spec = engine.catalog.get(process)
        fields = fields_from_json(spec, body.get("fields"))
        record = engine.open(process, at=_now(), actor=_actor(), fields=fields)
        engine.deliver()
        return _record(record, 201)

    @app.get("/records/<record_id>")
    def get_record(record_id: str) -> Response:
        return _record(_engine().get(record_id))

    @app.post("/records/<record_id>/events/<event>")
    def fire_event(record_id: str, event: str) -> Response:
        engine = _engine()
        body = _body()
        spec = engine.spec_of(engine.get(record_id))
        record = engine.fire(
            record_id,
            event,
            at=_now(),
            actor=_actor(),
            fields=fields_from_json(spec, body.get("fields")),
            expected_version=_expected_version(body),
        )
        engine.deliver()
        return _record(record)

    @app.get("/records/<record_id>/history")
    def history(record_id: str) -> Response:
        return jsonify([ic.dump(event) for event in _engine().history(record_id)])

    @app.get("/records/<record_id>/sla")
    def sla(record_id: str) -> Response:
        clocks = _engine().sla(record_id, _now())
        return jsonify(
            [
                {
                    "policy": c.policy,
                    "clock": c.clock,
                    "target_seconds": c.target.total_seconds(),
                    "elapsed_seconds": c.elapsed.total_seconds(),
                    "due": c.due.isoformat() if c.due else None,
                    "breached": c.breached,
                    "paused": c.paused,
                    "stopped": c.stopped,
                }
                for c in clocks
            ]
        )

    @app.get("/records")
    def find() -> Response:
        process = request.args.get("process")
        state = request.args.get("state")
        records = _engine().find(process=process, state=state, limit=200)
        return jsonify([ic.dump(r) for r in records])

    @app.get("/notifications")
    def notifications() -> Response:
        notifier: DeskNotifier = current_app.extensions["desk_notifier"]
        return jsonify(notifier.messages(request.args.get("kind")))


def _error(status: int, error: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": error, "message": message, **extra}), status


def _errors(app: Flask) -> None:
    @app.errorhandler(ic.ValidationError)
    def validation(exc: ic.ValidationError) -> tuple[Response, int]:
        errors = [{"path": path, "message": message} for path, message in exc.errors]
        return _error(422, "validation", str(exc), errors=errors)

    @app.errorhandler(ic.GuardFailed)
    def guard(exc: ic.GuardFailed) -> tuple[Response, int]:
        return _error(422, "guard_failed", str(exc), guard=exc.guard, reason=exc.reason)

    @app.errorhandler(ic.InvalidTransition)
    def transition(exc: ic.InvalidTransition) -> tuple[Response, int]:
        return _error(409, "invalid_transition", str(exc), state=exc.state, allowed=exc.allowed)

    @app.errorhandler(ic.ConcurrencyError)
    def conflict(exc: ic.ConcurrencyError) -> tuple[Response, int]:
        return _error(409, "conflict", str(exc), expected=exc.expected, actual=exc.actual)

    @app.errorhandler(ic.Forbidden)
    def forbidden(exc: ic.Forbidden) -> tuple[Response, int]:
        return _error(403, "forbidden", str(exc), by=exc.by)

    @app.errorhandler(PermissionError)
    def unauthenticated(exc: PermissionError) -> tuple[Response, int]:
        return _error(401, "unauthenticated", str(exc))

    @app.errorhandler(ic.NotFound)
    def not_found(exc: ic.NotFound) -> tuple[Response, int]:
        return _error(404, "not_found", str(exc))

    @app.errorhandler(ic.StorageBusy)
    def busy(exc: ic.StorageBusy) -> tuple[Response, int]:
        response, status = _error(503, "busy", str(exc))
        response.headers["Retry-After"] = "1"
        return response, status
