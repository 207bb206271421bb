"""`journeys segment ...`: segments (audiences) - lint files, and against NEO4J_URI push, submit, approve,
publish, archive, list, size (a dry run: count and sample, nothing written), members and evaluate (a
resumable batch evaluation with a progress bar).

As with `journeys journey`, `--as` names who is acting and `--role` (admin by default) their role; a version
is never approved by the name that pushed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from neo4j import Driver
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from app.cli_graph import graph_driver
from app.cli_journey import _principal
from app.errors import JourneysError
from app.runtime import make_engine
from app.segments.batch import SegmentEvaluator
from app.segments.definitions import ERROR, SegmentInvalid, SegmentIssue, lint_segment, load_segment
from app.segments.schedule import ScheduledSends, default_send_id
from app.segments.store import SegmentStore
from graph_models.principal import ROLES, can
from graph_models.segments import (
    EvaluationInfo,
    ScheduledSend,
    SegmentDefinition,
    SegmentSize,
    SegmentVersionInfo,
    SendPlan,
)

segment_app = typer.Typer(help="Segments (audiences): lint, push, review, publish, size, members, evaluate.",
                          no_args_is_help=True)
console = Console()

FilesArg = Annotated[list[Path], typer.Argument(help="segment files (YAML or JSON)", exists=True, dir_okay=False)]
FileArg = Annotated[Path, typer.Argument(help="a segment file (YAML or JSON)", exists=True, dir_okay=False)]
IdArg = Annotated[str, typer.Argument(help="segment id")]
VersionArg = Annotated[int, typer.Argument(help="version number")]
AsOpt = Annotated[str, typer.Option("--as", help="who is acting (recorded in the audit trail)")]
RoleOpt = Annotated[str, typer.Option("--role", help=f"the acting role: {', '.join(ROLES)}")]


def _issue_line(issue: SegmentIssue) -> str:
    colour = "red" if issue.severity == ERROR else "yellow"
    return f"  [{colour}]{issue.severity}[/{colour}] {escape(issue.code)} {escape(issue.path)}: {escape(issue.message)}"


def _print_invalid(exc: SegmentInvalid) -> None:
    console.print(f"[bold]{escape(exc.source)}[/bold]: [red]invalid[/red]")
    lines = [_issue_line(i) for i in exc.lint_issues] or [f"  [red]error[/red] {escape(i)}" for i in exc.issues]
    for line in lines:
        console.print(line)


def _load(path: Path) -> SegmentDefinition:
    try:
        return load_segment(path)
    except SegmentInvalid as exc:
        _print_invalid(exc)
        raise typer.Exit(1) from exc


@dataclass
class _Graph:
    driver: Driver
    store: SegmentStore
    evaluator: SegmentEvaluator
    sends: ScheduledSends


@contextmanager
def _graph() -> Iterator[_Graph]:
    """The store and evaluator on NEO4J_URI (batch changes enter segment journeys through the engine, under the
    resolver's constraints); a refused change prints and exits 1."""
    def refused(exc: JourneysError) -> None:
        if isinstance(exc, SegmentInvalid):
            _print_invalid(exc)
        else:
            console.print(f"[red]{escape(str(exc))}[/red]")

    with graph_driver(console, "the segment commands", refused) as (settings, driver):
        engine = make_engine(settings, driver)
        yield _Graph(driver, SegmentStore(driver, settings.neo4j_database),
                     SegmentEvaluator(driver, settings.neo4j_database, sink=engine.apply_events),
                     ScheduledSends(driver, settings.neo4j_database))


def _done(info: SegmentVersionInfo, what: str) -> None:
    console.print(f"{escape(info.key)}: {what} [bold]{info.status}[/bold]")


@contextmanager
def _progress(what: str) -> Iterator[Progress]:
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=False) as bar:
        yield bar


def _print_size(found: SegmentSize) -> None:
    console.print(f"{escape(found.segmentId)}: [bold]{found.size}[/bold] of {found.scanned} people "
                  f"({found.tookMs} ms)")
    for m in found.sample:
        console.print(f"  {escape(m.userId or '-')}  {escape(m.personId)}")


@segment_app.command("lint")
def lint_files(files: FilesArg) -> None:
    """Print every problem (errors and warnings) in each file; exit 1 if any file has an error."""
    failed = False
    for path in files:
        try:
            definition = load_segment(path)
        except SegmentInvalid as exc:
            failed = True
            _print_invalid(exc)
            continue
        issues = lint_segment(definition)
        failed = failed or any(i.severity == ERROR for i in issues)
        console.print(f"[bold]{escape(str(path))}[/bold] ({escape(definition.id)}): "
                      f"{'[green]ok[/green]' if not issues else f'{len(issues)} finding(s)'}")
        for issue in issues:
            console.print(_issue_line(issue))
    if failed:
        raise typer.Exit(1)


