"""The ingest consumer against the real broker and graph: idempotence, identity, sessions, DLQ."""

from __future__ import annotations

import json

import pytest
from neo4j import Driver

from app.settings import Settings
from consumers.dead_letter import dlq_headers
from tests.conftest import wait_until
from tests.integration.support import (
    event_count,
    produce_events,
    produce_raw,
    read_topic,
    rows,
    running_consumer,
    scalar,
)

pytestmark = pytest.mark.integration


def track(msg: str, ts: str, **ids: str) -> dict[str, object]:
    return {"type": "track", "messageId": msg, "event": "Clicked", "timestamp": ts, **ids}


def canonical(driver: Driver, settings: Settings) -> list[dict[str, object]]:
    """The graph without generated ids: who did what, in which (ordinal) session."""
    found = rows(driver, settings, """
        MATCH (p:Person)-[:PERFORMED]->(e:Event)-[:IN_SESSION]->(s:Session)
        OPTIONAL MATCH (i:Identity)-[:IDENTIFIES]->(p)
        WITH p, e, s, collect(DISTINCT i.key) AS keys
        RETURN e.messageId AS m, p.userId AS user, keys, s.startedAtMs AS session, s.eventCount AS n
        ORDER BY m""")
    return [{**r, "keys": sorted(r["keys"])} for r in found]


def test_duplicates_and_redelivery_create_nothing_new(settings: Settings, graph: Driver) -> None:
    events = [track(f"dup-{i}", f"2026-03-01T10:0{i}:00Z", userId="u1") for i in range(5)]
    with running_consumer(settings, graph) as consumer:
        produce_events(settings, events + events[:3])
        wait_until(lambda: consumer.stats.consumed == 8)
        produce_events(settings, events)  # a second delivery, in a later batch
        wait_until(lambda: consumer.stats.consumed == 13)
    assert event_count(graph, settings) == 5
    assert scalar(graph, settings, "MATCH (:Person)-[r:PERFORMED]->() RETURN count(r)") == 5
    assert scalar(graph, settings, "MATCH (p:Person) RETURN count(p)") == 1
    assert consumer.stats.duplicates == 8


def test_identity_merge_same_result_in_one_batch_or_many(settings: Settings, graph: Driver) -> None:
    events = [
        {"type": "page", "messageId": "i1", "anonymousId": "a1", "timestamp": "2026-03-01T10:00:00Z"},
        track("i2", "2026-03-01T10:01:00Z", anonymousId="a1"),
        track("i3", "2026-03-01T10:02:00Z", userId="known"),
        {"type": "identify", "messageId": "i4", "anonymousId": "a1", "userId": "known",
         "timestamp": "2026-03-01T10:03:00Z", "traits": {"email": "k@example.com"}},
        track("i5", "2026-03-01T10:04:00Z", anonymousId="a2"),
        {"type": "alias", "messageId": "i6", "previousId": "a2", "userId": "known",
         "timestamp": "2026-03-01T10:05:00Z"},
    ]
    with running_consumer(settings, graph) as consumer:
        produce_events(settings, events)
        wait_until(lambda: consumer.stats.consumed == 6)
    one_batch = canonical(graph, settings)
    assert scalar(graph, settings, "MATCH (p:Person) RETURN count(p)") == 1
    assert scalar(graph, settings, "MATCH (p:Person) RETURN p.email") == "k@example.com"

    graph.execute_query("MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:SchemaMigration DETACH DELETE n",
                        database_=settings.neo4j_database)
    with running_consumer(settings, graph) as consumer:
        for ev in events:  # one event per batch now, in the same order
            before = consumer.stats.consumed
            produce_events(settings, [{**ev, "messageId": ev["messageId"]}])
            wait_until(lambda before=before: consumer.stats.consumed == before + 1)
    assert canonical(graph, settings) == one_batch
    # Across batches the anonymous persons existed first, so each merge left an audit node.
    merges = rows(graph, settings, "MATCH (p:Person)-[:MERGED_FROM]->(m:PersonMerge) RETURN m.reason AS r "
                                   "ORDER BY m.atMs")
    assert [m["r"] for m in merges] == ["identify: anonymousId joined userId",
                                        "alias: previousId merged into userId"]


def test_sessions_split_on_gap_and_late_event_bridges(settings: Settings, graph: Driver) -> None:
    first = [
        track("s1", "2026-03-01T10:00:00Z", userId="u"),
        track("s2", "2026-03-01T10:20:00Z", userId="u"),
        track("s3", "2026-03-01T11:00:00Z", userId="u"),  # 40 min later: a new session
        track("s4", "2026-03-01T11:10:00Z", userId="u"),
    ]
    with running_consumer(settings, graph) as consumer:
        produce_events(settings, first)
        wait_until(lambda: consumer.stats.consumed == 4)
        sessions = rows(graph, settings, "MATCH (s:Session) RETURN s.eventCount AS n ORDER BY s.startedAtMs")
        assert [s["n"] for s in sessions] == [2, 2]
        produce_events(settings, [track("s5", "2026-03-01T10:40:00Z", userId="u")])  # arrives late
        wait_until(lambda: consumer.stats.consumed == 5)
    merged = rows(graph, settings, "MATCH (s:Session)<-[:IN_SESSION]-(e) RETURN s.eventCount AS n, "
                                   "s.startedAt AS start, s.endedAt AS end, count(e) AS events")
    assert merged == [{"n": 5, "start": "2026-03-01T10:00:00.000Z", "end": "2026-03-01T11:10:00.000Z",
                       "events": 5}]


