"""``itsmcore demo``: a deterministic month on a new SQLite store, then verify/kpi/report."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("click", reason="the command line needs the 'cli' extra")

from click.testing import CliRunner

import itsmcore as ic
from itsmcore._cli.app import cli
from itsmcore.demo import run_demo


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One small demo run shared by the tests that only read its store."""
    db = tmp_path_factory.mktemp("demo") / "month.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--days", "6", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return db, result.output


def test_demo_prints_the_summary_and_writes_the_report_next_to_the_store(
    demo_db: tuple[Path, str],
) -> None:
    db, output = demo_db
    assert "2026-11-01 00:00 → 2026-11-07 00:00 UTC" in output
    for line in ("KPIs of the simulated period", "mtta", "sla_compliance", "csat", "SLA:",
                 "PDCA: IMP-000001", "Audit chain: verified"):  # fmt: skip
        assert line in output
    report = db.with_suffix(".html")
    assert f"Service report: {report}" in output
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or "<html" in html[:200]
    assert "Problem statistics" in html


def test_the_demo_store_verifies_and_the_cli_reads_it(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    runner = CliRunner()
    verified = runner.invoke(cli, ["verify", "--db", str(db)])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("ok: ")
    mtta = runner.invoke(cli, ["kpi", "mtta", "--db", f"sqlite:///{db}", "--period", "2026-11"])
    assert mtta.exit_code == 0, mtta.output
    assert "mtta over 2026-11-01 00:00 → 2026-12-01 00:00 UTC" in mtta.output


def test_the_summary_matches_the_store(demo_db: tuple[Path, str]) -> None:
    db, output = demo_db
    with ic.Engine.sqlite(db) as engine:
        incidents = len(engine.find(process="incident"))
        report = engine.verify()
    assert f"{incidents} incidents" in output
    assert f"({report.records} records, {report.events} events)" in output


def test_the_same_seed_gives_the_same_month_hash_for_hash(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "a.db", seed=11, days=4, report=False)
    second = run_demo(tmp_path / "b.db", seed=11, days=4, report=False)
    other = run_demo(tmp_path / "c.db", seed=12, days=4, report=False)

    def heads(path: Path) -> dict[str, str]:
        with ic.Engine.sqlite(path) as engine:
            return {r: engine.get(r).head for p in engine.catalog.names()
                    for r in (x.id for x in engine.find(process=p))}  # fmt: skip

    assert heads(tmp_path / "a.db") == heads(tmp_path / "b.db")
    assert heads(tmp_path / "a.db") != heads(tmp_path / "c.db")
    assert first.kpis == second.kpis
    assert first.records != other.records or first.kpis != other.kpis


def test_a_full_month_runs_the_pdca_cycle_to_a_measured_check(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "m.db", seed=7, days=30, report=False)
    imp = result.improvement
    assert imp is not None
    assert imp.state == "closed"
    assert imp.get("attainment") == "met"
    assert imp.get("result_duration") < imp.get("baseline_duration")
    assert result.chain.ok
    assert sum(n for k, n in result.sla_signals.items() if k.endswith("breach")) > 0
    assert result.change_types == {"emergency": 1, "normal": 3, "standard": 5}


def test_verify_fails_with_exit_1_on_a_tampered_store(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    run_demo(db, seed=1, days=2, report=False)
    with sqlite3.connect(db) as conn:
        (data,) = conn.execute(
            "SELECT data FROM events WHERE record_id = 'INC-000001' AND version = 2"
        ).fetchone()
        event = json.loads(data)
        event["actor"]["id"] = "mallory"
        conn.execute(
            "UPDATE events SET data = ? WHERE record_id = 'INC-000001' AND version = 2",
            (json.dumps(event),),
        )
    result = CliRunner().invoke(cli, ["verify", "--db", str(db)])
    assert result.exit_code == 1
    assert "INC-000001: " in result.output
    assert "itsmcore: error: chain broken for 1 of" in result.output
    assert "Traceback" not in result.output


def test_demo_refuses_to_overwrite_an_existing_store_unless_asked(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    db.write_text("not mine", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["demo", "--db", str(db), "--days", "1"])
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"itsmcore: error: '{db}' already exists: pass --overwrite to replace it, or --db "
        "another path"
    ]
    assert db.read_text(encoding="utf-8") == "not mine"
    done = CliRunner().invoke(cli, ["demo", "--db", str(db), "--days", "1", "--overwrite",
                                    "--no-report"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert not db.with_suffix(".html").exists()


def test_run_demo_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ic.ValidationError, match="between 1 and 366"):
        run_demo(tmp_path / "d.db", days=0)
    with pytest.raises(ic.ValidationError, match="aware"):
        run_demo(tmp_path / "d.db", start=datetime(2026, 11, 1))
    assert run_demo(tmp_path / "e.db", days=1, start=datetime(2027, 1, 4, tzinfo=UTC),
                    report=False).period.start == datetime(2027, 1, 4, tzinfo=UTC)  # fmt: skip
