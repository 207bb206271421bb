"""Wiring: from settings to a connected driver, a consumer, an API server; used by the CLI and tests."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from neo4j import Driver

from app.api.main import create_app
from app.api.services import Services
from app.clock import Clock, SystemClock
from app.decisions.person_state import PersonStateWriter
from app.decisions.resolver import ConstraintResolver
from app.embedded import EmbeddedStack
from app.errors import RetryableError
from app.graph.driver import UNAVAILABLE, make_driver
from app.graph.event_store import EventStore
from app.graph.schema import apply_schema
from app.journeys.runtime import JourneyRuntime
from app.kafka import AckProducer, ensure_topics
from app.segments.membership import SegmentWriter
from app.settings import Settings
from consumers.ingest import BatchHook, ConsumerConfig, IngestConsumer

log = logging.getLogger("journeys")


@dataclass
class Endpoints:
    bolt_uri: str
    bootstrap: str


@contextmanager
def servers(settings: Settings) -> Iterator[Endpoints]:
    """The configured servers, or the embedded ones for whichever of NEO4J_URI/KAFKA_BOOTSTRAP is unset."""
    stack = EmbeddedStack(
        data_dir=settings.data_dir,
        password=settings.neo4j_password,
        bolt_port=settings.bolt_port,
        kafka_port=settings.kafka_port,
        http_port=settings.arcadedb_http_port,
        start_graph=settings.neo4j_uri is None,
        start_broker=settings.kafka_bootstrap is None,
    )
    with stack:
        yield Endpoints(
            bolt_uri=settings.neo4j_uri or stack.bolt_uri,
            bootstrap=settings.kafka_bootstrap or stack.kafka_bootstrap,
        )


GC_YOUNG_THRESHOLD = 50_000


def tune_gc_for_batches() -> None:
    """Garbage collection for a process that runs the consumer: a batch builds ~10^5 short-lived objects
    (rows, records, models), and with CPython's default young threshold (700 allocations) the collector runs
    hundreds of times per batch, walking the batch's live objects whenever an older generation is due. What
    start-up created is frozen (never scanned again) and the young generation is collected every 50,000
    allocations. Process-wide: called by the commands that run a consumer (and the benchmarks that time one)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


def connect(settings: Settings, uri: str, wait_s: float = 60.0) -> Driver:
    """A driver that has answered once (waits while the server is still starting)."""
    driver = make_driver(settings, uri)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            driver.verify_connectivity()
            return driver
        except UNAVAILABLE as exc:
            if time.monotonic() > deadline:
                driver.close()
                raise RetryableError(f"graph at {uri} is unreachable: {exc}", reason="graph") from exc
            time.sleep(0.5)


def prepare_infrastructure(settings: Settings, driver: Driver, bootstrap: str) -> None:
    """Schema in the graph, topics on the broker."""
    applied = apply_schema(driver, settings.neo4j_database)
    log.info("graph schema version %s (%d statements)", applied.version, applied.statements)
    ensure_topics(bootstrap, {settings.events_topic: settings.topic_partitions, settings.dlq_topic: 1})


def make_engine(settings: Settings, driver: Driver, *, clock: Clock | None = None) -> JourneyRuntime:
    """The journey engine with the constraint-aware resolver (consent, caps, quiet hours, ...)."""
    return JourneyRuntime(driver, settings.neo4j_database, clock=clock, resolver=ConstraintResolver(),
                          failure_pause_after=settings.engine_failure_pause_after)


def build_consumer(settings: Settings, driver: Driver, bootstrap: str, *, clock: Clock | None = None,
                   on_batch: BatchHook | None = None, group_id: str | None = None,
                   engine: JourneyRuntime | None = None) -> IngestConsumer:
    """The ingest consumer; with `engine`, journeys advance in the same transaction as each batch."""
    clock = clock or SystemClock()
    # Person state (consent from traits/events) first, then segment membership (app/segments), then the journey
    # engine (with the membership changes as events), in the batch's transaction.
    after_write = PersonStateWriter().hook(SegmentWriter().hook(engine.after_ingest if engine is not None else None))
    store = EventStore(driver, settings.neo4j_database, session_gap_ms=settings.session_gap_ms, clock=clock,
                       after_write=after_write)
    config = ConsumerConfig(
        bootstrap=bootstrap,
        topic=settings.events_topic,
        dlq_topic=settings.dlq_topic,
        group_id=group_id or settings.consumer_group,
        batch_size=settings.consumer_batch_size,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_ms=settings.consumer_heartbeat_ms,
        fetch_wait_ms=settings.consumer_fetch_wait_ms,
    )
    return IngestConsumer(config, store, AckProducer(bootstrap), clock=clock, on_batch=on_batch)


class ApiServer:
    """uvicorn in a background thread, stoppable."""

    def __init__(self, services: Services, host: str, port: int) -> None:
        config = uvicorn.Config(create_app(services), host=host, port=port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("API server did not start (port in use?)")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def make_services(settings: Settings, driver: Driver, bootstrap: str) -> Services:
    return Services(settings=settings, driver=driver, producer=AckProducer(bootstrap), bootstrap=bootstrap)
