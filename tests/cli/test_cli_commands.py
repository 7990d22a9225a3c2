"""The ``itsmcore`` commands: exact answers, and one clear line for every bad input."""

from __future__ import annotations

import ast
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("click", reason="the command line needs the 'cli' extra")

from click.testing import CliRunner, Result

import itsmcore as ic
from itsmcore import cli as cli_module
from itsmcore._cli.app import cli
from itsmcore.improvement import kpis

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "workflows" / "access_request.toml"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result) -> str:
    """The single ``itsmcore: error:`` line of a failed run (and no traceback)."""
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("itsmcore: error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_sla_elapsed_counts_business_time_exactly() -> None:
    result = run("sla", "elapsed", "--calendar", "business",
                 "2026-11-23T09:00:00+00:00", "2026-11-24T12:00:00Z")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == "11 h 00 min  (PT11H)\n"


def test_sla_add_ends_at_the_close_of_the_same_day_not_the_next_morning() -> None:
    result = run("sla", "add", "--calendar", "business", "2026-11-23T09:00Z", "PT8H")
    assert result.output == "2026-11-23T17:00:00+00:00\n"


def test_sla_reads_a_calendar_file_in_its_own_zone(tmp_path: Path) -> None:
    cal = tmp_path / "berlin.toml"
    cal.write_text('timezone = "Europe/Berlin"\n[week]\nmon = ["09:00-17:00"]\n'
                   'tue = ["09:00-17:00"]\n', encoding="utf-8")  # fmt: skip
    result = run("sla", "add", "--calendar", str(cal), "2026-11-23T07:00:00Z", "PT9H")
    assert result.output == "2026-11-24T10:00:00+01:00\n"
    exact = run("sla", "elapsed", "--calendar", str(cal), "2026-11-23T08:00:00.5Z",
                "2026-11-23T09:00Z")  # fmt: skip
    assert exact.output == "59 min 59 s  (PT59M59.5S)\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("sla", "add", "--calendar", "business", "2026-11-23T09:00", "PT8H"), "no UTC offset"),
        (("sla", "add", "--calendar", "business", "2026-11-23T09:00Z", "8h"), "ISO 8601 duration"),
        (("sla", "add", "--calendar", "nope.toml", "2026-11-23T09:00Z", "PT1H"), "built-in"),
        (("sla", "elapsed", "--calendar", "business", "yesterday", "2026-11-23T09:00Z"), "ISO"),
        (("kpi", "mtta", "--db", "missing.db", "--period", "2026-11"), "no store at"),
        (("kpi", "mttx"), "unknown KPI 'mttx'"),
        (("kpi", "mtta"), "give --db and --period"),
        (("verify", "--db", "missing.db"), "no store at 'missing.db'"),
        (("verify", "--db", "ftp://host/x"), "ftp"),
        (("diagram", "incidnet"), "did you mean"),
        (("diagram", "incident", "--format", "png"), "'png' is not one of"),
        (("demo", "--days", "0"), "--days"),
        (("demo", "--start", "1 Nov"), "is not a date"),
        (("check-spec", "missing.toml"), "1 problem(s)"),
        (("frobnicate",), "No such command 'frobnicate'"),
    ],
)
def test_bad_arguments_get_one_clear_line_and_a_non_zero_exit(
    args: tuple[str, ...], needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = one_error_line(run(*args))
    assert needle in line


def test_an_unreadable_store_is_one_line_too(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    assert one_error_line(run("verify", "--db", str(junk))).startswith("itsmcore: error:")


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026-11", "2026-11-01 00:00", "2026-12-01 00:00"),
        ("2026-Q4", "2026-10-01 00:00", "2027-01-01 00:00"),
        ("2026-W48", "2026-11-23 00:00", "2026-11-30 00:00"),
        ("2026", "2026-01-01 00:00", "2027-01-01 00:00"),
        ("2026-11-05", "2026-11-05 00:00", "2026-11-06 00:00"),
        ("2026-11-05/2026-11-08T12:00", "2026-11-05 00:00", "2026-11-08 12:00"),
    ],
)
def test_periods_are_read_in_the_given_zone(
    period: str, start: str, end: str, tmp_path: Path
) -> None:
    db = tmp_path / "empty.db"
    ic.Engine.sqlite(db).close()
    result = run("kpi", "backlog", "--db", str(db), "--period", period, "--tz", "Asia/Shanghai")
    assert result.exit_code == 0, result.output
    assert f"over {start} → {end} CST: 0 (n=0)" in result.output


