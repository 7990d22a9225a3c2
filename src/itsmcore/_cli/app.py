"""The ``itsmcore`` command group and its commands (``demo`` lives in its own module).

Errors never reach the user as a traceback: a usage problem, a bad file or any
``ItsmError`` prints one line, ``itsmcore: error: ...``, to standard error and exits
with 2 (usage) or 1 (everything else).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

import itsmcore as ic
from itsmcore._cli.common import (
    PERIOD_HELP,
    engine_for,
    format_duration,
    format_kpi,
    iso_duration,
    parse_calendar,
    parse_duration,
    parse_instant,
    parse_period,
    period_label,
    zone,
)
from itsmcore._cli.demo_cmd import demo
from itsmcore._cli.diagram_svg import to_svg
from itsmcore.demo import service_report
from itsmcore.improvement import kpis
from itsmcore.improvement.report import KINDS, Report
from itsmcore.loading import read_document
from itsmcore.ports import PluginError
from itsmcore.sla import DEFAULT_POLICIES, SlaPolicy

__all__ = ["cli"]


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class _Group(click.Group):
    """A group whose errors are one line on stderr and an exit code, never a traceback."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("itsmcore: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"itsmcore: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except (ic.ItsmError, PluginError) as exc:
            click.echo(f"itsmcore: error: {_one_line(str(exc))}", err=True)
            sys.exit(1)
        except OSError as exc:
            where = f" {exc.filename!r}" if exc.filename else ""
            click.echo(f"itsmcore: error:{where} {exc.strerror or exc}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


_db = click.option(
    "--db",
    required=True,
    metavar="URL",
    help="The store: a SQLite file path, sqlite:///file.db, or a plugin's URL.",
)
_plugins = click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="NAME",
    help="Load this installed plugin (entry point of group 'itsmcore'); repeatable.",
)
_period = click.option("--period", required=True, help=f"The period: {PERIOD_HELP}.")
_tz = click.option("--tz", default="UTC", show_default=True, help="IANA zone of the period.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="itsmcore", prog_name="itsmcore")
def cli() -> None:
    """itsmcore: an embeddable process engine for IT service management.

    Start with 'itsmcore demo' (a simulated month on a new SQLite store), then look at
    it with 'itsmcore verify', 'itsmcore kpi' and 'itsmcore report'.
    """


cli.add_command(demo)


@cli.command()
def processes() -> None:
    """List the built-in processes (name, version, title)."""
    for name in ic.catalog.names():
        spec = ic.catalog.get(name)
        click.echo(f"{name:<26} v{spec.version}  {spec.title}")


def _spec_of(process: str, plugins: Sequence[str]) -> ic.ProcessSpec:
    if process.lower().endswith((".toml", ".json")):
        registry = ic.Engine.in_memory(entry_points=plugins).registry
        return ic.load_spec(process, registry=registry)
    return ic.Engine.in_memory(entry_points=plugins).catalog.get(process)


@cli.command()
@click.argument("process")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "svg"]),
    default="mermaid",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@_plugins
def diagram(process: str, fmt: str, output: Path | None, plugins: tuple[str, ...]) -> None:
    """Draw PROCESS (a built-in name or a .toml/.json spec file) as a state diagram.

    Mermaid text renders on GitHub, in mkdocs-material and at mermaid.live; svg is a
    self-contained picture drawn by itsmcore's own simple layered layout.
    """
    spec = _spec_of(process, plugins)
    text = spec.to_mermaid() if fmt == "mermaid" else to_svg(spec)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


@cli.command("check-spec")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_plugins
def check_spec(file: Path, plugins: tuple[str, ...]) -> None:
    """Check a process spec or an SLA policy file (.toml/.json) and say what is wrong.

    Every problem is printed on its own line with its path; the exit code is 1 when
    there is any. A document with 'clocks' is read as an SLA policy.
    """
    try:
        data = read_document(file)
        if "clocks" in data:
            policy = SlaPolicy.from_dict(data)
            ic.Engine.in_memory(policies=[*DEFAULT_POLICIES, policy], entry_points=plugins)
            clocks = ", ".join(c.name for c in policy.clocks)
            click.echo(
                f"{file}: ok: SLA policy {policy.name!r} v{policy.version} for "
                f"{policy.process!r}, clocks: {clocks}"
            )
            return
        spec = ic.load_spec(data, registry=ic.Engine.in_memory(entry_points=plugins).registry)
    except ic.SpecError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        raise click.ClickException(f"{file}: {len(exc.problems)} problem(s)") from None
    except ic.ValidationError as exc:
        for path, message in exc.errors:
            click.echo(f"{file}: {path}: {message}", err=True)
        raise click.ClickException(f"{file}: {len(exc.errors)} problem(s)") from None
    click.echo(
        f"{file}: ok: process {spec.name!r} v{spec.version}: {len(spec.states)} states, "
        f"{len(spec.transitions)} transitions, {len(spec.fields)} fields, "
        f"{len(spec.timers)} timers"
    )
    for state in spec.states:
        outgoing = [
            f"{t.event} → {state.name if t.target == '=' else t.target}"
            for t in spec.transitions
            if state.name in t.sources or ("*" in t.sources and not state.terminal)
        ]
        marks = ", ".join([state.category, *(["initial"] if state.initial else [])])
        exits = "; ".join(outgoing) or "terminal"
        click.echo(f"  {state.name} ({marks}): {exits}")


