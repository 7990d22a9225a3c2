"""``itsmcore demo``: simulate a month on a new SQLite store and print what happened."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from itsmcore._cli.common import format_duration, format_kpi, period_label
from itsmcore.demo import DEFAULT_START, DemoResult, run_demo
from itsmcore.improvement.kpis import describe

__all__ = ["demo"]

_PROCESS_LABELS = {
    "incident": ("incident", "incidents"),
    "problem": ("problem", "problems"),
    "known_error": ("known error", "known errors"),
    "change": ("change", "changes"),
    "release": ("release", "releases"),
    "security_incident": ("security incident", "security incidents"),
    "feedback": ("survey", "surveys"),
    "improvement": ("improvement", "improvements"),
}


def _counted(process: str, count: int) -> str:
    one, many = _PROCESS_LABELS.get(process, (process, process))
    return f"{count} {one if count == 1 else many}"


def _remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@click.command()
@click.option(
    "--db",
    "db",
    default="itsmcore-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite file to create; the HTML report is written next to it.",
)
@click.option("--seed", default=7, show_default=True, type=int, help="Same seed, same month.")
@click.option(
    "--days",
    default=30,
    show_default=True,
    type=click.IntRange(1, 366),
    help="How many days to simulate.",
)
@click.option(
    "--start",
    default=DEFAULT_START.date().isoformat(),
    show_default=True,
    help="The first simulated day (YYYY-MM-DD, 00:00 UTC).",
)
@click.option("--overwrite", is_flag=True, help="Replace the store if it exists.")
@click.option("--no-report", is_flag=True, help="Skip the HTML service report.")
def demo(db: Path, seed: int, days: int, start: str, overwrite: bool, no_report: bool) -> None:
    """Simulate a month of a small IT department on a new SQLite store.

    Incidents through four intake channels, a problem with its known error, normal,
    standard and emergency changes through the CAB, a release, a security incident,
    SLA clocks ticking, satisfaction surveys and one measured PDCA cycle. Then prints
    the KPIs, the SLA signals and the audit-chain check, and writes the service report.
    """
    try:
        first = datetime.strptime(start, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise click.BadParameter(
            f"{start!r} is not a date (YYYY-MM-DD)", param_hint="--start"
        ) from None
    if db.exists():
        if not overwrite:
            raise click.UsageError(
                f"{str(db)!r} already exists: pass --overwrite to replace it, or --db another path"
            )
        _remove_store(db)
    console = Console(highlight=False, soft_wrap=True)
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("days", total=days)
        result = run_demo(
            db,
            seed=seed,
            days=days,
            start=first,
            report=not no_report,
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    print_summary(console, result)
    if not result.chain.ok:  # the demo's own audit trail must verify
        raise click.exceptions.Exit(1)


_KPI_MEANING = {
    "mtta": "mean time to acknowledge",
    "mttr": "mean time to resolve",
    "fcr": "first-contact resolution",
    "reopen_rate": "incidents reopened",
    "sla_compliance": "SLA clock cycles met",
    "backlog": "incidents open at the end",
    "change_success_rate": "changes successful",
    "emergency_change_rate": "emergency changes",
    "csat": "satisfied (4-5 of 5)",
    "nps": "net promoter score",
    "availability": "mail availability",
}


def print_summary(console: Console, result: DemoResult) -> None:
    """The demo's summary: what was recorded, the KPIs, the SLA signals, the PDCA
    cycle, the chain check and where the files are."""
    console.print(f"[bold]itsmcore demo[/bold]: seed {result.seed}, {period_label(result.period)}")
    total = sum(result.records.values())
    order = [p for p in _PROCESS_LABELS if p in result.records]
    order += [p for p in result.records if p not in _PROCESS_LABELS]
    records = ", ".join(_counted(p, result.records[p]) for p in order)
    console.print(f"Recorded {total} records in {result.db}: {records}")
    types = ", ".join(f"{n} {t}" for t, n in result.change_types.items())
    if types:
        console.print(f"Changes by type: {types}")

    table = Table(title="KPIs of the simulated period", title_justify="left")
    table.add_column("KPI")
    table.add_column("meaning")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    for kpi in result.kpis:
        meaning = _KPI_MEANING.get(kpi.name, describe(kpi.name))
        table.add_row(kpi.name, meaning, format_kpi(kpi.value, kpi.unit), str(kpi.sample_size))
    console.print(table)

    signals = result.sla_signals
    warnings = sum(n for k, n in signals.items() if k.endswith("warning"))
    breaches = {k.split()[0]: n for k, n in signals.items() if k.endswith("breach")}
    detail = ", ".join(f"{n} {clock}" for clock, n in breaches.items())
    console.print(
        f"SLA: {warnings} warnings, {sum(breaches.values())} breaches"
        + (f" ({detail})" if detail else "")
        + f"; {result.timers_fired} timers fired"
    )
    delivered = ", ".join(f"{n} {kind}" for kind, n in result.notifications.items())
    console.print(f"Outbox: delivered {delivered or 'nothing'}")
    console.print(f"PDCA: {_improvement_line(result)}")
    chain = result.chain
    verdict = "verified" if chain.ok else f"BROKEN for {len(chain.broken)} record(s)"
    console.print(f"Audit chain: {verdict} ({chain.records} records, {chain.events} events)")
    if result.report is not None:
        console.print(f"Service report: {result.report}")
    console.print(f"Next: itsmcore verify --db {result.db}")


def _improvement_line(result: DemoResult) -> str:
    imp = result.improvement
    if imp is None:
        return "no improvement cycle"
    baseline, after = imp.get("baseline_duration"), imp.get("result_duration")
    target = imp.get("target_duration")
    parts = [f"{imp.id} {imp.state}"]
    if baseline is not None:
        parts.append(f"MTTA baseline {format_duration(baseline)}")
    if after is not None and target is not None:
        parts.append(
            f"after {format_duration(after)}, target {format_duration(target)}: "
            f"{imp.get('attainment')}"
        )
    if imp.get("spc_shifted") is not None:
        shift = "no shift"
        if imp.get("spc_shifted"):
            shift = "improved" if imp.get("spc_improved") else "shifted the wrong way"
        parts.append(f"SPC {shift}")
    return "; ".join(parts)
