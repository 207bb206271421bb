"""`journeys journey ...`: lint and validate journey files, print the JSON Schema, and (against NEO4J_URI)
push, submit, approve, publish, pause, archive and list journey versions.

The operator names who is acting with `--as` (and `--role`, admin by default: the command line has direct
graph access). The review rules still hold: a version is never approved by the name that pushed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli_graph import graph_driver
from app.cli_report import print_findings
from app.decisions.conflict_review import ConflictReview
from app.decisions.conflicts import Conflict
from app.errors import JourneysError
from app.journeys.catalog import default_catalog
from app.journeys.lint import ERROR, LintIssue, lint
from app.journeys.loader import JourneyInvalid, checked, load_definition, schema_text
from app.journeys.store import JourneyStore
from app.runtime import make_engine
from app.settings import get_settings
from app.simulate.cli import simulate_command
from graph_models.journey import JourneyDefinition
from graph_models.journey_store import VersionInfo
from graph_models.principal import ROLES, Principal, can

journey_app = typer.Typer(help="Journey definitions: lint, validate, push, review, publish.", no_args_is_help=True)
journey_app.command("simulate")(simulate_command)  # what-if replay of a draft (app/simulate/cli.py)
console = Console()

FilesArg = Annotated[list[Path], typer.Argument(help="journey files (YAML or JSON)", exists=True, dir_okay=False)]
FileArg = Annotated[Path, typer.Argument(help="a journey file (YAML or JSON)", exists=True, dir_okay=False)]
IdArg = Annotated[str, typer.Argument(help="journey id")]
VersionArg = Annotated[int, typer.Argument(help="version number")]
AsOpt = Annotated[str, typer.Option("--as", help="who is acting (recorded in the audit trail)")]
RoleOpt = Annotated[str, typer.Option("--role", help=f"the acting role: {', '.join(ROLES)}")]


def _issue_line(issue: LintIssue) -> str:
    colour = "red" if issue.severity == ERROR else "yellow"
    where = f" step {escape(repr(issue.step_id))}" if issue.step_id is not None else ""
    return f"  [{colour}]{issue.severity}[/{colour}] {escape(issue.code)}{where}: {escape(issue.message)}"


def _invalid_lines(exc: JourneyInvalid) -> list[str]:
    if exc.lint_issues:  # the linter's findings: errors (why it was refused) then warnings
        return [_issue_line(issue) for issue in exc.lint_issues]
    return [f"  [red]error[/red] {escape(exc.reason)}: {escape(issue)}" for issue in exc.issues]


def _load(path: Path) -> JourneyDefinition:
    """The file's definition; an invalid file prints its issues and exits 1."""
    try:
        return load_definition(path)
    except JourneyInvalid as exc:
        console.print(f"[bold]{escape(str(path))}[/bold]: [red]invalid[/red]")
        for line in _invalid_lines(exc):
            console.print(line)
        raise typer.Exit(1) from exc


def _print_invalid(header: str, exc: JourneyInvalid) -> None:
    console.print(header)
    for line in _invalid_lines(exc):
        console.print(line)


@journey_app.command("lint")
def lint_files(files: FilesArg) -> None:
    """Print every problem (errors and warnings) in each file; exit 1 if any file has an error."""
    failed = False
    catalog = default_catalog()
    for path in files:
        try:
            definition = load_definition(path)
        except JourneyInvalid as exc:
            failed = True
            _print_invalid(f"[bold]{escape(str(path))}[/bold]: [red]invalid[/red]", exc)
            continue
        failed = print_findings(console, path, lint(definition, catalog), _issue_line, ERROR) or failed
    if failed:
        raise typer.Exit(1)


@journey_app.command()
def validate(files: FilesArg) -> None:
    """Parse and lint each file (warnings allowed); exit 1 unless every file could be pushed."""
    failed = False
    catalog = default_catalog()
    for path in files:
        try:
            definition = checked(load_definition(path), catalog)
        except JourneyInvalid as exc:
            failed = True
            _print_invalid(f"[red]✗[/red] {escape(str(path))}", exc)
            continue
        console.print(f"[green]✓[/green] {escape(str(path))} ({escape(definition.id)}, {len(definition.steps)} steps)")
    if failed:
        raise typer.Exit(1)


@journey_app.command()
def schema() -> None:
    """Print the JSON Schema of a journey file (for editor autocomplete)."""
    typer.echo(schema_text(), nl=False)


def _principal(name: str, role: str) -> Principal:
    if role not in ROLES:
        console.print(f"[red]--role must be one of {', '.join(ROLES)} (got {escape(role)!r})[/red]")
        raise typer.Exit(2)
    if not name.strip():
        console.print("[red]--as must name who is acting[/red]")
        raise typer.Exit(2)
    return Principal(name=name.strip(), role=role)  # role checked against ROLES above


def _refused(exc: JourneysError) -> None:
    if isinstance(exc, JourneyInvalid):
        console.print(f"[red]invalid journey {escape(exc.source)}[/red]")
        for line in _invalid_lines(exc):
            console.print(line)
    else:
        console.print(f"[red]{escape(str(exc))}[/red]")


@contextmanager
def _store() -> Iterator[JourneyStore]:
    """A store on NEO4J_URI; a refused change (bad status, unknown id, invalid file) prints and exits 1."""
    with graph_driver(console, "the journey commands", _refused) as (settings, driver):
        yield JourneyStore(driver, settings.neo4j_database)


def _done(info: VersionInfo, what: str) -> None:
    console.print(f"{escape(info.journeyId)} v{info.version}: {what} [bold]{info.status}[/bold]")


