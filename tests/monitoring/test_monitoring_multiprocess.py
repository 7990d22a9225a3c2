"""Four OS processes observing one firing key on one SQLite store open one incident."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import monitoring_workers as w
import pytest

import itsmcore as ic

pytestmark = pytest.mark.itsmcore_multiprocess


def test_four_processes_observing_one_key_open_exactly_one_incident(tmp_path: Path) -> None:
    path = str(tmp_path / "monitoring.db")
    ic.Engine.sqlite(path).close()  # create the schema before the race
    ctx = mp.get_context("spawn")
    start, queue = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=w.observe_once, args=(path, start, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [status for status, _ in results] == ["ok"] * 4, results
    with ic.Engine.sqlite(path) as engine:
        [incident] = engine.find(process="incident")
        assert {rid for _, rid in results} == {incident.id}
        assert incident.get("alert_count") == 4
        assert [e.version for e in engine.history(incident.id)] == [1, 2, 3, 4]
        assert engine.verify().ok