@segment_app.command()
def push(file: FileArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Store a segment file as its next draft version (an unchanged file is not stored again)."""
    principal = _principal(as_, role)
    definition = _load(file)
    with _graph() as g:
        info = g.store.push(definition, principal)
    _done(info, "pushed, now" if info.created else "unchanged (same as the latest version),")


@segment_app.command()
def submit(segment_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """draft → in_review."""
    with _graph() as g:
        _done(g.store.submit(segment_id, version, _principal(as_, role)), "now")


@segment_app.command()
def approve(segment_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """in_review → approved (not by the name that pushed it)."""
    with _graph() as g:
        _done(g.store.approve(segment_id, version, _principal(as_, role)), "now")


@segment_app.command()
def publish(segment_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin",
            evaluate: Annotated[bool, typer.Option(help="evaluate everyone now (batch)")] = True) -> None:
    """approved → published; then (by default) a batch evaluation puts everyone already in the graph in."""
    principal = _principal(as_, role)
    with _graph() as g:
        _done(g.store.publish(segment_id, version, principal), "now")
        if evaluate:
            _evaluate(g, segment_id, resume=False, principal_name=principal.name, role=principal.role)


@segment_app.command()
def archive(segment_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Any status but archived → archived (archiving the published version stops its evaluation)."""
    with _graph() as g:
        _done(g.store.archive(segment_id, version, _principal(as_, role)), "now")


@segment_app.command("list")
def list_segments() -> None:
    """Every segment: latest and published versions, members now."""
    with _graph() as g:
        found = g.store.list_segments()
    table = Table("segment", "name", "latest", "status", "published", "members")
    for s in found:
        table.add_row(escape(s.segmentId), escape(s.name), str(s.latestVersion), s.latestStatus or "-",
                      str(s.publishedVersion or "-"), str(s.members))
    console.print(table)


@segment_app.command()
def size(target: Annotated[str, typer.Argument(help="a segment file, or the id of a stored segment")],
         version: Annotated[int | None, typer.Option(help="stored version (default: the latest)")] = None,
         sample: Annotated[int, typer.Option(help="members to show")] = 10) -> None:
    """A dry run: how many people the definition selects now, and a sample; nothing is written."""
    path = Path(target)
    with _graph() as g:
        definition = _load(path) if path.is_file() else g.store.definition(target, version)
        with _progress("counting") as bar:
            task = bar.add_task("count", total=None)
            found = g.evaluator.dry_run(definition, version=version, sample=sample,
                                        progress=lambda d, t: bar.update(task, completed=d, total=t))
    _print_size(found)


@segment_app.command()
def members(segment_id: IdArg, limit: Annotated[int, typer.Option(help="at most this many")] = 50) -> None:
    """People in the segment now (longest-standing first)."""
    with _graph() as g:
        total = g.store.size(segment_id)
        found = g.store.members(segment_id, limit)
    console.print(f"{escape(segment_id)}: [bold]{total}[/bold] members")
    for m in found:
        console.print(f"  {escape(str(m.get('userId') or '-'))}  {escape(str(m['personId']))}  since {m['sinceMs']}")


def _evaluate(g: _Graph, segment_id: str, *, resume: bool, principal_name: str, role: str) -> EvaluationInfo:
    with _progress(f"evaluating {escape(segment_id)}") as bar:
        task = bar.add_task("evaluate", total=None)
        info = g.evaluator.evaluate(segment_id, resume=resume,
                                    progress=lambda d, t: bar.update(task, completed=d, total=t))
    g.store.record_evaluation(segment_id, info.version, _principal(principal_name, role),
                              {"scanned": info.scanned, "entered": info.entered, "left": info.left})
    console.print(f"{escape(segment_id)} v{info.version}: {info.status}, {info.scanned} people, "
                  f"{info.entered} entered, {info.left} left")
    return info


@segment_app.command()
def evaluate(segment_id: IdArg, as_: AsOpt, role: RoleOpt = "admin",
             restart: Annotated[bool, typer.Option(help="start over instead of resuming")] = False) -> None:
    """Evaluate the published version for everyone (resumes an interrupted run); writes the changes."""
    with _graph() as g:
        _evaluate(g, segment_id, resume=not restart, principal_name=as_, role=role)


def _iso(ms: int | None) -> str:
    return "-" if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _print_plan(plan: SendPlan) -> None:
    console.print(f"{escape(plan.sendId)}: [bold]{plan.people}[/bold] people in {escape(plan.segmentId)} enter "
                  f"{escape(plan.journeyId)} from {_iso(plan.firstAtMs)} to {_iso(plan.lastAtMs)} "
                  f"({plan.minutesAtRate} min at the rate)")
    for zone, count in plan.byZone.items():
        console.print(f"  {escape(zone)}: {count}")


@segment_app.command()
def schedule(journey_id: Annotated[str, typer.Argument(help="a published journey with entry `scheduled: true`")],
             segment: Annotated[str, typer.Option("--segment", help="segment id")],
             at: Annotated[str, typer.Option("--at", help="wall-clock time, e.g. 2026-12-01T09:00")],
             local_time: Annotated[bool, typer.Option("--local-time", help="at that time in each person's zone")]
             = False,
             timezone: Annotated[str, typer.Option(help="the zone of --at without --local-time")] = "UTC",
             rate_per_minute: Annotated[int, typer.Option(help="at most this many enter per minute")] = 1000,
             send_id: Annotated[str | None, typer.Option("--id", help="the send's id (default: derived)")] = None,
             dry_run: Annotated[bool, typer.Option("--dry-run", help="only print the plan")] = False,
             as_: AsOpt = "cli", role: RoleOpt = "admin") -> None:
    """Everyone in the segment enters the journey at a time (in each person's zone with --local-time), throttled;
    the plan (count by zone, first and last moment) is printed first. The timer service runs the send."""
    principal = _principal(as_, role)
    try:
        send = ScheduledSend(id=send_id or default_send_id(journey_id, segment, at), segment=segment,
                             journey=journey_id, at=at, local=local_time, timezone=timezone,
                             rate_per_minute=rate_per_minute)
    except ValidationError as exc:
        console.print(f"[red]invalid send: {escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    with _graph() as g:
        g.store.get(segment, audit_limit=0)  # unknown segment: exits 1
        _print_plan(g.sends.plan(send))
        if dry_run:
            return
        if not can(principal, "publish"):
            console.print(f"[red]{escape(principal.name)} ({principal.role}) may not schedule sends[/red]")
            raise typer.Exit(1)
        info = g.sends.create(send, principal.name)
    console.print(f"{escape(info.sendId)}: [bold]{info.status}[/bold]")