def test_invalid_events_go_to_the_dlq_with_the_reason(settings: Settings, graph: Driver) -> None:
    bad = [
        ("k1", b"this is not json"),
        ("k2", b"[1, 2, 3]"),
        ("k3", json.dumps({"type": "track", "event": "No Ids", "messageId": "x1"}).encode()),
        ("k4", json.dumps({"type": "track", "userId": "u", "event": "E",
                           "properties": {"blob": "x" * 40_000}}).encode()),
        ("k5", json.dumps({"type": "launch", "userId": "u"}).encode()),
    ]
    good = ("u", json.dumps(track("ok-1", "2026-03-01T10:00:00Z", userId="u")).encode())
    with running_consumer(settings, graph) as consumer:
        produce_raw(settings, [bad[0], bad[1], good, *bad[2:]])
        wait_until(lambda: consumer.stats.consumed == 6)
        produce_events(settings, [track("ok-2", "2026-03-01T10:01:00Z", userId="u")])
        wait_until(lambda: consumer.stats.consumed == 7)  # still running after bad input
    assert event_count(graph, settings) == 2
    dead = read_topic(settings, settings.dlq_topic, expected=5)
    assert len(dead) == 5
    by_key = {m.key().decode(): m for m in dead}
    assert by_key["k1"].value() == b"this is not json"
    assert dict(by_key["k1"].headers())["origin"] == b"test"  # original headers kept
    headers = {k: dlq_headers(m) for k, m in by_key.items()}
    assert headers["k1"]["dlq.reason"] == "validation_error" and "JSON" in headers["k1"]["dlq.error"]
    assert headers["k3"]["dlq.field"] == "userId"
    assert headers["k4"]["dlq.field"] == "body" and "limit" in headers["k4"]["dlq.error"]
    assert headers["k5"]["dlq.field"] == "type"
    assert all(h["dlq.retryable"] == "false" and h["dlq.source.topic"] == settings.events_topic
               for h in headers.values())


def test_merge_chains_keep_every_merge_record_and_the_earliest_first_seen(settings: Settings,
                                                                        graph: Driver) -> None:
    steps = [
        {"type": "page", "messageId": "c1", "anonymousId": "a1", "timestamp": "2026-03-01T09:00:00Z"},
        track("c2", "2026-03-01T10:00:00Z", userId="b"),
        {"type": "identify", "messageId": "c3", "anonymousId": "a1", "userId": "b",
         "timestamp": "2026-03-01T10:01:00Z"},
        track("c4", "2026-03-01T11:00:00Z", userId="c"),
        {"type": "alias", "messageId": "c5", "previousId": "b", "userId": "c", "timestamp": "2026-03-01T11:01:00Z"},
    ]
    with running_consumer(settings, graph) as consumer:
        for i, step in enumerate(steps, start=1):  # one batch each, so every merge involves stored persons
            produce_events(settings, [step])
            wait_until(lambda i=i: consumer.stats.consumed == i)
    people = rows(graph, settings, "MATCH (p:Person) RETURN p.userId AS u, p.firstSeenAtMs AS first")
    assert people == [{"u": "c", "first": 1772355600000}]  # 09:00, the anonymous page view
    merges = rows(graph, settings, "MATCH (:Person {userId:'c'})-[:MERGED_FROM]->(m:PersonMerge) "
                                   "RETURN m.reason AS r ORDER BY m.atMs")
    assert [m["r"] for m in merges] == ["identify: anonymousId joined userId", "alias: previousId merged into userId"]
    assert scalar(graph, settings, "MATCH (m:PersonMerge) WHERE NOT ()-[:MERGED_FROM]->(m) RETURN count(m)") == 0


def test_a_poison_event_is_dead_lettered_and_the_rest_of_its_batch_lands(settings: Settings,
                                                                         graph: Driver) -> None:
    """An unexpected failure while writing (here a hook that fails on one event) isolates that event."""
    from app.intake.plan import BatchPlan
    from app.runtime import build_consumer

    class PoisonedEngine:
        def after_ingest(self, _tx: object, plan: BatchPlan, *_segment_events: object) -> None:
            if any(getattr(ev, "event", "") == "Poison" for ev in plan.events):
                raise KeyError("step 'gone' is not in the journey")

    import threading

    consumer = build_consumer(settings, graph, settings.kafka_bootstrap or "", engine=PoisonedEngine())  # type: ignore[arg-type]
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    worker.start()
    try:
        events = [track(f"ok-{i}", f"2026-03-01T10:0{i}:00Z", userId=f"u{i}") for i in range(6)]
        events.insert(3, {**track("bad", "2026-03-01T10:03:30Z", userId="u9"), "event": "Poison"})
        produce_events(settings, events)
        wait_until(lambda: consumer.stats.consumed == 7)
        produce_events(settings, [track("after", "2026-03-01T11:00:00Z", userId="u1")])
        wait_until(lambda: consumer.stats.consumed == 8)  # still consuming
    finally:
        stop.set()
        worker.join(timeout=30)
    assert event_count(graph, settings) == 7
    dead = read_topic(settings, settings.dlq_topic, expected=1)
    headers = dlq_headers(dead[0])
    assert headers["dlq.reason"] == "processing_error" and "KeyError" in headers["dlq.error"]
    assert json.loads(dead[0].value())["messageId"] == "bad"
