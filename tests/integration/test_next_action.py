"""POST /v1/next-action on the real servers: offers, their conditions and caps, held in-app journey messages,
bad input, and concurrent requests for one person never sharing the last slot of a cap."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from neo4j import Driver

from app.clock import SystemClock
from app.decisions.config_store import ConfigStore
from app.embedded import free_port
from app.runtime import ApiServer, make_services
from app.settings import Settings
from graph_models.constraints import PlacementSet
from graph_models.journey import JourneyDefinition
from tests.integration.journey_support import APPROVER, AUTHOR, harness, publish
from tests.integration.support import api_client, rows, scalar

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "decisions" / "examples"


def now_iso(minutes: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def publish_placements(driver: Driver, settings: Settings, doc: dict[str, Any] | None = None) -> None:
    sample = yaml.safe_load((EXAMPLES / "placements.yaml").read_text())
    model = PlacementSet.model_validate(doc if doc is not None else sample)
    store = ConfigStore(driver, settings.neo4j_database)
    info = store.push("placements", model, AUTHOR)
    store.submit("placements", "default", info.version, AUTHOR)
    store.approve("placements", "default", info.version, APPROVER)
    store.publish("placements", "default", info.version, APPROVER)


def identify(settings: Settings, driver: Driver, user: str, **traits: Any) -> None:
    with harness(settings, driver, _clock()) as h:
        h.send({"type": "identify", "userId": user, "traits": traits, "timestamp": now_iso(-5),
                "messageId": f"id-{user}"})


def _clock() -> Any:
    from app.clock import FakeClock

    return FakeClock(SystemClock().now_ms())


def test_offers_conditions_caps_and_the_decision_graph(settings: Settings, graph: Driver) -> None:
    publish_placements(graph, settings)
    identify(settings, graph, "tia", plan="trial", first_name="Tia")
    with api_client(settings, graph) as client:
        shown = []
        for _ in range(4):
            body = client.post("/v1/next-action", json={"userId": "tia", "placement": "home_banner"}).json()
            shown.append(body["action"]["offerId"])
        assert shown == ["upgrade-banner"] * 3 + ["welcome-back"]  # the banner's cap is 3 a day
        assert body["tracking"]["decisionId"] == body["decisionId"] and body["action"]["content"]["text"]
        capped = next(c for c in body["candidates"] if c["offerId"] == "upgrade-banner")
        assert capped["outcome"] == "capped" and "upgrade-banner-daily" in capped["reason"]
        nobody = client.post("/v1/next-action", json={"userId": "nobody", "placement": "home_banner"}).json()
        assert nobody["nothing"] is True and nobody["decisionId"] is None and "nobody" in nobody["reasons"][0]
        drawer = client.post("/v1/next-action", json={"userId": "tia", "placement": "cart_drawer"}).json()
        assert drawer["nothing"] is True  # no product added today: the offer's condition fails
        assert drawer["candidates"][0]["outcome"] == "ineligible"
        decision = client.get(f"/v1/decisions/{body['decisionId']}",
                              headers={"Authorization": "Bearer dev-admin-key"})
        assert decision.status_code in (200, 401)  # the read API's own tests cover its answers
    found = rows(graph, settings, """
        MATCH (d:Decision {kind: 'onsite'})-[c:CONSIDERED]->(a:ActionRequest)-[:FOR]->(p:Person {userId: 'tia'})
        OPTIONAL MATCH (o:Offer {key: a.offerKey})
        OPTIONAL MATCH (a)-[:BLOCKED_BY]->(k:Constraint)
        RETURN d.placement AS placement, a.offerId AS offer, c.outcome AS outcome, o.offerId AS node,
               k.constraintId AS blocked ORDER BY d.atMs, a.offerId""")
    assert ("home_banner", "upgrade-banner", "capped", "upgrade-banner", "offer_cap:upgrade-banner:upgrade-banner-daily"
            ) in [tuple(r.values()) for r in found]
    assert scalar(graph, settings, "MATCH (d:Decision {kind: 'onsite'})-[:CHOSE]->() RETURN count(d)") == 4


def test_a_publish_takes_effect_on_the_next_request(settings: Settings, graph: Driver) -> None:
    """The resolver keeps the documents it last read, and each decision's load checks their stamps: a
    placements version published between two requests of one API process is the one the second applies."""
    publish_placements(graph, settings)
    identify(settings, graph, "pia", plan="trial", first_name="Pia")
    sample = yaml.safe_load((EXAMPLES / "placements.yaml").read_text())
    with api_client(settings, graph) as client:
        first = client.post("/v1/next-action", json={"userId": "pia", "placement": "home_banner"}).json()
        assert first["action"]["offerId"] == "upgrade-banner"
        banner = next(p for p in sample["placements"] if p["id"] == "home_banner")
        banner["offers"] = [o for o in banner["offers"] if o["id"] != "upgrade-banner"]
        footer_offer = {**banner["offers"][0], "id": "footer-offer", "caps": []}
        sample["placements"].append({**banner, "id": "footer_banner", "offers": [footer_offer]})
        publish_placements(graph, settings, sample)
        second = client.post("/v1/next-action", json={"userId": "pia", "placement": "home_banner"}).json()
        assert second["action"]["offerId"] != "upgrade-banner"
        assert [c["offerId"] for c in second["candidates"]] == [o["id"] for o in banner["offers"]]
        footer = client.post("/v1/next-action", json={"userId": "pia", "placement": "footer_banner"})
        assert footer.status_code == 200 and footer.json()["decisionId"]
    assert scalar(graph, settings, "MATCH (d:Decision {kind: 'onsite', placement: 'home_banner'}) "
                                   "RETURN count(DISTINCT d.placementsVersion)") == 2


def test_bad_requests(settings: Settings, graph: Driver) -> None:
    publish_placements(graph, settings)
    with api_client(settings, graph) as client:
        unknown = client.post("/v1/next-action", json={"userId": "u", "placement": "nowhere"})
        assert unknown.status_code == 404 and unknown.json()["field"] == "placement"
        no_person = client.post("/v1/next-action", json={"placement": "home_banner"})
        assert no_person.status_code == 422 and "userId or anonymousId" in no_person.text
        extra = client.post("/v1/next-action", json={"userId": "u", "placement": "home_banner", "oops": 1})
        assert extra.status_code == 422 and "oops" in extra.text
        client.auth = ("wrong-key", "")
        assert client.post("/v1/next-action", json={"userId": "u", "placement": "home_banner"}).status_code == 401


def test_journey_in_app_messages_are_held_for_pickup(settings: Settings, graph: Driver) -> None:
    publish_placements(graph, settings)
    clock = _clock()
    publish(graph, settings, JourneyDefinition.model_validate({
        "id": "tips", "name": "tips", "entry": {"event": "Signed Up"}, "start": "tip",
        "steps": [{"id": "tip", "type": "action", "channel": "in_app", "template": "trial_tips_in_app",
                   "next": "done"}, {"id": "done", "type": "end"}]}), clock)
    with harness(settings, graph, clock) as h:
        h.send({"type": "track", "event": "Signed Up", "userId": "ivy", "timestamp": now_iso(-1),
                "messageId": "su-ivy"})
    with api_client(settings, graph) as client:
        first = client.post("/v1/next-action", json={"userId": "ivy", "placement": "home_banner"}).json()
        assert first["action"]["source"] == "journey" and first["action"]["journeyId"] == "tips"
        second = client.post("/v1/next-action", json={"userId": "ivy", "placement": "home_banner"}).json()
        assert second["action"]["source"] == "offer"  # picked up once, then the offers again
    assert scalar(graph, settings, "MATCH (a:ActionRequest {pickup: 'picked'}) RETURN count(a)") == 1


def test_concurrent_requests_share_no_cap_slot(settings: Settings, graph: Driver) -> None:
    publish_placements(graph, settings, {"id": "default", "placements": [{"id": "hero", "offers": [
        {"id": "once", "template": "upgrade_banner_in_app", "priority": 90,
         "caps": [{"id": "one", "max": 1, "window": "1d"}]},
        {"id": "fallback", "template": "welcome_back_in_app", "priority": 10}]}]})
    identify(settings, graph, "rex", plan="trial")
    services = make_services(settings, graph, settings.kafka_bootstrap or "")
    port = free_port()
    server = ApiServer(services, "127.0.0.1", port)
    server.start()
    results: list[str] = []
    try:
        def ask() -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=("test-key", ""), timeout=60) as c:
                body = c.post("/v1/next-action", json={"userId": "rex", "placement": "hero"}).json()
                results.append(body["action"]["offerId"])

        threads = [threading.Thread(target=ask) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        server.stop()
        services.producer.close()
    assert len(results) == 12
    assert results.count("once") == 1 and results.count("fallback") == 11