@cli.group()
def sla() -> None:
    """Business-time arithmetic on a calendar (exact to the microsecond)."""


_calendar = click.option(
    "--calendar",
    required=True,
    metavar="FILE|NAME",
    help="A calendar file (.toml/.json, BusinessCalendar.from_dict format) or a "
    "built-in calendar: business, 24x7.",
)


@sla.command()
@_calendar
@click.argument("start")
@click.argument("end")
def elapsed(calendar: str, start: str, end: str) -> None:
    """Business time between START and END (ISO 8601 datetimes with an offset)."""
    cal = parse_calendar(calendar)
    a, b = parse_instant(start, "START"), parse_instant(end, "END")
    value = cal.elapsed(a, b)
    click.echo(f"{format_duration(value)}  ({iso_duration(value)})")


@sla.command()
@_calendar
@click.argument("start")
@click.argument("duration")
def add(calendar: str, start: str, duration: str) -> None:
    """The instant DURATION (ISO 8601, e.g. PT8H) of business time after START."""
    cal = parse_calendar(calendar)
    a = parse_instant(start, "START")
    d = parse_duration(duration, "DURATION")
    click.echo(cal.add(a, d).isoformat())


@cli.command()
@_db
@_plugins
def verify(db: str, plugins: tuple[str, ...]) -> None:
    """Verify every record's hash chain and stored head (and the heads' signatures,
    when a signing plugin is loaded with --plugin). Exit code 1 if anything is broken."""
    with engine_for(db, plugins) as engine:
        report = engine.verify()
        signed = engine.plugins.can_sign
    for record_id, problem in report.broken:
        click.echo(f"{record_id}: {problem}", err=True)
    heads = (
        "signed heads checked"
        if signed
        else "heads not signature-checked (no signing plugin; pass --plugin NAME)"
    )
    if not report.ok:
        raise click.ClickException(
            f"chain broken for {len(report.broken)} of {report.records} records"
        )
    click.echo(f"ok: {report.records} records, {report.events} events verified; {heads}")


@cli.command()
@_db
@_period
@_tz
@click.option(
    "--kind",
    type=click.Choice(["all", *KINDS]),
    default="all",
    show_default=True,
    help="Which standard report; 'all' puts the three in one document.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "markdown", "json"]),
    default="html",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: derived.")
@_plugins
def report(
    db: str,
    period: str,
    tz: str,
    kind: str,
    fmt: str,
    out: Path | None,
    plugins: tuple[str, ...],
) -> None:
    """Write the service report for a period, computed from the audited events only."""
    span = parse_period(period, zone(tz))
    with engine_for(db, plugins) as engine:
        doc = service_report(engine, span) if kind == "all" else Report.build(kind, engine, span)
    suffix = {"html": ".html", "markdown": ".md", "json": ".json"}[fmt]
    if out is None:
        out = Path(f"{'service-report' if kind == 'all' else kind}-{_slug(period)}{suffix}")
    if fmt == "html":
        text = doc.to_html()
    elif fmt == "markdown":
        text = doc.to_markdown()
    else:
        text = json.dumps(doc.to_dict(), indent=2, ensure_ascii=False) + "\n"
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({doc.title}, {period_label(span)})")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


@cli.command()
@click.argument("name", required=False)
@click.option("--db", metavar="URL", help="The store (see 'verify').")
@click.option("--period", help=f"The period: {PERIOD_HELP}.")
@_tz
@click.option("--service", help="Only records of this service (required for availability).")
@click.option("--process", help="The process measured (default incident, where it applies).")
@click.option("--calendar", metavar="FILE|NAME", help="Measure durations in business time.")
@_plugins
def kpi(
    name: str | None,
    db: str | None,
    period: str | None,
    tz: str,
    service: str | None,
    process: str | None,
    calendar: str | None,
    plugins: tuple[str, ...],
) -> None:
    """Compute KPI NAME over a period from a store; without NAME, list the KPIs."""
    if name is None:
        for known in kpis.names():
            click.echo(f"{known:<26} {kpis.describe(known)}")
        return
    kpis.describe(name)  # an unknown name fails before the store is opened
    if db is None or period is None:
        raise click.UsageError(
            "give --db and --period (e.g. --db itsmcore-demo.db --period 2026-11)"
        )
    span = parse_period(period, zone(tz))
    options: dict[str, Any] = {}
    if service:
        options["service"] = service
    if process:
        options["process"] = process
    if calendar:
        options["calendar"] = parse_calendar(calendar)
    with engine_for(db, plugins) as engine:
        value = engine.kpi(name, period=span, **options)
    click.echo(
        f"{name} over {period_label(span)}: {format_kpi(value.value, value.unit)} "
        f"(n={value.sample_size})"
    )
    click.echo(f"  {kpis.describe(name)}")
    if value.numerator is not None and value.denominator:
        click.echo(f"  = {_exact(value.numerator)} / {value.denominator}")


def _exact(value: Any) -> str:
    from datetime import timedelta

    return format_duration(value) if isinstance(value, timedelta) else str(value)
