"""`journeys person delete REF`: erase a person (against NEO4J_URI, or a running `journeys up`).

REF is `userId:<x>`, `anonymousId:<x>`, `personId:<x>` or a bare userId. Bad input exits 2.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from app.discovery import nothing_running
from app.privacy.erase import InvalidRef, PersonEraser
from app.runtime import connect
from app.settings import get_settings
from graph_models.principal import Principal

person_app = typer.Typer(help="Privacy: erase a person.", no_args_is_help=True)
console = Console()


@person_app.command("delete")
def delete(
    ref: Annotated[str, typer.Argument(help="userId:<x>, anonymousId:<x>, personId:<x> or a bare userId")],
    by: Annotated[str, typer.Option("--as", help="who is asking (recorded in the audit entry)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only count what would be removed")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Erase a person: identities, events, sessions, enrollments, action requests, decisions and deliveries
    are deleted, their identities tombstoned (events still in Kafka are dropped at ingest), and an audit
    entry without personal data is left."""
    if not by.strip():
        console.print("[red]--as must name who is asking[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    if not settings.neo4j_uri:
        console.print(f"[red]NEO4J_URI must be set: {escape(nothing_running(settings.data_dir))}[/red]")
        raise typer.Exit(2)
    driver = connect(settings, settings.neo4j_uri)
    try:
        eraser = PersonEraser(driver, settings.neo4j_database)
        principal = Principal(name=by.strip(), role="admin")
        preview = eraser.erase(ref, principal, dry_run=True)
        counts = ", ".join(f"{n} {k}" for k, n in preview.removed.items()) or "nothing in the graph"
        console.print(f"{escape(ref)}: {'found' if preview.found else 'no such person'}; would remove {counts}; "
                      f"{preview.tombstones} identity key(s) to tombstone")
        if dry_run:
            return
        if not yes and not typer.confirm("Erase for good?", default=False):
            raise typer.Exit(1)
        done = eraser.erase(ref, principal)
    except InvalidRef as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    finally:
        driver.close()
    console.print(f"erased {escape(ref)}: audit entry {done.auditId} (subject {done.subjectHash or '-'}), "
                  f"{done.tombstones} identity key(s) tombstoned")
