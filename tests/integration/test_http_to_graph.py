"""Every Segment call type end to end: HTTP API → Kafka → consumer → graph."""

from __future__ import annotations

import gzip
import json

import pytest
from neo4j import Driver

from app.settings import Settings
from tests.conftest import wait_until
from tests.integration.support import api_client, event_count, read_topic, rows, running_consumer, scalar

pytestmark = pytest.mark.integration


def test_each_call_type_lands_in_the_graph(settings: Settings, graph: Driver) -> None:
    calls = [
        ("page", {"anonymousId": "anon-1", "name": "Pricing", "category": "Docs",
                  "timestamp": "2026-03-01T10:00:00Z", "properties": {"path": "/pricing"}}),
        ("screen", {"anonymousId": "anon-1", "name": "Home", "timestamp": "2026-03-01T10:01:00Z"}),
        ("track", {"anonymousId": "anon-1", "event": "Product Viewed", "timestamp": "2026-03-01T10:02:00Z",
                   "properties": {"sku": "sku-1", "price": 9.5}}),
        ("identify", {"anonymousId": "anon-1", "userId": "user-1", "timestamp": "2026-03-01T10:03:00Z",
                      "traits": {"email": "ada@example.com", "plan": "pro", "address": {"city": "Oslo"}}}),
        ("group", {"userId": "user-1", "groupId": "acme", "timestamp": "2026-03-01T10:04:00Z",
                   "traits": {"name": "Acme Inc", "employees": 40}}),
        ("alias", {"userId": "user-1-new", "previousId": "user-1", "timestamp": "2026-03-01T10:05:00Z"}),
    ]
    with running_consumer(settings, graph), api_client(settings, graph) as client:
        for kind, body in calls:
            response = client.post(f"/v1/{kind}", json=body)
            assert response.status_code == 200, response.text
            assert response.json() == {"success": True}
        wait_until(lambda: event_count(graph, settings) == 6)

    people = rows(graph, settings, "MATCH (p:Person) RETURN p.userId AS userId, p.email AS email, "
                                   "p.plan AS plan, p.address AS address")
    assert people == [{"userId": "user-1", "email": "ada@example.com", "plan": "pro",
                       "address": '{"city":"Oslo"}'}]
    performed = rows(graph, settings, "MATCH (p:Person)-[:PERFORMED]->(e:Event) "
                                      "RETURN e.type AS type ORDER BY e.timestampMs")
    assert [r["type"] for r in performed] == ["page", "screen", "track", "identify", "group", "alias"]
    track = rows(graph, settings, "MATCH (e:Event {type:'track'}) RETURN e.event AS event, "
                                  "e.properties AS props, e.timestamp AS ts, e.receivedAt AS rcv")[0]
    assert track["event"] == "Product Viewed"
    assert json.loads(track["props"]) == {"price": 9.5, "sku": "sku-1"}
    assert track["ts"] == "2026-03-01T10:02:00.000Z" and track["rcv"].endswith("Z")
    page = rows(graph, settings, "MATCH (e:Event {type:'page'}) RETURN e.name AS n, e.category AS c")[0]
    assert page == {"n": "Pricing", "c": "Docs"}
    ids = rows(graph, settings, "MATCH (i:Identity)-[:IDENTIFIES]->(:Person) RETURN i.key AS k ORDER BY k")
    assert [r["k"] for r in ids] == ["anonymousId:anon-1", "userId:user-1", "userId:user-1-new"]
    account = rows(graph, settings, "MATCH (:Person)-[m:MEMBER_OF]->(a:Account) RETURN a.groupId AS g, "
                                    "a.name AS name, a.employees AS n")
    assert account == [{"g": "acme", "name": "Acme Inc", "n": 40}]
    assert scalar(graph, settings, "MATCH (s:Session) RETURN count(s)") == 1


def test_batch_gzip_and_sdk_shape(settings: Settings, graph: Driver) -> None:
    """What analytics-python / analytics.js send: a gzip batch with batch-level context and sentAt."""
    body = {
        "batch": [
            {"type": "track", "event": "Signed Up", "userId": "u-9", "messageId": "sdk-1",
             "timestamp": "2026-03-01T10:00:00.000Z", "_metadata": {"nameHints": []}},
            {"type": "identify", "userId": "u-9", "messageId": "sdk-2", "traits": {"name": "Bo"},
             "timestamp": "2026-03-01T10:00:01.000Z"},
        ],
        "context": {"library": {"name": "analytics-python", "version": "2.3.3"}},
        "sentAt": "2026-03-01T10:00:02.000Z",
    }
    with running_consumer(settings, graph), api_client(settings, graph) as client:
        response = client.post("/v1/batch", content=gzip.compress(json.dumps(body).encode()),
                               headers={"content-encoding": "gzip", "content-type": "application/json"})
        assert response.status_code == 200, response.text
        wait_until(lambda: event_count(graph, settings) == 2)
    ctx = scalar(graph, settings, "MATCH (e:Event {messageId:'sdk-1'}) RETURN e.context")
    assert json.loads(ctx)["library"]["name"] == "analytics-python"
    assert scalar(graph, settings, "MATCH (e:Event {messageId:'sdk-1'}) RETURN e.originalTimestamp") \
        .startswith("2026-03-01T10:00:00")


def test_http_errors_name_the_field_and_produce_nothing(settings: Settings, graph: Driver) -> None:
    with api_client(settings, graph) as client:
        assert client.post("/v1/track", json={"userId": "u"}, auth=("wrong", "")).status_code == 401
        missing = client.post("/v1/track", json={"userId": "u"}, auth=None)
        assert missing.status_code == 401 and missing.json()["field"] == "writeKey"
        assert client.post("/v1/track", json={"event": "E", "userId": "u", "writeKey": "test-key"},
                           auth=None).status_code == 200
        bad = client.post("/v1/track", json={"event": "E"})
        assert bad.status_code == 400 and bad.json()["field"] == "userId"
        naive = client.post("/v1/identify", json={"userId": "u", "timestamp": "2026-03-01T10:00:00"})
        assert naive.status_code == 400 and naive.json()["field"] == "timestamp"
        wrong_type = client.post("/v1/page", json={"userId": "u", "type": "track", "event": "x"})
        assert wrong_type.status_code == 400 and wrong_type.json()["field"] == "type"
        batch = client.post("/v1/batch", json={"batch": [
            {"type": "track", "userId": "u", "event": "ok"},
            {"type": "group", "userId": "u"},
            {"type": "nope", "userId": "u"},
        ]})
        assert batch.status_code == 400
        fields = {e["field"] for e in batch.json()["errors"]}
        assert fields == {"batch.1.groupId", "batch.2.type"}
        assert client.post("/v1/track", content=b"{not json").status_code == 400
        big = {"userId": "u", "event": "E", "properties": {"blob": "x" * 40_000}}
        assert client.post("/v1/track", json=big).status_code == 413
        huge = {"batch": [{"type": "track", "userId": "u", "event": "E",
                           "properties": {"b": "x" * 30_000}}] * 20}
        assert client.post("/v1/batch", json=huge).status_code == 413
    produced = read_topic(settings, settings.events_topic, expected=2, timeout=6)
    assert len(produced) == 1  # only the one valid single call; the bad batch produced nothing


def test_health_reports_both_servers(settings: Settings, graph: Driver) -> None:
    with api_client(settings, graph) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok" and body["graph"]["ok"] and body["broker"]["ok"]
