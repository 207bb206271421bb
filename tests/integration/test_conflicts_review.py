"""Conflicts before publish over HTTP on the real servers: computed at submit, recorded with the approval, an
acknowledgement required by the approver, and a migration preview that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from app.api.main import create_app
from app.clock import FakeClock
from app.runtime import make_services
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey
from tests.integration.journey_support import harness, publish
from tests.integration.support import scalar

pytestmark = pytest.mark.integration
KEYS = {"ada": "key-ada", "grace": "key-grace"}


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def promo(jid: str, event: str = "Product Added", wait: bool = False) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"id": "send", "type": "action", "channel": "email",
                                    "template": "cart_reminder_email", "next": "end"}, {"id": "end", "type": "end"}]
    if wait:
        steps.insert(0, {"id": "hold", "type": "wait", "duration": "1d", "next": "send"})
    return {"id": jid, "name": jid, "entry": {"event": event}, "start": "hold" if wait else "send", "steps": steps}


@pytest.fixture
def client(settings: Settings, graph: Driver) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": [ApiKey("ada", "author", KEYS["ada"]),
                                                     ApiKey("grace", "approver", KEYS["grace"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    try:
        with TestClient(create_app(services)) as test_client:
            yield test_client
    finally:
        services.producer.close()


def test_conflicts_are_reviewed_recorded_and_acknowledged(client: TestClient, settings: Settings,
                                                           graph: Driver) -> None:
    clock = FakeClock()
    publish(graph, settings, JourneyDefinition.model_validate(promo("cart", wait=True)), clock)
    with harness(settings, graph, clock) as h:
        h.send({"type": "track", "event": "Product Added", "userId": "ann", "messageId": "pa-1",
                "timestamp": "2026-01-01T00:00:00Z"})
    assert client.post("/v1/journeys", json=promo("promo"), headers=auth("ada")).status_code == 201
    assert client.post("/v1/journeys/promo/versions/1/submit", headers=auth("ada")).status_code == 200
    found = client.get("/v1/journeys/promo/versions/1/conflicts?days=3650", headers=auth("grace")).json()
    kinds = {(c["kind"], c["journey"]) for c in found["conflicts"]}
    assert {("shared_trigger", "cart"), ("shared_channel", "cart"), ("shared_people", "cart")} <= kinds
    recorded = scalar(graph, settings, "MATCH (v:JourneyVersion {key: 'promo@1'}) RETURN v.conflictCount")
    assert recorded >= 2  # recorded at submit (shared people counted over 30 days of the real clock)
    approved = client.post("/v1/journeys/promo/versions/1/approve?require_ack=true", headers=auth("grace"))
    assert approved.status_code == 200, approved.text
    refused = client.post("/v1/journeys/promo/versions/1/publish", headers=auth("grace"))
    assert refused.status_code == 409 and "acknowledged" in refused.json()["error"]
    ok = client.post("/v1/journeys/promo/versions/1/publish", json={"acknowledge_conflicts": True},
                     headers=auth("grace"))
    assert ok.status_code == 200 and ok.json()["status"] == "published"


def test_a_migration_preview_changes_nothing(client: TestClient, settings: Settings, graph: Driver) -> None:
    clock = FakeClock()
    publish(graph, settings, JourneyDefinition.model_validate(promo("cart", wait=True)), clock)
    with harness(settings, graph, clock) as h:
        for i in range(3):
            h.send({"type": "track", "event": "Product Added", "userId": f"u{i}", "messageId": f"pa-{i}",
                    "timestamp": "2026-01-01T00:00:00Z"})
    v2 = promo("cart", wait=True)
    v2["steps"][0]["id"] = "pause"
    v2["start"] = "pause"
    assert client.post("/v1/journeys", json=v2, headers=auth("ada")).status_code == 201
    client.post("/v1/journeys/cart/versions/2/submit", headers=auth("ada"))
    client.post("/v1/journeys/cart/versions/2/approve", headers=auth("grace"))
    preview = client.post("/v1/journeys/cart/versions/2/publish/preview", json={"migrate": {"hold": "pause"}},
                          headers=auth("grace"))
    assert preview.status_code == 200, preview.text
    [row] = preview.json()
    assert (row["fromVersion"], row["fromStep"], row["people"], row["toVersion"], row["toStep"], row["moves"]) == (
        1, "hold", 3, 2, "pause", True)
    assert sorted(row["sample"]) == ["u0", "u1", "u2"]
    assert scalar(graph, settings, "MATCH (en:Enrollment {version: 1}) WHERE en.status = 'active' "
                                   "RETURN count(en)") == 3  # nothing moved
    bad = client.post("/v1/journeys/cart/versions/2/publish/preview", json={"migrate": {"nope": "pause"}},
                      headers=auth("grace"))
    assert bad.status_code == 400