def test_a_period_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    ic.Engine.sqlite(db).close()
    line = one_error_line(
        run("kpi", "backlog", "--db", str(db), "--period", "2026-11-05/2026-11-01")
    )
    assert "must end after it starts" in line


def test_kpi_without_a_name_lists_every_kpi() -> None:
    result = run("kpi")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == list(kpis.names())


def test_diagram_prints_the_specs_mermaid_text() -> None:
    result = run("diagram", "incident")
    assert result.output == ic.catalog.get("incident").to_mermaid()


def test_diagram_svg_is_well_formed_and_shows_every_state(tmp_path: Path) -> None:
    out = tmp_path / "change.svg"
    result = run("diagram", "change", "--format", "svg", "-o", str(out))
    assert result.exit_code == 0, result.output
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for state in ic.catalog.get("change").states:
        assert state.name in texts
    assert "cancel: new, assessing, authorizing, scheduled → cancelled" in texts


def test_diagram_and_check_spec_read_a_toml_workflow() -> None:
    drawn = run("diagram", str(WORKFLOW))
    assert drawn.output == ic.load_spec(WORKFLOW).to_mermaid()
    checked = run("check-spec", str(WORKFLOW))
    assert checked.exit_code == 0
    assert "ok: process 'access_request' v1: 7 states, 6 transitions" in checked.output
    assert "  awaiting_owner (paused): approve → provisioning; reject → rejected" in checked.output


def test_check_spec_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nversion = 1\n[[states]]\nname = "a"\ninitial = true\n'
                   '[[transitions]]\nevent = "go"\nsources = ["a"]\ntarget = "b"\n'
                   'guards = ["os.system"]\n', encoding="utf-8")  # fmt: skip
    result = run("check-spec", str(bad))
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith(f"{bad}: ")]
    assert any("unknown target state 'b'" in p for p in problems)
    assert any("'os.system'" in p for p in problems)
    assert one_error_line(result).endswith(f"{len(problems)} problem(s)")


def test_check_spec_reads_an_sla_policy_and_checks_it_against_the_catalog(tmp_path: Path) -> None:
    good = tmp_path / "major.toml"
    good.write_text('name = "major"\nversion = 1\nprocess = "incident"\n[[clocks]]\n'
                    'name = "bridge"\ntargets = { 1 = "PT15M" }\n', encoding="utf-8")  # fmt: skip
    assert (
        "ok: SLA policy 'major' v1 for 'incident', clocks: bridge"
        in run("check-spec", str(good)).output
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nversion = 1\nprocess = "incidnet"\n[[clocks]]\n'
                   'name = "x"\ntargets = { 1 = "4 hours" }\n', encoding="utf-8")  # fmt: skip
    result = run("check-spec", str(bad))
    assert result.exit_code == 1
    assert "4 hours" in result.output


def test_main_without_click_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "click" else real(name, *a)
    )
    assert cli_module.main(["--help"]) == 2
    assert capsys.readouterr().err == (
        "itsmcore: the command line needs click and rich: pip install 'itsmcore[cli]'\n"
    )


def test_main_returns_the_exit_code() -> None:
    assert cli_module.main(["processes"]) == 0
    assert cli_module.main(["kpi", "nope"]) == 1
    assert cli_module.main(["--no-such-option"]) == 2


def test_the_cli_and_the_demo_import_only_public_itsmcore_modules() -> None:
    src = ROOT / "src" / "itsmcore"
    files = [src / "cli.py", src / "demo.py", *(src / "_cli").glob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("itsmcore")
            ):
                private = [p for p in node.module.split(".") if p.startswith("_")]
                assert private in ([], ["_cli"]), (path.name, node.module)


def test_a_store_url_with_an_escaped_space_is_found(tmp_path: Path) -> None:
    from datetime import UTC, datetime
    from urllib.parse import quote

    path = tmp_path / "my store.db"
    with ic.Engine.sqlite(path) as engine:
        engine.open(
            "incident",
            at=datetime(2026, 11, 2, tzinfo=UTC),
            actor=ic.Actor("a"),
            fields={"title": "t", "impact": 2, "urgency": 2, "caller": "c"},
        )
    result = run("verify", "--db", f"sqlite:///{quote(str(path))}")
    assert result.exit_code == 0, result.output
