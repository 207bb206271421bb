"""The timer cursor never passes over a timer, whatever commits while a sweep runs (real server)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from neo4j import Driver

from app.clock import FakeClock
from app.graph.event_store import EventStore
from app.graph.queries import query
from app.intake.normalize import decode
from app.journeys.runtime import JourneyRuntime
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from tests.integration.journey_support import publish
from tests.integration.support import rows, scalar

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
MINUTE = 60_000

NUDGE = JourneyDefinition.model_validate({
    "id": "nudge", "name": "Nudge a minute after sign-up", "entry": {"event": "Signed Up"}, "start": "pause",
    "steps": [
        {"id": "pause", "type": "wait", "duration": "1m", "next": "nudge"},
        {"id": "nudge", "type": "action", "channel": "email", "template": "welcome_email", "next": "done"},
        {"id": "done", "type": "end"},
    ],
})


def signed_up(user: str, at_ms: int) -> Any:
    body = {"type": "track", "event": "Signed Up", "userId": user, "messageId": f"su-{user}",
            "timestamp": dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).isoformat()}
    return decode(json.dumps(body).encode(), received_at_ms=at_ms)


class IngestBeforeAdvance:
    """The engine's driver, except that `ingest` commits just before the sweep's cursor move."""

    def __init__(self, driver: Driver, ingest: Callable[[], object]) -> None:
        self._driver = driver
        self._ingest = ingest

    def execute_query(self, text: str, *args: Any, **kwargs: Any) -> Any:
        if text == query("journeys/engine_advance_cursor"):
            self._ingest()
        return self._driver.execute_query(text, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


def steps(driver: Driver, settings: Settings) -> dict[str, str]:
    return {r["userId"]: r["step"] for r in rows(driver, settings, """
        MATCH (p:Person)-[:ENROLLED]->(en:Enrollment) RETURN p.userId AS userId, en.stepId AS step""")}


def cursor(driver: Driver, settings: Settings) -> dict[str, Any]:
    return rows(driver, settings, "MATCH (c:TimerCursor {id: 'journeys'}) RETURN properties(c) AS c")[0]["c"]


def test_a_timer_committed_behind_a_running_sweep_still_fires(settings: Settings, graph: Driver) -> None:
    clock = FakeClock(START_MS)
    publish(graph, settings, NUDGE, clock)
    engine = JourneyRuntime(graph, settings.neo4j_database, clock=clock)
    store = EventStore(graph, settings.neo4j_database, session_gap_ms=settings.session_gap_ms, clock=clock,
                       after_write=engine.after_ingest)
    # An old timer puts the cursor an hour back.
    store.write([signed_up("early", START_MS - 60 * MINUTE)])
    assert cursor(graph, settings)["bucket"] == (START_MS - 59 * MINUTE) // MINUTE

    # Interleave: the sweep reads the buckets and fires "early", then an ingest transaction commits a timer
    # due 29 minutes ago (a bucket between the cursor and now), then the sweep moves the cursor.
    engine.driver = IngestBeforeAdvance(graph, lambda: store.write([signed_up("late", START_MS - 30 * MINUTE)]))
    assert engine.fire_due(now_ms=START_MS) == 1  # "early" fired
    engine.driver = graph
    assert steps(graph, settings) == {"early": "done", "late": "pause"}

    # The next tick (a minute later) must still find "late", due 29 minutes before the first sweep.
    clock.advance(minutes=1)
    assert engine.fire_due() == 1
    assert steps(graph, settings) == {"early": "done", "late": "done"}
    assert scalar(graph, settings, "MATCH (a:ActionRequest) RETURN count(a)") == 2
    assert engine.fire_due() == 0  # once only


def test_timers_ahead_of_every_sweep_do_not_write_the_cursor(settings: Settings, graph: Driver) -> None:
    """The usual case (a timer in the future) leaves the cursor untouched: no contention between consumers."""
    clock = FakeClock(START_MS)
    publish(graph, settings, NUDGE, clock)
    engine = JourneyRuntime(graph, settings.neo4j_database, clock=clock)
    store = EventStore(graph, settings.neo4j_database, session_gap_ms=settings.session_gap_ms, clock=clock,
                       after_write=engine.after_ingest)
    store.write([signed_up("first", START_MS)])
    engine.fire_due()  # a sweep has announced how far it goes
    before = cursor(graph, settings)
    store.write([signed_up("later", START_MS + 60 * MINUTE)])
    after = cursor(graph, settings)
    assert after.get("version") == before.get("version") and after["bucket"] == before["bucket"]
