"""Several copies against one graph: two consumers in one group and two timer services fire each timer once.

As in docs/deploy.md: every `journeys consume` process runs an ingest consumer (partitions of the events topic
shared by the group) and a timer service; the timer services coordinate through the graph (the TimerCursor
sweep lock and watermark, and each enrollment's own write), so no enrollment moves twice.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from neo4j import Driver

from app.clock import FakeClock
from app.journeys.scheduler import TimerService
from app.journeys.watermark import GraphWatermark
from app.runtime import build_consumer, make_engine
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from tests.conftest import wait_until
from tests.integration.journey_support import publish
from tests.integration.support import produce_events, rows

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
PEOPLE = 120

NUDGE = JourneyDefinition.model_validate({
    "id": "scale-nudge", "name": "Nudge a minute after sign-up", "entry": {"event": "Signed Up"}, "start": "pause",
    "steps": [
        {"id": "pause", "type": "wait", "duration": "1m", "next": "nudge"},
        {"id": "nudge", "type": "action", "channel": "email", "template": "welcome_email", "next": "done"},
        {"id": "done", "type": "end"},
    ],
})


def signed_up(i: int) -> dict[str, Any]:
    at = dt.datetime.fromtimestamp((START_MS + i) / 1000, dt.UTC).isoformat()
    return {"type": "track", "event": "Signed Up", "userId": f"scale-{i}", "messageId": f"scale-su-{i}",
            "timestamp": at}


def test_two_consumers_and_two_timer_services_fire_each_timer_once(settings: Settings, graph: Driver) -> None:
    clock = FakeClock(START_MS)
    publish(graph, settings, NUDGE, clock)
    bootstrap = settings.kafka_bootstrap or ""
    engines = [make_engine(settings, graph, clock=clock) for _ in range(2)]
    consumers = [build_consumer(settings, graph, bootstrap, clock=clock, engine=e) for e in engines]
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in consumers]
    watermark = GraphWatermark.from_settings(graph, settings)
    timers = [TimerService(e, interval_s=0.05, batch=25, watermark=watermark) for e in engines]
    for thread in threads:
        thread.start()
    try:
        produce_events(settings, [signed_up(i) for i in range(PEOPLE)])
        wait_until(lambda: sum(c.stats.consumed for c in consumers) >= PEOPLE, timeout=90)
        # Both consumers took part: the group shared the topic's partitions.
        assert all(c.stats.consumed > 0 for c in consumers), [c.stats.consumed for c in consumers]

        for service in timers:
            service.start()
        clock.advance(minutes=2)  # every timer is due once the consumers' watermark reaches the new time
        wait_until(lambda: rows(graph, settings, """
            MATCH (en:Enrollment {journeyId: 'scale-nudge'}) WHERE en.status = 'completed'
            RETURN count(en) AS done""")[0]["done"] >= PEOPLE, timeout=120)
    finally:
        for service in timers:
            service.stop()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    fired = [e.stats.timers_fired for e in engines]
    assert sum(fired) == PEOPLE, fired  # each enrollment woke exactly once, whichever service woke it
    visits = rows(graph, settings, """
        MATCH (p:Person)-[:ENROLLED]->(en:Enrollment {journeyId: 'scale-nudge'})-[v:VISITED]->(s:Step)
        RETURN en.enrollmentId AS id, p.personId AS person, v.seq AS seq, s.stepId AS step, v.path AS path""")
    by_enrollment: dict[str, list[dict[str, Any]]] = {}
    for visit in visits:
        by_enrollment.setdefault(visit["id"], []).append(visit)
    assert len(by_enrollment) == PEOPLE
    assert len({v[0]["person"] for v in by_enrollment.values()}) == PEOPLE  # one enrollment per person
    for enrollment_id, seen in by_enrollment.items():
        seqs = [v["seq"] for v in seen]
        assert len(seqs) == len(set(seqs)), f"{enrollment_id}: a VISITED seq written twice: {sorted(seqs)}"
        assert Counter(v["step"] for v in seen) == Counter({"pause": 1, "nudge": 1, "done": 1}), seen
    requests = rows(graph, settings, """
        MATCH (en:Enrollment {journeyId: 'scale-nudge'})-[:REQUESTED]->(a:ActionRequest)
        RETURN en.enrollmentId AS id, count(a) AS n""")
    assert len(requests) == PEOPLE and {r["n"] for r in requests} == {1}  # one nudge each: no double send