@journey_app.command()
def push(file: FileArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Store a journey file as the journey's next draft version (unchanged files are not stored again)."""
    principal = _principal(as_, role)
    definition = _load(file)
    with _store() as store:
        info = store.push(definition, principal)
    _done(info, "pushed, now" if info.created else "unchanged (same as the latest version),")


def _print_conflicts(found: list[Conflict]) -> None:
    if not found:
        console.print("no conflicts with the live journeys")
    for c in found:
        console.print(f"  [yellow]{escape(c.kind)}[/yellow] with {escape(c.journey)}: {escape(c.detail)}")


def _review(store: JourneyStore) -> ConflictReview:
    return ConflictReview(store.driver, store.database, store.clock)


@journey_app.command()
def submit(journey_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """draft → in_review; prints (and records) the version's conflicts with the live journeys."""
    with _store() as store:
        _done(store.submit(journey_id, version, _principal(as_, role)), "now")
        _print_conflicts(_review(store).review(journey_id, version))


@journey_app.command()
def approve(journey_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin",
            require_ack: Annotated[bool, typer.Option(
                "--require-ack", help="publishing must acknowledge the conflicts (publish --ack-conflicts)")] = False,
            ) -> None:
    """in_review → approved (not by the name that pushed it); records the conflicts as seen."""
    with _store() as store:
        principal = _principal(as_, role)
        _print_conflicts(_review(store).review(journey_id, version))
        _done(store.approve(journey_id, version, principal, require_ack=require_ack), "now")


@journey_app.command()
def conflicts(journey_id: IdArg, version: VersionArg,
              days: Annotated[int, typer.Option(help="window for people shared with live journeys")] = 30) -> None:
    """A version's conflicts with the live journeys: shared triggers, shared people, channels, caps, exclusion
    groups."""
    with _store() as store:
        _print_conflicts(_review(store).compute(journey_id, version, days))


@journey_app.command()
def publish(
    journey_id: IdArg,
    version: VersionArg,
    as_: AsOpt,
    role: RoleOpt = "admin",
    migrate: Annotated[list[str] | None, typer.Option(
        help="OLD=NEW: move active enrollments at step OLD of the previous live version to step NEW")] = None,
    ack_conflicts: Annotated[bool, typer.Option("--ack-conflicts", help="acknowledge the recorded conflicts")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show who in flight would move where; change nothing")
                       ] = False,
) -> None:
    """approved or paused → published; the previous live version is archived."""
    mapping: dict[str, str] = {}
    for item in migrate or []:
        old, sep, new = item.partition("=")
        if not (sep and old.strip() and new.strip()):
            console.print(f"[red]--migrate takes OLD=NEW step ids (got {escape(item)!r})[/red]")
            raise typer.Exit(2)
        mapping[old.strip()] = new.strip()
    principal = _principal(as_, role)
    with _store() as store:
        if dry_run:
            rows = store.migration_preview(journey_id, version, mapping or None)
            if not rows:
                console.print("nobody is in flight on another live version")
            for r in rows:
                where = f"moves to v{r['toVersion']} step {r['toStep']}" if r["moves"] else \
                    f"stays on v{r['fromVersion']}"
                console.print(f"v{r['fromVersion']} {escape(r['fromStep'])}: {r['people']} people {where} "
                              f"(e.g. {escape(', '.join(map(str, r['sample'][:5])))})")
            return
        info = store.publish(journey_id, version, principal, migrate=mapping or None,
                             acknowledge_conflicts=ack_conflicts)
    _done(info, "now")


@journey_app.command()
def pause(journey_id: IdArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """The published version → paused (nobody new enters; `publish` resumes it)."""
    with _store() as store:
        _done(store.pause(journey_id, _principal(as_, role)), "now")


@journey_app.command()
def archive(journey_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Any status but archived → archived."""
    with _store() as store:
        _done(store.archive(journey_id, version, _principal(as_, role)), "now")


@journey_app.command()
def reapply(journey_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Apply the events a version failed on again, once it is fixed and published (resumed) or archived;
    each is resolved as it is applied, so running it twice does nothing twice (see `failures`)."""
    principal = _principal(as_, role)
    if not can(principal, "publish"):
        console.print(f"[red]{escape(principal.role)} may not re-apply failures (needs approver or admin)[/red]")
        raise typer.Exit(1)
    with _store() as store:
        done, again, still_open = make_engine(get_settings(), store.driver).reapply(journey_id, version,
                                                                                 by=principal.name)
    console.print(f"{escape(journey_id)} v{version}: re-applied {done}, failed again {again}, open {still_open}")
    if again:
        raise typer.Exit(1)


@journey_app.command()
def failures(journey_id: IdArg, status: Annotated[str | None, typer.Option(help="open or resolved")] = None,
             limit: Annotated[int, typer.Option(min=1)] = 100) -> None:
    """A journey's engine failures (events a version failed on), newest first."""
    with _store() as store:
        found = make_engine(get_settings(), store.driver).failures(journey_id, status, limit)
    table = Table(title=f"engine failures of {escape(journey_id)}")
    for column in ("version", "messageId", "kind", "status", "attempts", "error"):
        table.add_column(column)
    for f in found:
        table.add_row(str(f["version"]), escape(f["messageId"]), f["kind"], f["status"], str(f["attempts"] or 1),
                      escape((f["error"] or "")[:120]))
    console.print(table)


@journey_app.command("list")
def list_journeys() -> None:
    """Every journey with its latest and live versions."""
    with _store() as store:
        journeys = store.list_journeys()
    table = Table(title="journeys")
    for column in ("id", "name", "latest", "latest status", "live", "live status"):
        table.add_column(column)
    for j in journeys:
        table.add_row(escape(j.journeyId), escape(j.name), str(j.latestVersion), j.latestStatus or "",
                      str(j.liveVersion or ""), j.liveStatus or "")
    console.print(table)
