"""At most one live enrollment per person and journey: under concurrent writers, and enforced by the graph."""

from __future__ import annotations

import threading

import pytest
from neo4j import Driver
from neo4j.exceptions import ConstraintError

from app.clock import FakeClock
from app.graph.event_store import EventStore
from app.graph.queries import query
from app.intake.normalize import prepare, validate
from app.journeys.runtime import JourneyRuntime
from app.settings import Settings
from tests.integration.journey_support import publish
from tests.integration.support import rows, scalar

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000


def event(mid: str, user: str, name: str, second: int) -> object:
    raw = {"type": "track", "messageId": mid, "userId": user, "event": name,
           "timestamp": f"2026-03-01T10:00:{second:02d}Z", "properties": {"cart_id": mid}}
    return validate(prepare(raw, received_at_ms=START_MS, default_message_id=mid))


def store(settings: Settings, graph: Driver, clock: FakeClock) -> EventStore:
    engine = JourneyRuntime(graph, settings.neo4j_database, clock=clock)
    return EventStore(graph, settings.neo4j_database, session_gap_ms=1_800_000, clock=clock,
                      after_write=engine.after_ingest)


def test_two_writers_enrolling_the_same_people_in_one_journey_leave_one_live_enrollment(
        settings: Settings, graph: Driver) -> None:
    clock = FakeClock(START_MS)
    publish(graph, settings, "abandoned_cart.yaml", clock)
    users = [f"racer-{i}" for i in range(12)]
    store(settings, graph, clock).write([event(f"seen-{u}", u, "Page Viewed", 0) for u in users])  # type: ignore[misc]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(side: str) -> None:
        mine = store(settings, graph, clock)
        try:
            for round_ in range(3):
                barrier.wait(timeout=60)
                mine.write([event(f"{side}-{round_}-{u}", u, "Product Added", 1 + round_) for u in users])  # type: ignore[misc]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(side,)) for side in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert errors == []
    live = rows(graph, settings, """
        MATCH (p:Person)-[:ENROLLED]->(en:Enrollment {journeyId: 'abandoned-cart'})
        WHERE en.status = 'active'
        RETURN p.userId AS user, count(en) AS live, collect(en.liveKey) AS keys ORDER BY user""")
    assert [(r["user"], r["live"]) for r in live] == [(u, 1) for u in sorted(users)]
    assert all(r["keys"][0].endswith("|abandoned-cart") for r in live)
    assert scalar(graph, settings, "MATCH (en:Enrollment) RETURN count(en)") == len(users)
    assert scalar(graph, settings, "MATCH (e:Event) RETURN count(e)") == len(users) * 7


def test_the_graph_refuses_a_second_live_enrollment_and_allows_many_ended_ones(settings: Settings,
                                                                               graph: Driver) -> None:
    clock = FakeClock(START_MS)
    publish(graph, settings, "abandoned_cart.yaml", clock)
    store(settings, graph, clock).write([event("first", "kim", "Product Added", 0)])  # type: ignore[list-item]
    person = scalar(graph, settings, "MATCH (p:Person {userId: 'kim'}) RETURN p.personId")
    step = scalar(graph, settings, "MATCH (s:Step {key: 'abandoned-cart@1/wait_for_order'}) RETURN s.key")
    row = {"personId": person, "versionKey": "abandoned-cart@1", "stepKey": step,
           "props": {"enrollmentId": "abandoned-cart@1/forged", "journeyId": "abandoned-cart", "version": 1,
                     "personId": person, "status": "active", "stepId": "wait_for_order", "enteredAtMs": START_MS}}
    with pytest.raises(ConstraintError):
        graph.execute_query(query("journeys/engine_create_enrollments"), rows=[row],
                            database_=settings.neo4j_database)
    # Ended enrollments carry no liveKey: any number of them (unique index with absent values).
    ended = [{**row, "props": {**row["props"], "enrollmentId": f"abandoned-cart@1/ended-{i}", "status": "exited"}}
             for i in range(3)]
    graph.execute_query(query("journeys/engine_create_enrollments"), rows=ended, database_=settings.neo4j_database)
    graph.execute_query("MATCH (en:Enrollment) WHERE en.enrollmentId STARTS WITH 'abandoned-cart@1/ended-' "
                        "SET en.liveKey = null", database_=settings.neo4j_database)
    assert scalar(graph, settings, "MATCH (en:Enrollment) WHERE en.liveKey IS NULL RETURN count(en)") == 3
    assert scalar(graph, settings, "MATCH (en:Enrollment) WHERE en.liveKey IS NOT NULL RETURN count(en)") == 1
