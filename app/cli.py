"""The `journeys` command: `up`, `serve`, `consume`, `schema apply`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from app.api.main import create_app
from app.channels.service import DispatchService
from app.cli_config import config_app
from app.cli_delivery import delivery_app, dispatch
from app.cli_journey import journey_app
from app.cli_measure import journey_results, measure_app
from app.cli_people import people_app
from app.cli_person import person_app
from app.cli_seed import seed_command
from app.cli_segment import segment_app
from app.cli_settings import settings_app
from app.decisions.config_store import ConfigStore
from app.decisions.samples import load_config_samples
from app.discovery import RuntimeInfo, discover, nothing_running, remove_runtime, write_runtime
from app.graph.schema import apply_schema
from app.journeys.samples import load_samples
from app.journeys.scheduler import TimerService
from app.journeys.store import JourneyStore
from app.journeys.watermark import GraphWatermark
from app.logs import configure as configure_logs
from app.measurement.relay import RelayThread, start_relay
from app.runtime import (
    ApiServer,
    build_consumer,
    connect,
    make_engine,
    make_services,
    prepare_infrastructure,
    servers,
    tune_gc_for_batches,
)
from app.settings import Settings, get_settings

app = typer.Typer(help="Graph-backed customer journey orchestration.", no_args_is_help=True)
schema_app = typer.Typer(help="The graph schema.")
app.add_typer(schema_app, name="schema")
app.add_typer(journey_app, name="journey")
app.add_typer(config_app, name="config")
app.add_typer(people_app, name="people")
app.add_typer(measure_app, name="measure")
journey_app.command("results")(journey_results)
app.add_typer(delivery_app, name="delivery")
app.command("dispatch")(dispatch)
app.add_typer(person_app, name="person")
app.add_typer(settings_app, name="settings")
app.add_typer(segment_app, name="segment")
app.command("seed")(seed_command)
console = Console()


@app.callback()
def _find_running(ctx: typer.Context) -> None:
    """Every command but `up` finds a running `journeys up` when NEO4J_URI / KAFKA_BOOTSTRAP are unset."""
    if ctx.invoked_subcommand in (None, "up"):
        return
    try:
        data_dir = get_settings().data_dir
    except ValueError:  # invalid settings: the command itself reports them
        return
    if discover(data_dir, os.environ) is not None:
        get_settings.cache_clear()  # read NEO4J_URI / KAFKA_BOOTSTRAP again


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _logging(verbose: bool) -> None:
    configure_logs(logging.DEBUG if verbose else logging.INFO)  # JOURNEYS_LOG_FORMAT=json: app/logs.py
    logging.getLogger("neo4j").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def api_bind(settings: Settings, host: str | None, port: int | None) -> tuple[str, int]:
    """Where the API listens: the CLI flags when given, else JOURNEYS_API_HOST / JOURNEYS_API_PORT."""
    return (host if host is not None else settings.api_host, port if port is not None else settings.api_port)


def _require(settings: Settings) -> tuple[str, str]:
    if not settings.neo4j_uri or not settings.kafka_bootstrap:
        console.print(f"[red]NEO4J_URI and KAFKA_BOOTSTRAP must be set (or use `journeys up`): "
                      f"{nothing_running(settings.data_dir)}[/red]")
        raise typer.Exit(2)
    return settings.neo4j_uri, settings.kafka_bootstrap


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="API host (default JOURNEYS_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="API port (default JOURNEYS_API_PORT)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Start everything: graph server and broker (unless NEO4J_URI/KAFKA_BOOTSTRAP are set), schema, API,
    consumer. Ctrl-C stops all of it."""
    _logging(verbose)
    settings = get_settings()
    stop = _stop_on_signals()
    with servers(settings) as ends:
        driver = connect(settings, ends.bolt_uri)
        services = make_services(settings, driver, ends.bootstrap)
        worker: threading.Thread | None = None
        api = None
        timers: TimerService | None = None
        dispatcher: DispatchService | None = None
        relay: RelayThread | None = None
        try:
            prepare_infrastructure(settings, driver, ends.bootstrap)
            if settings.load_samples:
                loaded = load_samples(JourneyStore(driver, settings.neo4j_database))
                console.print("sample journeys published: " + ", ".join(f"{v.journeyId} v{v.version}" for v in loaded))
                configs = load_config_samples(ConfigStore(driver, settings.neo4j_database))
                console.print("sample configuration published: " + ", ".join(v.key for v in configs))
            engine = make_engine(settings, driver)
            tune_gc_for_batches()
            consumer = build_consumer(settings, driver, ends.bootstrap, engine=engine)
            services.consumer_status = consumer.status  # /health reports the consumer (paused, systemic)
            timers = TimerService(engine, interval_s=settings.timer_interval_s,
                                  watermark=GraphWatermark.from_settings(driver, settings))
            timers.start()
            dispatcher = DispatchService(settings, driver)  # default: every channel to the log adapter
            dispatcher.start()
            if settings.measurement_relay:
                relay = start_relay(driver, settings.neo4j_database, ends.bootstrap, settings.measurement_topic,
                                    partitions=settings.topic_partitions,
                                    interval_s=settings.measurement_relay_interval_s,
                                    lease_s=settings.measurement_lease_s)
            worker = threading.Thread(target=consumer.run, args=(stop,), name="consumer", daemon=True)
            worker.start()
            bind_host, bind_port = api_bind(settings, host, port)
            api = ApiServer(services, bind_host, bind_port)
            api.start()
            write_runtime(settings.data_dir, RuntimeInfo(pid=os.getpid(), boltUri=ends.bolt_uri,
                                                         kafkaBootstrap=ends.bootstrap,
                                                         apiUrl=f"http://{bind_host}:{bind_port}"))
            _banner(settings, ends.bolt_uri, ends.bootstrap, bind_host, bind_port)
            while not stop.wait(0.5):
                if not worker.is_alive():
                    console.print("[red]consumer stopped unexpectedly; shutting down[/red]")
                    break
        finally:
            remove_runtime(settings.data_dir, os.getpid())
            stop.set()
            if timers is not None:
                timers.stop()
            if dispatcher is not None:
                dispatcher.stop()
            if relay is not None:
                relay.stop()
            if api is not None:
                api.stop()
            if worker is not None:
                worker.join(timeout=30)
            services.close()
    console.print("stopped: API, consumer, and every server this command started")


