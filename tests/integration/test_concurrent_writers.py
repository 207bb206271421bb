"""Several consumers (a scaled-out group) write the same new people at the same moment."""

from __future__ import annotations

import threading

import pytest
from neo4j import Driver

from app.graph.event_store import EventStore
from app.intake.normalize import prepare, validate
from app.settings import Settings
from tests.integration.support import scalar

pytestmark = pytest.mark.integration


def event(mid: str, user: str, minute: int) -> object:
    raw = {"type": "track", "messageId": mid, "userId": user, "event": "Clicked",
           "timestamp": f"2026-03-01T10:{minute:02d}:00Z"}
    return validate(prepare(raw, received_at_ms=1_772_359_200_000, default_message_id=mid))


def test_concurrent_batches_creating_the_same_people_all_land_once(settings: Settings, graph: Driver) -> None:
    users = [f"racer-{i}" for i in range(30)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer(side: str) -> None:
        store = EventStore(graph, settings.neo4j_database, session_gap_ms=1_800_000)
        try:
            for round_ in range(3):
                batch = [event(f"{side}-{round_}-{u}", u, round_) for u in users]
                barrier.wait(timeout=30)
                store.write(batch)  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(side,)) for side in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert scalar(graph, settings, "MATCH (e:Event) RETURN count(e)") == 2 * 3 * len(users)
    assert scalar(graph, settings, "MATCH (p:Person) RETURN count(p)") == len(users)
    assert scalar(graph, settings, "MATCH (i:Identity) RETURN count(i)") == len(users)
    assert scalar(graph, settings, "MATCH (p:Person)-[r:PERFORMED]->() RETURN count(r)") == 2 * 3 * len(users)
    assert scalar(graph, settings, "MATCH (s:Session) RETURN count(s)") == len(users)
