"""`journeys seed`: a deterministic demo graph for the analysis notebooks (see app/seed.py)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from app.graph.queries import query
from app.graph.schema import apply_schema
from app.kafka import ensure_topics
from app.runtime import connect, servers
from app.seed import graph_is_empty, seed_graph
from app.settings import get_settings

console = Console()


def seed_command(
    seed: Annotated[int, typer.Option(help="random seed: the same seed and people give the same graph")] = 7,
    people: Annotated[int, typer.Option(min=4, max=5000, help="how many people")] = 40,
    wipe: Annotated[bool, typer.Option("--wipe", help="delete everything in the graph first (schema kept)")] = False,
    dispatch: Annotated[bool, typer.Option(help="one dispatcher pass with the log adapter mid-week")] = True,
    serve: Annotated[bool, typer.Option("--serve", help="keep the embedded servers running afterwards "
                                                         "(for the notebooks) until Ctrl-C")] = False,
) -> None:
    """Seed people, events, live journeys, decisions and deliveries through Kafka, the consumer, the engine and
    the resolver, on a simulated clock (2026-03-02 to 2026-03-10). Uses NEO4J_URI / KAFKA_BOOTSTRAP, a running
    `journeys up`, or starts the embedded servers itself. Refuses a graph that holds people or events unless
    --wipe."""
    settings = get_settings()
    with servers(settings) as ends:
        s = settings.model_copy(update={"neo4j_uri": ends.bolt_uri, "kafka_bootstrap": ends.bootstrap})
        driver = connect(s, ends.bolt_uri)
        try:
            apply_schema(driver, s.neo4j_database)
            ensure_topics(ends.bootstrap, {s.events_topic: s.topic_partitions, s.dlq_topic: 1})
            if not graph_is_empty(driver, s.neo4j_database):
                if not wipe:
                    console.print("[red]the graph already holds people or events: pass --wipe to delete "
                                  "everything first (schema kept)[/red]")
                    raise typer.Exit(1)
                while driver.execute_query(query("analysis/seed_wipe"), database_=s.neo4j_database
                                           ).records[0]["deleted"]:
                    pass
            report = seed_graph(s, driver, seed=seed, people=people, dispatch=dispatch, log=console.print)
        finally:
            driver.close()
        console.print(f"seeded in {report.seconds}s: {report.events} events; "
                      + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
        console.print(f"deliveries handled by the dispatcher pass: {report.dispatched}; "
                      f"fingerprint {report.fingerprint[:16]}")
        if serve or settings.neo4j_uri:
            console.print(f"notebooks: NEO4J_URI={ends.bolt_uri} jupyter lab notebooks/")
        if serve:
            stop = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            console.print("serving the graph; Ctrl-C stops")
            stop.wait()