def _banner(settings: Settings, bolt: str, bootstrap: str, host: str, port: int) -> None:
    table = Table(title="journeys is up", show_header=False)
    table.add_row("HTTP API (Segment-compatible)", f"http://{host}:{port}  (docs: /docs, health: /health)")
    table.add_row("Write key", ", ".join(settings.write_keys) or "(none configured)")
    dev_keys = [k for k in settings.api_keys if k.key.startswith("dev-")]
    table.add_row("Journey API (Bearer)", ", ".join(f"{k.name} ({k.role})" for k in settings.api_keys)
                  + (f"; dev key: {dev_keys[0].key}" if dev_keys else ""))
    table.add_row("Graph (Bolt)", f"{bolt}  user {settings.neo4j_user}, database {settings.neo4j_database}")
    table.add_row("Graph explorer", f"http://{host}:{port}/explore  (Bearer key asked once)")
    table.add_row("Kafka", f"{bootstrap}  topics {settings.events_topic}, {settings.dlq_topic}")
    table.add_row("Data", str(settings.data_dir))
    console.print(table)
    console.print("Try: curl -u " + (settings.write_keys[0] if settings.write_keys else "KEY") +
                  f": -H 'content-type: application/json' -d '{{\"userId\":\"u1\",\"event\":\"Signed Up\"}}' "
                  f"http://{host}:{port}/v1/track")
    console.print("Ctrl-C stops everything.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default JOURNEYS_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default JOURNEYS_API_PORT)")] = None,
) -> None:
    """Run only the HTTP API against NEO4J_URI and KAFKA_BOOTSTRAP."""
    _logging(False)
    settings = get_settings()
    uri, bootstrap = _require(settings)
    bind_host, bind_port = api_bind(settings, host, port)
    services = make_services(settings, connect(settings, uri), bootstrap)
    try:
        uvicorn.run(create_app(services), host=bind_host, port=bind_port, log_level="info")
    finally:
        services.close()


@app.command()
def consume(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run only the ingest consumer (with the journey engine and its timers) against NEO4J_URI and
    KAFKA_BOOTSTRAP."""
    _logging(verbose)
    settings = get_settings()
    uri, bootstrap = _require(settings)
    driver = connect(settings, uri)
    timers: TimerService | None = None
    try:
        prepare_infrastructure(settings, driver, bootstrap)
        engine = make_engine(settings, driver)
        tune_gc_for_batches()
        timers = TimerService(engine, interval_s=settings.timer_interval_s,
                              watermark=GraphWatermark.from_settings(driver, settings))
        timers.start()
        build_consumer(settings, driver, bootstrap, engine=engine).run(_stop_on_signals())
    finally:
        if timers is not None:
            timers.stop()
        driver.close()


@schema_app.command("apply")
def schema_apply() -> None:
    """Apply constraints and indexes (idempotent) and record the schema version."""
    settings = get_settings()
    uri, _ = _require(settings) if settings.kafka_bootstrap else (settings.neo4j_uri, "")
    if not uri:
        console.print(f"[red]NEO4J_URI must be set: {nothing_running(settings.data_dir)}[/red]")
        raise typer.Exit(2)
    driver = connect(settings, uri)
    try:
        applied = apply_schema(driver, settings.neo4j_database)
        console.print(f"schema version {applied.version}: {applied.statements} statements from "
                      f"{', '.join(applied.files)}")
    finally:
        driver.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
