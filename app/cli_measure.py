"""`journeys measure relay|status|schema` and `journeys journey results ID` (registered in app/cli.py)."""

from __future__ import annotations

import json
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.errors import JourneysError
from app.runtime import connect
from app.settings import get_settings
from graph_models.measurements import measurement_json_schema

measure_app = typer.Typer(help="The measurement stream (outbox -> Kafka topic JOURNEYS_MEASUREMENT_TOPIC).",
                          no_args_is_help=True)
console = Console()


def _graph_uri() -> str:
    settings = get_settings()
    if not settings.neo4j_uri:
        console.print("[red]NEO4J_URI must be set (or run `journeys up` first)[/red]")
        raise typer.Exit(2)
    return settings.neo4j_uri


@measure_app.command("relay")
def relay(once: Annotated[bool, typer.Option("--once", help="publish what is pending, then exit")] = False) -> None:
    """Publish pending measurement batches to Kafka (acks=all), alone (`journeys up` runs one too)."""
    from app.cli import _logging, _stop_on_signals
    from app.measurement.relay import start_relay

    _logging(False)
    settings = get_settings()
    if not settings.kafka_bootstrap:
        console.print("[red]KAFKA_BOOTSTRAP must be set[/red]")
        raise typer.Exit(2)
    driver = connect(settings, _graph_uri())
    try:
        if once:
            from app.kafka import AckProducer, ensure_topics
            from app.measurement.relay import MeasurementRelay

            ensure_topics(settings.kafka_bootstrap, {settings.measurement_topic: settings.topic_partitions})
            producer = AckProducer(settings.kafka_bootstrap)
            try:
                done = MeasurementRelay(driver, settings.neo4j_database, producer, settings.measurement_topic).drain()
            finally:
                producer.close()
            console.print(f"published {done} measurement record(s) to {settings.measurement_topic}")
            return
        thread = start_relay(driver, settings.neo4j_database, settings.kafka_bootstrap, settings.measurement_topic,
                             partitions=settings.topic_partitions, interval_s=settings.measurement_relay_interval_s,
                             lease_s=settings.measurement_lease_s)
        stop: threading.Event = _stop_on_signals()
        stop.wait()
        thread.stop()
    finally:
        driver.close()


@measure_app.command("status")
def status() -> None:
    """Pending outbox batches and records (what the relay has not published yet)."""
    from app.measurement.relay import pending

    settings = get_settings()
    driver = connect(settings, _graph_uri())
    try:
        console.print_json(json.dumps(pending(driver, settings.neo4j_database)))
    finally:
        driver.close()


@measure_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the stream's records (journeys.measurement/v1)."""
    typer.echo(json.dumps(measurement_json_schema(), indent=2))


def journey_results(
    journey_id: Annotated[str, typer.Argument(help="journey id")],
    from_: Annotated[str | None, typer.Option("--from", help="entered at/after: epoch ms or ISO date/time")] = None,
    to: Annotated[str | None, typer.Option("--to", help="entered before: epoch ms or ISO date/time")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON answer")] = False,
) -> None:
    """Entries, messages, conversions, rates and lift (over the holdout and the global control) per goal."""
    from fastapi import HTTPException

    from app.api.results import parse_time
    from app.measurement.results import ResultsStore

    settings = get_settings()
    try:
        lo, hi = parse_time(from_, "from"), parse_time(to, "to")
    except HTTPException as exc:
        console.print(f"[red]{exc.detail['error'] if isinstance(exc.detail, dict) else exc.detail}[/red]")
        raise typer.Exit(2) from exc
    driver = connect(settings, _graph_uri())
    try:
        out = ResultsStore(driver, settings.neo4j_database).results(journey_id, lo, hi)
    except JourneysError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    finally:
        driver.close()
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    console.print(f"{journey_id}: {out['entries']} entries, {out['messages']} messages ({out['method']})")
    for goal in out["goals"]:
        table = Table(title=f"goal {goal['goalId']}: {goal['event']} within {goal['within']} after {goal['after']}")
        for col in ("group", "entries", "messages", "conversions", "rate", "lift", "95% interval"):
            table.add_column(col)
        rows = [(f"variant {v['variant']}" + (" (holdout)" if v["holdout"] else ""), v, v["liftOverHoldout"])
                for v in goal["variants"]]
        rows += [(f"step {s['stepId']}", s, None) for s in goal["steps"]]
        gc = goal["globalControl"]
        rows += [("global control", gc["control"], None), ("not in control", gc["treated"], gc["lift"])]
        for name, g, lift in rows:
            table.add_row(name, str(g["entries"]), str(g["messages"]), str(g["conversions"]), _pct(g["rate"]),
                          _pct(lift["absolute"]) if lift else "", _interval(lift["interval"]) if lift else "")
        console.print(table)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _interval(value: dict[str, float] | None) -> str:
    return "" if value is None else f"[{value['low'] * 100:.1f}%, {value['high'] * 100:.1f}%]"
