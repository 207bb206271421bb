"""Scenario harness: publish journeys, run the consumer with the engine, fire timers on a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neo4j import Driver

from app.clock import FakeClock
from app.journeys.loader import load_definition
from app.journeys.runtime import JourneyRuntime
from app.journeys.store import JourneyStore
from app.journeys.watermark import GraphWatermark
from app.runtime import build_consumer, make_engine
from app.settings import Settings
from consumers.ingest import IngestConsumer
from graph_models.journey import JourneyDefinition
from graph_models.principal import Principal
from tests.conftest import wait_until
from tests.integration.support import produce_events, rows

AUTHOR = Principal(name="ada", role="author")
APPROVER = Principal(name="grace", role="approver")
EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "journeys" / "examples"


def publish(driver: Driver, settings: Settings, definition: JourneyDefinition | str, clock: FakeClock) -> int:
    """Push, submit, approve (by someone else) and publish; returns the version."""
    defn = load_definition(EXAMPLES / definition) if isinstance(definition, str) else definition
    store = JourneyStore(driver, settings.neo4j_database, clock=clock)
    info = store.push(defn, AUTHOR)
    store.submit(defn.id, info.version, AUTHOR)
    store.approve(defn.id, info.version, APPROVER)
    store.publish(defn.id, info.version, APPROVER)
    return info.version


@dataclass
class Harness:
    settings: Settings
    driver: Driver
    clock: FakeClock
    engine: JourneyRuntime
    consumer: IngestConsumer
    watermark: GraphWatermark
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start_consumer(self) -> None:
        """Start (or restart, in the same group) the consumer; on restart it reads from the committed offsets."""
        if self._thread is not None:
            return
        if self._stop.is_set():  # a stopped consumer is closed: build a new one (same group)
            self.consumer = build_consumer(self.settings, self.driver, self.settings.kafka_bootstrap or "",
                                           clock=self.clock, engine=self.engine)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.consumer.run, args=(self._stop,), daemon=True)
        self._thread.start()

    def stop_consumer(self) -> None:
        """Stop the consumer (it leaves the group); messages produced meanwhile wait in Kafka."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None

    def caught_up(self) -> None:
        """Wait until the consumer has been idle (caught up) on every partition at the clock's current time."""
        now = self.clock.now_ms()
        wait_until(lambda: (self.watermark.read().idle_since() or now - 1) >= now)

    def send(self, *events: dict[str, Any]) -> None:
        before = self.consumer.stats.consumed
        produce_events(self.settings, list(events))
        wait_until(lambda: self.consumer.stats.consumed >= before + len(events))

    def advance(self, **delta: float) -> int:
        """Move the clock, wait until the consumer has caught up at the new time (so the event-time
        watermark has reached it, as in production), then fire whatever timers are now due under it."""
        self.clock.advance(**delta)
        self.caught_up()
        return self.engine.fire_due(now_ms=self.clock.now_ms(), watermark=self.watermark)

    def enrollments(self, journey_id: str | None = None) -> list[dict[str, Any]]:
        return rows(self.driver, self.settings, """
            MATCH (p:Person)-[:ENROLLED]->(en:Enrollment)
            WHERE $journeyId IS NULL OR en.journeyId = $journeyId
            RETURN p.userId AS userId, en.journeyId AS journey, en.status AS status, en.stepId AS step,
                   en.exitReason AS reason, en.variant AS variant, en.enrollmentId AS id
            ORDER BY en.enteredAtMs, en.enrollmentId""", journeyId=journey_id)

    def actions(self) -> list[dict[str, Any]]:
        return rows(self.driver, self.settings, """
            MATCH (a:ActionRequest)-[:FOR]->(p:Person)
            RETURN p.userId AS userId, a.channel AS channel, a.template AS template, a.atMs AS atMs,
                   a.status AS status ORDER BY a.atMs, a.actionId""")


@contextmanager
def harness(settings: Settings, driver: Driver, clock: FakeClock) -> Iterator[Harness]:
    engine = make_engine(settings, driver, clock=clock)
    consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", clock=clock, engine=engine)
    h = Harness(settings, driver, clock, engine, consumer, GraphWatermark.from_settings(driver, settings))
    h.start_consumer()
    try:
        yield h
    finally:
        h.stop_consumer()


def canonical_journey_state(driver: Driver, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Enrollments, visits and actions without generated person ids (replay comparisons)."""
    enrollments = rows(driver, settings, """
        MATCH (p:Person)-[:ENROLLED]->(en:Enrollment)-[:AT]->(s:Step)
        RETURN p.personId AS person, p.userId AS userId, en.enrollmentId AS id, en.status AS status, en.stepId AS step,
               s.key AS stepKey, en.variant AS variant, en.exitReason AS reason, en.enteredAtMs AS entered,
               en.wakeAtMs AS wake, en.endedAtMs AS ended, en.seq AS seq
        ORDER BY id""")
    visits = rows(driver, settings, """
        MATCH (en:Enrollment)-[v:VISITED]->(s:Step)
        RETURN en.enrollmentId AS id, v.seq AS seq, s.stepId AS step, v.path AS path, v.trigger AS trigger,
               v.atMs AS at, v.detail AS detail
        ORDER BY id, seq""")
    actions = rows(driver, settings, """
        MATCH (a:ActionRequest)
        RETURN a.actionId AS id, a.channel AS channel, a.template AS template, a.atMs AS at, a.status AS status
        ORDER BY id""")
    return {"enrollments": enrollments, "visits": visits, "actions": actions}
