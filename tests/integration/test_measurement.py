"""Measurement on the real servers: the outbox and its relay to Kafka, delivery callbacks turning into consent
and suppression, and conversion results with lift on a seeded scenario with a known answer."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from app.clock import FakeClock
from app.journeys.engine import bucket
from app.kafka import AckProducer, ensure_topics
from app.measurement.relay import MeasurementRelay, pending
from app.measurement.results import ResultsStore
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from graph_models.measurements import parse_record
from tests.integration.journey_support import Harness, harness, publish
from tests.integration.support import api_client, read_topic, rows, scalar

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
ADMIN = {"Authorization": "Bearer dev-admin-key"}

JOURNEY = JourneyDefinition.model_validate({
    "id": "measured", "name": "Measured", "entry": {"event": "Signed Up"}, "start": "split",
    "steps": [
        {"id": "split", "type": "split", "variants": [
            {"name": "treated", "weight": 1, "next": "welcome"},
            {"name": "holdout", "weight": 1, "next": "done", "holdout": True}]},
        {"id": "welcome", "type": "action", "channel": "email", "template": "welcome_email", "next": "done"},
        {"id": "done", "type": "end"},
    ],
    "goals": [{"id": "purchase", "event": "Order Completed", "within": "7d"},
              {"id": "big-purchase", "event": "Order Completed", "within": "7d",
               "where": [{"property": "total", "op": "gte", "value": 100}]}],
})


def at(minutes: float) -> str:
    return (dt.datetime.fromtimestamp(START_MS / 1000, dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def track(user: str, name: str, minutes: float, **props: Any) -> dict[str, Any]:
    return {"type": "track", "messageId": str(uuid.uuid4()), "userId": user, "event": name,
            "timestamp": at(minutes), "properties": props}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
def msettings(settings: Settings) -> Settings:
    topic = f"measure-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings.kafka_bootstrap or "", {topic: 2})
    return settings.model_copy(update={"measurement_topic": topic, "callbacks_secret": "cb-secret"})


@pytest.fixture
def scenario(msettings: Settings, graph: Driver, clock: FakeClock) -> Iterator[tuple[Harness, dict[str, str]]]:
    """20 people entered: exactly 10 in each variant (people chosen by the split's own hash); 6 treated and
    2 holdout people then bought (one treated purchase of 150, the rest of 20)."""
    publish(graph, msettings, JOURNEY, clock)
    with harness(msettings, graph, clock) as h:
        users = [f"u{i:02d}" for i in range(60)]
        h.send(*[{"type": "identify", "messageId": str(uuid.uuid4()), "userId": u, "timestamp": at(0),
                  "traits": {"email": f"{u}@example.com"}} for u in users])
        ids = {r["userId"]: r["personId"] for r in rows(
            graph, msettings, "MATCH (p:Person) RETURN p.userId AS userId, p.personId AS personId")}
        variant = {u: "treated" if bucket("measured", "split", ids[u]) * 2 < 1 else "holdout" for u in users}
        treated = [u for u in users if variant[u] == "treated"][:10]
        holdout = [u for u in users if variant[u] == "holdout"][:10]
        assert len(treated) == len(holdout) == 10
        h.send(*[track(u, "Signed Up", 1) for u in treated + holdout])
        buyers = treated[:6] + holdout[:2]
        h.send(*[track(u, "Order Completed", 60, total=150 if u == treated[0] else 20) for u in buyers])
        h.send(track(treated[7], "Order Completed", 60 * 24 * 8, total=20))  # outside the 7-day window
        yield h, {u: variant[u] for u in treated + holdout}


def test_results_and_lift_on_a_split_with_a_known_answer(scenario: tuple[Harness, dict[str, str]],
                                                         msettings: Settings, graph: Driver) -> None:
    _h, _variants = scenario
    out = ResultsStore(graph, msettings.neo4j_database).results("measured")
    assert out["entries"] == 20 and out["messages"] == 10
    purchase = next(g for g in out["goals"] if g["goalId"] == "purchase")
    by_variant = {v["variant"]: v for v in purchase["variants"]}
    assert (by_variant["treated"]["entries"], by_variant["treated"]["messages"],
            by_variant["treated"]["conversions"], by_variant["treated"]["rate"]) == (10, 10, 6, 0.6)
    assert (by_variant["holdout"]["entries"], by_variant["holdout"]["conversions"],
            by_variant["holdout"]["rate"]) == (10, 2, 0.2)
    assert by_variant["holdout"]["holdout"] is True and by_variant["holdout"]["liftOverHoldout"] is None
    lift = by_variant["treated"]["liftOverHoldout"]
    assert lift["absolute"] == pytest.approx(0.4) and lift["relative"] == pytest.approx(2.0)
    assert lift["interval"] == {"low": pytest.approx(-0.022558, abs=1e-6), "high": pytest.approx(0.672544, abs=1e-6)}
    assert by_variant["treated"]["interval"] == {"low": pytest.approx(0.312674, abs=1e-6),
                                                 "high": pytest.approx(0.83182, abs=1e-6)}
    assert purchase["overall"]["conversions"] == 8 and purchase["overall"]["rate"] == 0.4
    assert purchase["steps"] == [{"stepId": "welcome", "entries": 10, "messages": 10, "conversions": 6, "rate": 0.6,
                                  "interval": by_variant["treated"]["interval"]}]
    # No global control group configured: everyone is treated, the control group is empty (no lift).
    assert purchase["globalControl"]["treated"]["entries"] == 20
    assert purchase["globalControl"]["control"]["entries"] == 0 and purchase["globalControl"]["lift"] is None
    big = next(g for g in out["goals"] if g["goalId"] == "big-purchase")
    assert big["overall"]["conversions"] == 1
    # A window that starts after everyone entered has nobody in it.
    assert ResultsStore(graph, msettings.neo4j_database).results("measured", from_ms=START_MS + 3_600_000)[
        "entries"] == 0

    with api_client(msettings, graph) as client:
        client.auth = None  # Bearer keys, not the write key
        answer = client.get("/v1/journeys/measured/results", headers=ADMIN,
                            params={"from": "2026-03-01", "to": str(START_MS + 86_400_000)})
        assert answer.status_code == 200, answer.text
        assert answer.json()["goals"][0]["variants"] == purchase["variants"]
        assert client.get("/v1/journeys/nope/results", headers=ADMIN).status_code == 404
        bad = client.get("/v1/journeys/measured/results", headers=ADMIN, params={"from": "yesterday"})
        assert bad.status_code == 400 and bad.json()["field"] == "from"
        assert client.get("/v1/journeys/measured/results").status_code == 401


def test_the_outbox_reaches_kafka_with_ids_that_join(scenario: tuple[Harness, dict[str, str]],
                                                     msettings: Settings, graph: Driver) -> None:
    assert scalar(graph, msettings, "MATCH (m:MeasurementBatch) RETURN count(m)") >= 1
    waiting = pending(graph, msettings.neo4j_database)
    assert waiting["records"] == 20 + (10 * 3 + 10 * 2) + 10  # entries, visits, decisions
    producers = [AckProducer(msettings.kafka_bootstrap or "") for _ in range(2)]
    relays = [MeasurementRelay(graph, msettings.neo4j_database, p, msettings.measurement_topic, limit=3)
              for p in producers]
    try:
        threads = [threading.Thread(target=r.drain) for r in relays]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for p in producers:
            p.close()
    assert sum(r.stats.records for r in relays) == waiting["records"]  # two relays: nothing published twice
    assert scalar(graph, msettings, "MATCH (m:MeasurementBatch) RETURN count(m)") == 0
    messages = read_topic(msettings, msettings.measurement_topic, waiting["records"])
    records = [parse_record(json.loads(m.value() or b"")) for m in messages]
    kinds = Counter(r.kind for r in records)
    assert kinds == {"entry": 20, "visit": 50, "decision": 10}
    assert len({r.recordId for r in records}) == len(records)
    assert all(r.schema_ == "journeys.measurement/v1" for r in records)
    assert all(m.key() == (r.personId or "").encode() for m, r in zip(messages, records, strict=True))
    decision = next(r for r in records if r.kind == "decision")
    entry = next(r for r in records if r.kind == "entry" and r.enrollmentId == decision.enrollmentId)
    # messageId -> enrollment -> action -> decision -> delivery, and the graph agrees.
    joined = rows(graph, msettings, """
        MATCH (en:Enrollment {enrollmentId: $en})-[:ENTERED_BY]->(e:Event),
              (en)-[:REQUESTED]->(a:ActionRequest)-[:DELIVERED_BY]->(d:Delivery)
        RETURN e.messageId AS messageId, a.actionId AS actionId, a.decisionId AS decisionId,
               d.deliveryId AS deliveryId""", en=decision.enrollmentId)
    assert joined == [{"messageId": entry.messageId, "actionId": decision.actionId,
                       "decisionId": decision.decisionId, "deliveryId": decision.deliveryId}]
    assert decision.variant == "treated" and decision.outcome == "chosen" and decision.stepId == "welcome"


def _signed(secret: str, body: bytes, now_s: int) -> str:
    from app.channels.adapters.webhook import signature_header

    return signature_header(secret, now_s, body)


def test_callbacks_become_consent_and_suppression(scenario: tuple[Harness, dict[str, str]], msettings: Settings,
                                                  graph: Driver, clock: FakeClock) -> None:
    h, _ = scenario
    deliveries = rows(graph, msettings, """
        MATCH (d:Delivery) RETURN d.deliveryId AS id, d.personId AS personId ORDER BY d.deliveryId""")
    assert len(deliveries) == 10
    first, second, third = deliveries[0], deliveries[1], deliveries[2]
    with api_client(msettings, graph) as client:
        client.auth = None  # Bearer keys, not the write key
        url = f"/v1/deliveries/{first['id']}/events"
        body = json.dumps({"type": "opened", "atMs": START_MS + 120_000, "eventId": "ev-1"}).encode()
        ok = client.post(url, content=body, headers={"X-Journeys-Signature": _signed(
            "cb-secret", body, int(time.time())), "content-type": "application/json"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["duplicate"] is False
        again = client.post(url, content=body, headers={"X-Journeys-Signature": _signed(
            "cb-secret", body, int(time.time()))})
        assert again.json()["duplicate"] is True and again.json()["eventId"] == ok.json()["eventId"]
        wrong = client.post(url, content=body, headers={"X-Journeys-Signature": _signed(
            "other", body, int(time.time()))})
        assert wrong.status_code == 401
        assert client.post(url, content=body).status_code == 401
        assert client.post("/v1/deliveries/nope/events", json={"type": "opened"}, headers=ADMIN).status_code == 404
        bad = client.post(url, json={"type": "read"}, headers=ADMIN)
        assert bad.status_code == 400 and bad.json()["field"] == "type"
        bad = client.post(url, json={"type": "bounced", "bounce": "medium"}, headers=ADMIN)
        assert bad.status_code == 400 and bad.json()["field"] == "bounce"

        unsub = client.post(f"/v1/deliveries/{second['id']}/events", json={"type": "unsubscribed"}, headers=ADMIN)
        assert unsub.status_code == 200 and unsub.json()["consent"] == "opted_out"
        bounce = client.post(f"/v1/deliveries/{third['id']}/events", json={"type": "bounced", "bounce": "hard"},
                             headers=ADMIN)
        assert bounce.status_code == 200 and bounce.json()["suppressed"] == "hard-bounces"
    assert rows(graph, msettings, """
        MATCH (d:Delivery {deliveryId: $id})-[:HAD_EVENT]->(e:DeliveryEvent)
        RETURN e.type AS type, d.lastEvent AS last""", id=first["id"]) == [{"type": "opened", "last": "opened"}]
    consent = rows(graph, msettings, """
        MATCH (p:Person {personId: $p})-[c:CONSENT]->(ch:Channel)
        RETURN ch.channelId AS channel, c.status AS status, c.source AS source, c.marketingOnly AS marketingOnly""",
                   p=second["personId"])
    assert consent == [{"channel": "email", "status": "opted_out", "source": "callback", "marketingOnly": True}]
    assert scalar(graph, msettings, """
        MATCH (p:Person {personId: $p})-[s:SUPPRESSED]->(l:SuppressionList {listId: 'hard-bounces'})
        RETURN s.source""", p=third["personId"]) == "callback"
    # The very next decision sees them.
    publish(graph, msettings, JourneyDefinition.model_validate({
        "id": "again", "name": "Again", "entry": {"event": "Ping"}, "start": "send",
        "steps": [{"id": "send", "type": "action", "channel": "email", "template": "welcome_email", "next": "done"},
                  {"id": "done", "type": "end"}]}), clock)
    users = {r["personId"]: r["userId"] for r in rows(graph, msettings, """
        MATCH (p:Person) WHERE p.personId IN $ids RETURN p.personId AS personId, p.userId AS userId""",
        ids=[first["personId"], second["personId"], third["personId"]])}
    h.send(*[track(users[d["personId"]], "Ping", 10) for d in (first, second, third)])
    got = {r["personId"]: r["status"] for r in rows(graph, msettings, """
        MATCH (a:ActionRequest {journeyId: 'again'})-[:FOR]->(p:Person)
        RETURN p.personId AS personId, a.status AS status""")}
    assert got == {first["personId"]: "chosen", second["personId"]: "no_consent", third["personId"]: "suppressed"}
    batches = rows(graph, msettings, "MATCH (m:MeasurementBatch) RETURN m.records AS records")
    kinds = Counter(r["kind"] for b in batches for r in json.loads(b["records"]))
    assert kinds["delivery_outcome"] == 3
