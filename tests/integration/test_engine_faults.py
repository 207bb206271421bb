"""Fault isolation on the real servers: a journey that fails never costs the batch its events, and a failure
that hits every write pauses the consumer instead of dead-lettering the stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver, ManagedTransaction

from app.api.main import create_app
from app.clock import FakeClock
from app.intake.plan import BatchPlan
from app.journeys import engine as engine_module
from app.journeys import runtime as runtime_module
from app.journeys.store import JourneyStore
from app.runtime import build_consumer, make_services
from app.settings import Settings
from tests.conftest import wait_until
from tests.integration.journey_support import APPROVER, harness, publish
from tests.integration.support import event_count, produce_events, rows, scalar

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000
BEARER = {"Authorization": "Bearer dev-admin-key"}


def at(minutes: float) -> str:
    import datetime as dt
    return (dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def track(mid: str, minutes: float, name: str, user: str, **props: Any) -> dict[str, Any]:
    return {"type": "track", "messageId": mid, "timestamp": at(minutes), "event": name, "userId": user,
            "properties": props}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
def broken_cart(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """While `on`, entering abandoned-cart raises inside the walker (a bug in one journey's logic)."""
    state = {"on": True}
    original = engine_module.Walker.enter

    def enter(self: engine_module.Walker, person_id: str, event: engine_module.EngineEvent) -> Any:
        if state["on"] and self.d.id == "abandoned-cart":
            raise RuntimeError("template 'cart_reminder' is missing")
        return original(self, person_id, event)

    monkeypatch.setattr(engine_module.Walker, "enter", enter)
    yield state


def api(settings: Settings, graph: Driver) -> TestClient:
    return TestClient(create_app(make_services(settings, graph, settings.kafka_bootstrap or "")))




def test_engine_failure_lands_the_events_records_pauses_and_reapplies(settings: Settings, graph: Driver,
                                                                      clock: FakeClock,
                                                                      broken_cart: dict[str, bool]) -> None:
    publish(graph, settings, "abandoned_cart.yaml", clock)
    publish(graph, settings, "welcome_series.yaml", clock)
    with harness(settings, graph, clock) as h:
        h.engine.failure_pause_after = 3
        # One batch: ann's cart fails the journey, the rest of the batch (and the other journey) goes on.
        h.send(track("ann-1", 0, "Product Added", "ann", cart_id="c1"),
               track("ann-2", 1, "Product Added", "ann", cart_id="c1"),
               track("cat-1", 2, "Signed Up", "cat"))
        h.send(track("bob-1", 5, "Product Added", "bob", cart_id="c2"))
        assert h.consumer.stats.dead_lettered == 0
        assert event_count(graph, settings) == 4
        assert [(e["userId"], e["journey"]) for e in h.enrollments()] == [("cat", "welcome-series")]
        failures = rows(graph, settings, """
            MATCH (f:EngineFailure)-[:IN_VERSION]->(v:JourneyVersion), (f)-[:ON_EVENT]->(e:Event)
            RETURN v.key AS version, e.messageId AS event, f.kind AS kind, f.status AS status
            ORDER BY event""")
        assert failures == [
            {"version": "abandoned-cart@1", "event": "ann-1", "kind": "engine", "status": "open"},
            {"version": "abandoned-cart@1", "event": "ann-2", "kind": "skipped", "status": "open"},
            {"version": "abandoned-cart@1", "event": "bob-1", "kind": "engine", "status": "open"},
        ]
        assert scalar(graph, settings, "MATCH (v:JourneyVersion {key: 'abandoned-cart@1'}) RETURN v.status") \
            == "published"  # two real failures so far: under the limit of 3
        h.send(track("dan-1", 6, "Product Added", "dan", cart_id="c3"))
        assert scalar(graph, settings, "MATCH (v:JourneyVersion {key: 'abandoned-cart@1'}) RETURN v.status") \
            == "paused"
        audit = rows(graph, settings, """
            MATCH (:JourneyVersion {key: 'abandoned-cart@1'})-[:AUDITED]->(a:AuditEntry {action: 'pause'})
            RETURN a.principal AS who""")
        assert audit == [{"who": runtime_module.ENGINE_PRINCIPAL}]
        assert h.consumer.stats.dead_lettered == 0 and event_count(graph, settings) == 5

    with api(settings, graph) as client:
        listed = client.get("/v1/journeys/abandoned-cart/failures", headers=BEARER)
        assert listed.status_code == 200, listed.text
        assert sorted(f["messageId"] for f in listed.json()) == ["ann-1", "ann-2", "bob-1", "dan-1"]
        assert client.get("/v1/journeys/abandoned-cart/failures").status_code == 401
        # Paused: re-applying is refused until the version is resumed.
        assert client.post("/v1/journeys/abandoned-cart/versions/1/reapply", headers=BEARER).status_code == 409

        broken_cart["on"] = False  # the fix is deployed
        JourneyStore(graph, settings.neo4j_database, clock=clock).publish("abandoned-cart", 1, APPROVER)
        done = client.post("/v1/journeys/abandoned-cart/versions/1/reapply", headers=BEARER)
        assert done.status_code == 200, done.text
        assert done.json() == {"journeyId": "abandoned-cart", "version": 1, "reapplied": 4, "failedAgain": 0,
                               "open": 0}
        again = client.post("/v1/journeys/abandoned-cart/versions/1/reapply", headers=BEARER)
        assert again.json()["reapplied"] == 0
        assert {f["status"] for f in client.get("/v1/journeys/abandoned-cart/failures",
                                                  headers=BEARER).json()} == {"resolved"}
    people = rows(graph, settings, """
        MATCH (p:Person)-[:ENROLLED]->(en:Enrollment {journeyId: 'abandoned-cart'})
        RETURN p.userId AS user, en.status AS status, en.entryMessageId AS entry, en.liveKey AS liveKey
        ORDER BY user""")
    assert [(p["user"], p["status"], p["entry"]) for p in people] == [
        ("ann", "active", "ann-1"), ("bob", "active", "bob-1"), ("dan", "active", "dan-1")]
    assert all(p["liveKey"] and p["liveKey"].endswith("|abandoned-cart") for p in people)


def test_a_failed_engine_write_retries_the_batch_without_that_version(settings: Settings, graph: Driver,
                                                                      clock: FakeClock,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement the server rejects while writing one version's changes (the transaction is then unusable on
    Neo4j): the batch is written again without that version, so the events and other journeys land."""
    publish(graph, settings, "abandoned_cart.yaml", clock)
    publish(graph, settings, "welcome_series.yaml", clock)
    original = runtime_module._Work.commit

    def commit(self: Any) -> Any:
        if any(en.journey_id == "abandoned-cart" for en in self.effects.enrollments.values()):
            self.tx.run("THIS IS NOT CYPHER").consume()
        return original(self)

    monkeypatch.setattr(runtime_module._Work, "commit", commit)
    with harness(settings, graph, clock) as h:
        h.send(track("eve-1", 0, "Product Added", "eve", cart_id="c1"), track("fay-1", 1, "Signed Up", "fay"))
        assert h.consumer.stats.dead_lettered == 0
    assert event_count(graph, settings) == 2
    assert [e["journey"] for e in h.enrollments()] == ["welcome-series"]
    assert rows(graph, settings, """
        MATCH (v:JourneyVersion)<-[:IN_VERSION]-(f:EngineFailure)-[:ON_EVENT]->(e:Event)
        RETURN v.key AS version, e.messageId AS event, f.kind AS kind""") == [
        {"version": "abandoned-cart@1", "event": "eve-1", "kind": "write"}]


def test_a_failure_under_every_write_pauses_the_consumer_then_everything_lands(settings: Settings,
                                                                               graph: Driver) -> None:
    """A fault under every write (here a statement the server rejects, in every batch's transaction): the
    consumer pauses and says so (stats, /health), dead-letters nothing, and resumes when it is gone."""
    fault = {"on": True}

    def failing(tx: ManagedTransaction, _plan: BatchPlan) -> None:
        if fault["on"]:
            tx.run("RETURN 1 +").consume()  # a ClientError from the server, for every batch

    consumer = build_consumer(settings, graph, settings.kafka_bootstrap or "")
    consumer.config.backoff_initial_s = consumer.config.backoff_max_s = 0.3
    consumer.store.after_write = failing
    services = make_services(settings, graph, settings.kafka_bootstrap or "")
    services.consumer_status = consumer.status
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    worker.start()
    try:
        produce_events(settings, [track(f"s-{i}", i, "Clicked", f"user-{i % 3}") for i in range(12)])
        wait_until(lambda: consumer.stats.state == "paused_systemic", timeout=60)
        produce_events(settings, [track("s-lone", 30, "Clicked", "user-9")])
        with TestClient(create_app(services)) as client:
            health = client.get("/health")
            assert health.status_code == 503
            assert health.json()["consumer"]["state"] == "paused_systemic"
        assert event_count(graph, settings) == 0
        assert consumer.stats.dead_lettered == 0 and consumer.stats.systemic_failures >= 1
        fault["on"] = False
        wait_until(lambda: event_count(graph, settings) == 13, timeout=60)
        wait_until(lambda: consumer.stats.state == "running", timeout=30)
        with TestClient(create_app(services)) as client:
            assert client.get("/health").json()["consumer"]["state"] == "running"
    finally:
        stop.set()
        worker.join(timeout=30)
        services.producer.close()
    assert consumer.stats.dead_lettered == 0
