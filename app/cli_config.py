"""`journeys config ...`: lint and validate constraint and placement documents, and (against NEO4J_URI) push,
submit, approve, publish, archive, list and show their versions.

KIND is `constraints` or `placements`. As with `journeys journey`, `--as` names who is acting and `--role`
(admin by default) their role; a version is never approved by the name that pushed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli_graph import graph_driver
from app.cli_journey import _principal
from app.cli_report import print_findings
from app.decisions.config_lint import (
    ERROR,
    ConfigInvalid,
    ConfigIssue,
    checked_config,
    config_kind,
    file_form,
    lint_config,
    load_config,
)
from app.decisions.config_store import ConfigStore
from app.errors import JourneysError
from app.journeys.catalog import default_catalog
from app.journeys.loader import JourneyInvalid, example_paths, load_definition
from graph_models.config_store import ConfigVersionInfo
from graph_models.constraints import CONFIG_KINDS, ConfigModel
from graph_models.principal import ROLES

config_app = typer.Typer(help="Constraint and placement documents: lint, validate, push, review, publish.",
                         no_args_is_help=True)
console = Console()

KindArg = Annotated[str, typer.Argument(help=f"document kind: {' or '.join(CONFIG_KINDS)}")]
FilesArg = Annotated[list[Path], typer.Argument(help="documents (YAML or JSON)", exists=True, dir_okay=False)]
FileArg = Annotated[Path, typer.Argument(help="a document (YAML or JSON)", exists=True, dir_okay=False)]
IdArg = Annotated[str, typer.Argument(help="document id (the file's `id`, usually default)")]
VersionArg = Annotated[int, typer.Argument(help="version number")]
AsOpt = Annotated[str, typer.Option("--as", help="who is acting (recorded in the audit trail)")]
RoleOpt = Annotated[str, typer.Option("--role", help=f"the acting role: {', '.join(ROLES)}")]


def _kind(kind: str) -> str:
    try:
        return config_kind(kind)
    except ConfigInvalid as exc:
        console.print(f"[red]KIND must be one of {', '.join(CONFIG_KINDS)} (got {escape(kind)!r})[/red]")
        raise typer.Exit(2) from exc


def _issue_line(issue: ConfigIssue) -> str:
    colour = "red" if issue.severity == ERROR else "yellow"
    return (f"  [{colour}]{issue.severity}[/{colour}] {escape(issue.code)} {escape(issue.path)}: "
            f"{escape(issue.message)}")


def _invalid_lines(exc: ConfigInvalid) -> list[str]:
    if exc.lint_issues:
        return [_issue_line(issue) for issue in exc.lint_issues]
    return [f"  [red]error[/red] {escape(exc.reason)}: {escape(issue)}" for issue in exc.issues]


def _print_invalid(header: str, exc: ConfigInvalid) -> None:
    console.print(header)
    for line in _invalid_lines(exc):
        console.print(line)


def sample_journey_ids() -> set[str]:
    """The ids of the example journeys: what an offline lint checks journey names against."""
    ids: set[str] = set()
    for path in example_paths():
        try:
            ids.add(load_definition(path).id)
        except JourneyInvalid:
            continue
    return ids


@config_app.command("lint")
def lint_files(kind: KindArg, files: FilesArg) -> None:
    """Print every problem (errors and warnings) in each file; exit 1 if any file has an error. Journey names
    are checked against the example journeys (push checks them against the graph)."""
    kind = _kind(kind)
    catalog, journeys = default_catalog(), sample_journey_ids()
    failed = False
    for path in files:
        try:
            model = load_config(kind, path)
        except ConfigInvalid as exc:
            failed = True
            _print_invalid(f"[bold]{escape(str(path))}[/bold]: [red]invalid[/red]", exc)
            continue
        issues = lint_config(kind, model, catalog, journeys)
        failed = print_findings(console, path, issues, _issue_line, ERROR) or failed
    if failed:
        raise typer.Exit(1)


@config_app.command()
def validate(kind: KindArg, files: FilesArg) -> None:
    """Parse and lint each file (warnings allowed); exit 1 unless every file could be pushed."""
    kind = _kind(kind)
    catalog, journeys = default_catalog(), sample_journey_ids()
    failed = False
    for path in files:
        try:
            model = load_config(kind, path)
            checked_config(kind, model, catalog, journeys, source=str(path))
        except ConfigInvalid as exc:
            failed = True
            _print_invalid(f"[red]✗[/red] {escape(str(path))}", exc)
            continue
        console.print(f"[green]✓[/green] {escape(str(path))} ({kind}/{escape(model.id)})")
    if failed:
        raise typer.Exit(1)


def _load(kind: str, path: Path) -> ConfigModel:
    try:
        return load_config(kind, path)
    except ConfigInvalid as exc:
        _print_invalid(f"[bold]{escape(str(path))}[/bold]: [red]invalid[/red]", exc)
        raise typer.Exit(1) from exc


@contextmanager
def _store() -> Iterator[ConfigStore]:
    """A store on NEO4J_URI; a refused change (bad status, unknown id, invalid file) prints and exits 1."""
    def refused(exc: JourneysError) -> None:
        if isinstance(exc, ConfigInvalid):
            _print_invalid(f"[red]invalid {escape(exc.kind)} document {escape(exc.source)}[/red]", exc)
        else:
            console.print(f"[red]{escape(str(exc))}[/red]")

    with graph_driver(console, "the config commands", refused) as (settings, driver):
        yield ConfigStore(driver, settings.neo4j_database)


def _done(info: ConfigVersionInfo, what: str) -> None:
    console.print(f"{escape(info.key)}: {what} [bold]{info.status}[/bold]")


@config_app.command()
def push(kind: KindArg, file: FileArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Store a document as its next draft version (an unchanged document is not stored again)."""
    kind = _kind(kind)
    principal = _principal(as_, role)
    model = _load(kind, file)
    with _store() as store:
        info = store.push(kind, model, principal)
    _done(info, "pushed, now" if info.created else "unchanged (same as the latest version),")


