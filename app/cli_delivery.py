"""`journeys delivery ...`: kill switches (pause/resume a channel or an adapter, audited), a delivery with its
attempts, the dead-letter list, retry of a dead delivery; and `journeys dispatch` (the dispatcher alone)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.channels.control import DeliveryControl, Target
from app.channels.service import DispatchService
from app.cli_graph import graph_driver
from app.clock import to_iso
from app.discovery import nothing_running
from app.errors import JourneysError
from app.runtime import connect
from app.settings import get_settings
from graph_models.principal import ROLES, Principal

delivery_app = typer.Typer(help="Deliveries: kill switches, dead letters, retries.", no_args_is_help=True)
console = Console()

AsOpt = Annotated[str, typer.Option("--as", help="who is acting (recorded in the audit trail)")]
RoleOpt = Annotated[str, typer.Option("--role", help=f"the acting role: {', '.join(ROLES)}")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="a channel id (email, sms, push, ...)")]
AdapterOpt = Annotated[str | None, typer.Option("--adapter", help="an adapter name (webhook, smtp, kafka, log)")]


def _principal(name: str, role: str) -> Principal:
    if role not in ROLES or not name.strip():
        console.print(f"[red]--as must name who is acting and --role be one of {', '.join(ROLES)}[/red]")
        raise typer.Exit(2)
    return Principal(name=name.strip(), role=role)  # checked against ROLES above


@contextmanager
def _control() -> Iterator[DeliveryControl]:
    with graph_driver(console, "the delivery commands") as (settings, driver):
        yield DeliveryControl(driver, settings.neo4j_database)


def _switch(channel: str | None, adapter: str | None, as_: str, role: str, paused: bool) -> None:
    if (channel is None) == (adapter is None):
        console.print("[red]give exactly one of --channel or --adapter[/red]")
        raise typer.Exit(2)
    target: Target = "channel" if channel is not None else "adapter"
    name = channel if channel is not None else adapter
    assert name is not None
    with _control() as control:
        state = control.set_paused(target, name, paused, _principal(as_, role))
    console.print(f"{state.target} {escape(state.name)}: [bold]{'paused' if state.paused else 'resumed'}[/bold]")


@delivery_app.command()
def pause(as_: AsOpt, channel: ChannelOpt = None, adapter: AdapterOpt = None, role: RoleOpt = "admin") -> None:
    """Kill switch: hold every delivery of a channel or an adapter (nothing is dropped)."""
    _switch(channel, adapter, as_, role, True)


@delivery_app.command()
def resume(as_: AsOpt, channel: ChannelOpt = None, adapter: AdapterOpt = None, role: RoleOpt = "admin") -> None:
    """Lift a kill switch; held deliveries go out at their next look."""
    _switch(channel, adapter, as_, role, False)


@delivery_app.command()
def show(delivery_id: Annotated[str, typer.Argument(help="delivery id")]) -> None:
    """A delivery with its attempts and callback events, as JSON."""
    with _control() as control:
        found: dict[str, Any] = control.get(delivery_id)
    typer.echo(json.dumps(found, indent=2, sort_keys=True, default=str))


@delivery_app.command()
def dead(limit: Annotated[int, typer.Option(min=1, max=500)] = 50) -> None:
    """The dead-letter list, newest first."""
    with _control() as control:
        rows = control.dead(limit)
    table = Table("deliveryId", "channel", "journey", "dead at", "attempts", "reason")
    for r in rows:
        table.add_row(str(r.get("deliveryId")), str(r.get("channel")), f"{r.get('journeyId')}@{r.get('version')}",
                      to_iso(int(r["deadAtMs"])) if r.get("deadAtMs") else "", str(r.get("attempts")),
                      escape(str(r.get("deadReason") or "")))
    console.print(table)


@delivery_app.command()
def retry(delivery_id: Annotated[str, typer.Argument(help="delivery id")], as_: AsOpt,
          role: RoleOpt = "admin") -> None:
    """A dead delivery back to pending (due now, attempts reset)."""
    with _control() as control:
        status = control.retry(delivery_id, _principal(as_, role))
    console.print(f"{escape(delivery_id)}: [bold]{status}[/bold]")


def dispatch(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run only the delivery dispatcher against NEO4J_URI (any number may run at once)."""
    from app.cli import _stop_on_signals  # the CLI's signal handling (imported late: no cycle)

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if not settings.neo4j_uri:
        console.print(f"[red]NEO4J_URI must be set: {escape(nothing_running(settings.data_dir))}[/red]")
        raise typer.Exit(2)
    driver = connect(settings, settings.neo4j_uri)
    try:
        try:
            service = DispatchService(settings, driver)
        except JourneysError as exc:
            console.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(2) from exc
        console.print(f"dispatching ({escape(service.describe())}) as {service.dispatcher.name}; Ctrl-C stops")
        service.run(_stop_on_signals())
    finally:
        driver.close()
