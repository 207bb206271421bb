"""`journeys people ...`: set consent, suppress and unsuppress people, show a person's consent (against NEO4J_URI).

REF is `userId:<x>`, `anonymousId:<x>`, `personId:<x>` or a bare userId. Bad input exits 2, an unknown
person 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli_graph import graph_driver
from app.decisions.person_state import (
    InvalidPersonState,
    PersonStateStore,
    check_channel,
    check_list_id,
    check_reason,
    check_status,
)

people_app = typer.Typer(help="Person state: consent per channel and suppression lists.", no_args_is_help=True)
console = Console()

RefArg = Annotated[str, typer.Argument(help="userId:<x>, anonymousId:<x>, personId:<x> or a bare userId")]
ListArg = Annotated[str, typer.Argument(help="suppression list id, e.g. hard-bounces")]


def _check(check: Callable[[Any], str], value: Any) -> None:
    """Exit 2 with the field's message when `check` refuses `value`."""
    try:
        check(value)
    except InvalidPersonState as exc:
        console.print(f"[red]{escape(exc.field)}: {escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc


@contextmanager
def _store() -> Iterator[PersonStateStore]:
    """A store on NEO4J_URI; an unknown person prints and exits 1."""
    with graph_driver(console, "the people commands") as (settings, driver):
        yield PersonStateStore(driver, settings.neo4j_database)


@people_app.command()
def consent(
    ref: RefArg,
    channel: Annotated[str, typer.Argument(help="email, sms, push, webhook, in_app or crm")],
    status: Annotated[str, typer.Argument(help="opted_in or opted_out")],
    marketing_only: Annotated[bool, typer.Option("--marketing-only", help="opt out of marketing only")] = False,
) -> None:
    """Set a person's consent on a channel now (source `api`)."""
    _check(check_channel, channel)
    _check(check_status, status)
    with _store() as store:
        stored = store.set_consent(ref, channel, status, marketing_only=marketing_only)
    extra = " (marketing only)" if stored.marketingOnly else ""
    console.print(f"{escape(ref)}: {stored.channel} [bold]{stored.status}[/bold]{extra}")


@people_app.command()
def suppress(
    list_id: ListArg,
    refs: Annotated[list[str], typer.Argument(help="one or more person refs")],
    reason: Annotated[str, typer.Option("--reason", help="why (recorded on the edge)")],
) -> None:
    """Put people on a suppression list; exits 1 when any ref matches nobody (the others are written)."""
    _check(check_list_id, list_id)
    _check(check_reason, reason)
    with _store() as store:
        done = store.suppress(list_id, refs, reason)
    for ref in done.suppressed:
        console.print(f"{escape(ref)}: on [bold]{escape(list_id)}[/bold]")
    for ref in done.missing:
        console.print(f"[red]{escape(ref)}: no such person[/red]")
    if done.missing:
        raise typer.Exit(1)


@people_app.command()
def unsuppress(list_id: ListArg, ref: RefArg) -> None:
    """Take a person off a suppression list."""
    _check(check_list_id, list_id)
    with _store() as store:
        removed = store.unsuppress(list_id, ref)
    console.print(f"{escape(ref)}: {'removed from' if removed else 'was not on'} {escape(list_id)}")


@people_app.command()
def show(ref: RefArg) -> None:
    """A person's consent per channel and the lists they are on."""
    with _store() as store:
        found = store.consent(ref)
    table = Table(title=f"{found.userId or found.personId}")
    for column in ("channel", "status", "marketing only", "source", "atMs"):
        table.add_column(column)
    for c in found.channels:
        table.add_row(c.channel, c.status, "yes" if c.marketingOnly else "", escape(c.source or ""),
                      "" if c.atMs is None else str(c.atMs))
    console.print(table)
    for s in found.suppressions:
        console.print(f"suppressed on [bold]{escape(s.listId)}[/bold]: {escape(s.reason or '')}")