@config_app.command()
def submit(kind: KindArg, config_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """draft → in_review."""
    kind = _kind(kind)
    with _store() as store:
        _done(store.submit(kind, config_id, version, _principal(as_, role)), "now")


@config_app.command()
def approve(kind: KindArg, config_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """in_review → approved (not by the name that pushed it)."""
    kind = _kind(kind)
    with _store() as store:
        _done(store.approve(kind, config_id, version, _principal(as_, role)), "now")


@config_app.command()
def publish(kind: KindArg, config_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """approved → published; the previously published version is archived."""
    kind = _kind(kind)
    with _store() as store:
        _done(store.publish(kind, config_id, version, _principal(as_, role)), "now")


@config_app.command()
def archive(kind: KindArg, config_id: IdArg, version: VersionArg, as_: AsOpt, role: RoleOpt = "admin") -> None:
    """Any status but archived → archived (archiving the published version leaves the defaults in force)."""
    kind = _kind(kind)
    with _store() as store:
        _done(store.archive(kind, config_id, version, _principal(as_, role)), "now")


@config_app.command("list")
def list_documents(kind: Annotated[str | None, typer.Argument(help="only this kind")] = None) -> None:
    """Every document with its latest and published versions."""
    checked = _kind(kind) if kind is not None else None
    with _store() as store:
        documents = store.list_documents(checked)
    table = Table(title="configuration documents")
    for column in ("kind", "id", "latest", "latest status", "published"):
        table.add_column(column)
    for d in documents:
        table.add_row(d.kind, escape(d.id), str(d.latestVersion), d.latestStatus or "",
                      str(d.publishedVersion or ""))
    console.print(table)


@config_app.command()
def show(
    kind: KindArg,
    config_id: IdArg,
    version: Annotated[int | None, typer.Option(help="print this version's document (YAML) instead")] = None,
) -> None:
    """A document's versions and recent audit entries, or with --version one version's content."""
    kind = _kind(kind)
    with _store() as store:
        if version is not None:
            model = store.definition(kind, config_id, version)
            typer.echo(yaml.safe_dump(file_form(model), sort_keys=False, allow_unicode=True), nl=False)
            return
        detail = store.get(kind, config_id)
    table = Table(title=f"{kind}/{config_id} (published: {detail.publishedVersion or 'none'})")
    for column in ("version", "status", "author", "approved by", "published by", "checksum"):
        table.add_column(column)
    for v in detail.versions:
        table.add_row(str(v.version), v.status, escape(v.author or ""), escape(v.approvedBy or ""),
                      escape(v.publishedBy or ""), v.checksum[:12])
    console.print(table)
    for entry in detail.audit:
        console.print(f"  v{entry.version} {entry.action} by {escape(entry.principal)} ({entry.role}) at {entry.atMs}")
