"""Reading the decision graph on the real servers: GET /v1/decisions/{id}, /v1/people/{ref}/explain and
/v1/people/{ref}/timeline, and the cypher/debug/*.cypher queries, over decisions made by the real pipeline
(published journeys and constraints, events through Kafka, the constraint resolver, timers on a fake clock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from app.api.main import create_app
from app.clock import FakeClock
from app.decisions.config_store import ConfigStore
from app.decisions.explain import DecisionReader, NotFound
from app.decisions.resolver import ConstraintResolver
from app.graph.queries import query
from app.journeys.runtime import JourneyRuntime
from app.runtime import build_consumer, make_services
from app.settings import Settings
from consumers.ingest import IngestConsumer
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey
from tests.conftest import wait_until
from tests.integration.journey_support import APPROVER, AUTHOR, publish
from tests.integration.support import produce_events, rows, scalar

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
HOUR = 3_600_000
KEYS = {"ada": "key-ada", "grace": "key-grace"}
CONSTRAINTS = {
    "id": "default",
    "channels": [{"id": "email"}, {"id": "sms", "requires_opt_in": True,
                                   "quiet_hours": {"start": "21:00", "end": "08:00"}},
                 {"id": "push"}, {"id": "webhook"}, {"id": "in_app"}, {"id": "crm"}],
    "caps": [{"id": "email-daily", "max": 2, "window": "1d", "scope": {"channel": "email"}}],
    "priorities": {"promo-a": 80, "promo-b": 60},
}


def at(minutes: float) -> str:
    import datetime as dt
    return (dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def ev(mid: str, minutes: float, name: str | None = None, kind: str = "track", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "messageId": mid, "timestamp": at(minutes), **fields}
    if name is not None:
        body["event"] = name
    return body


def promo(journey_id: str, template: str) -> JourneyDefinition:
    """A journey that emails at once on every `Promo Viewed` (two of them compete for one person)."""
    return JourneyDefinition.model_validate({
        "id": journey_id, "name": journey_id, "entry": {"event": "Promo Viewed", "reentry": "always"},
        "start": "send",
        "steps": [{"id": "send", "type": "action", "channel": "email", "template": template, "next": "done"},
                  {"id": "done", "type": "end"}]})


@dataclass
class Deciding:
    """Events in through Kafka, timers fired by hand: the journey engine with the constraint resolver."""

    settings: Settings
    consumer: IngestConsumer
    engine: JourneyRuntime
    clock: FakeClock

    def send(self, *events: dict[str, Any]) -> None:
        before = self.consumer.stats.consumed
        produce_events(self.settings, list(events))
        wait_until(lambda: self.consumer.stats.consumed >= before + len(events))

    def advance(self, **delta: float) -> int:
        self.clock.advance(**delta)
        return self.engine.fire_due(now_ms=self.clock.now_ms())


@contextmanager
def deciding(settings: Settings, driver: Driver, clock: FakeClock) -> Iterator[Deciding]:
    engine = JourneyRuntime(driver, settings.neo4j_database, clock=clock, resolver=ConstraintResolver())
    consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", clock=clock, engine=engine)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield Deciding(settings, consumer, engine, clock)
    finally:
        stop.set()
        thread.join(timeout=30)


@dataclass
class Scenario:
    promo: str  # ann's first decision between promo-a and promo-b
    promo_again: str  # and her second
    capped: str  # ann's abandoned-cart email_reminder
    no_consent: str  # ann's abandoned-cart sms_reminder


def decisions_of(graph: Driver, settings: Settings, journey: str, step: str) -> list[str]:
    found = rows(graph, settings, """
        MATCH (:Identity {key: 'userId:ann'})-[:IDENTIFIES]->(:Person)-[:ENROLLED]->(en:Enrollment)
              -[:REQUESTED]->(a:ActionRequest)<-[:CONSIDERED]-(d:Decision)
        WHERE en.journeyId = $journey AND a.stepId = $step
        RETURN d.decisionId AS id ORDER BY d.atMs""", journey=journey, step=step)
    return [str(r["id"]) for r in found]


@pytest.fixture
def scenario(settings: Settings, graph: Driver) -> Scenario:
    """ann: promo-a and promo-b compete twice (promo-a wins on priority, both times an email), so her cart
    email is capped by email-daily (2 a day); her cart SMS has no consent (SMS needs an opt-in); bob orders
    before the reminder; cy never enters a journey."""
    clock = FakeClock(START_MS)
    configs = ConfigStore(graph, settings.neo4j_database, clock)
    info = configs.push("constraints", ConstraintSet.model_validate(CONSTRAINTS), AUTHOR)
    configs.submit("constraints", "default", info.version, AUTHOR)
    configs.approve("constraints", "default", info.version, APPROVER)
    configs.publish("constraints", "default", info.version, APPROVER)
    publish(graph, settings, promo("promo-a", "welcome_email"), clock)
    publish(graph, settings, promo("promo-b", "onboarding_pro_email"), clock)
    publish(graph, settings, "abandoned_cart.yaml", clock)
    with deciding(settings, graph, clock) as h:
        h.send(ev("ann-1", 0, kind="identify", userId="ann", traits={"first_name": "Ann"}),
               ev("ann-2", 1, "Promo Viewed", userId="ann"),
               ev("ann-3", 2, "Product Added", userId="ann", properties={"cart_id": "c1"}),
               ev("ann-4", 3, "Promo Viewed", userId="ann"),
               ev("bob-1", 0, "Product Added", userId="bob", properties={"cart_id": "c2"}),
               ev("bob-2", 60, "Order Completed", userId="bob", properties={"cart_id": "c2"}),
               ev("cy-1", 0, kind="identify", userId="cy", traits={"plan": "free"}))
        assert h.advance(hours=5) == 1  # ann's email_reminder
        assert h.advance(days=1) == 1  # ann's sms_reminder
    promos = decisions_of(graph, settings, "promo-a", "send")
    (capped,) = decisions_of(graph, settings, "abandoned-cart", "email_reminder")
    (no_consent,) = decisions_of(graph, settings, "abandoned-cart", "sms_reminder")
    assert len(promos) == 2
    return Scenario(promo=promos[0], promo_again=promos[1], capped=capped, no_consent=no_consent)


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


def auth(name: str = "ada") -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def test_decision_and_explain_over_http(scenario: Scenario, client: TestClient, graph: Driver,
                                        settings: Settings) -> None:
    # one decision, two candidates: promo-a (priority 80) chosen, promo-b lost arbitration
    got = client.get(f"/v1/decisions/{scenario.promo}", headers=auth("ada"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["kind"] == "journey" and body["userId"] == "ann" and body["trigger"] == "ann-2"
    assert body["triggerEvent"]["event"] == "Promo Viewed"
    assert body["constraintVersion"] == "constraints/default@1"
    assert [c["key"] for c in body["configVersions"]] == ["constraints/default@1"]
    assert [v["key"] for v in body["journeyVersions"]] == ["promo-a@1", "promo-b@1"]
    first, second = body["candidates"]
    assert (first["journeyId"], first["rank"], first["outcome"], first["chosen"]) == ("promo-a", 1, "chosen", True)
    assert first["rendered"]["subject"] == "Welcome aboard, Ann" and first["blockedBy"] is None
    assert (second["journeyId"], second["rank"], second["outcome"]) == ("promo-b", 2, "lost_arbitration")
    assert second["blockedBy"]["constraintId"] == "arbitration" and second["blockedBy"]["kind"] == "arbitration"
    assert second["rendered"] is None
    assert second["sentence"] == (
        "2026-03-01 10:01 UTC: email onboarding_pro_email from promo-b v1 step send was not sent: it lost "
        "arbitration to email welcome_email from promo-a v1 step send (rank 1) (constraints v1).")
    assert body["sentences"] == [first["sentence"], second["sentence"]]
    assert client.get(f"/v1/decisions/{scenario.promo}", headers=auth("grace")).status_code == 200

    # why didn't ann get the cart email? the cap (the promo email counted)
    why = client.get("/v1/people/ann/explain", params={"journey": "abandoned-cart", "step": "email_reminder"},
                     headers=auth())
    assert why.status_code == 200, why.text
    answer = why.json()
    assert answer["entered"] is True and answer["reachedStep"] is True
    assert answer["sentences"] == [
        "ann entered abandoned-cart v1 at 2026-03-01 10:02 UTC and reached email_reminder at "
        "2026-03-01 14:02 UTC.",
        "2026-03-01 14:02 UTC: email cart_reminder_email from abandoned-cart v1 step email_reminder was not "
        "sent: the cap email-daily (2 per 1d on email) was already reached (constraints v1).",
    ]
    (decision,) = answer["decisions"]
    assert decision["decisionId"] == scenario.capped and decision["trigger"] == "timer"
    (candidate,) = decision["candidates"]
    assert candidate["blockedBy"]["constraintId"] == "cap:email-daily"
    assert candidate["blockedBy"]["config"]["max"] == 2
    assert candidate["blockedBy"]["key"] == "constraints/default@1/cap:email-daily"
    assert [v["stepId"] for v in answer["enrollments"][0]["visits"]][:2] == ["wait_for_order", "email_reminder"]

    # the whole journey: both reminders, the SMS blocked by consent (SMS needs an opt-in)
    whole = client.get("/v1/people/userId:ann/explain", params={"journey": "abandoned-cart"}, headers=auth())
    assert whole.status_code == 200
    assert [d["decisionId"] for d in whole.json()["decisions"]] == [scenario.capped, scenario.no_consent]
    assert whole.json()["sentences"][-1] == (
        "2026-03-02 14:02 UTC: sms cart_reminder_sms from abandoned-cart v1 step sms_reminder was not sent: there "
        "is no consent for sms (sms needs an opt-in for marketing and the person has not opted in) "
        "(constraints v1).")

    # the loser's side, by personId
    person_id = scalar(graph, settings, "MATCH (:Identity {key: 'userId:ann'})-[:IDENTIFIES]->(p) RETURN p.personId")
    lost = client.get(f"/v1/people/personId:{person_id}/explain", params={"journey": "promo-b"}, headers=auth())
    assert lost.status_code == 200
    sentences = lost.json()["sentences"]
    assert [s.split(": ", 1)[0] for s in sentences] == [
        "ann entered promo-b v1 at 2026-03-01 10:01 UTC, completed at done at 2026-03-01 10:01 UTC.",
        "2026-03-01 10:01 UTC", "2026-03-01 10:01 UTC",
        "ann entered promo-b v1 at 2026-03-01 10:03 UTC, completed at done at 2026-03-01 10:03 UTC.",
        "2026-03-01 10:03 UTC", "2026-03-01 10:03 UTC"]
    assert "promo-b v1 step send was not sent: it lost arbitration to email welcome_email from promo-a v1" \
        in sentences[2]
    # the second time promo-a's email filled the day's cap before promo-b was looked at
    assert sentences[5].endswith("promo-b v1 step send was not sent: the cap email-daily (2 per 1d on email) was "
                                 "already reached (constraints v1).")

    # bob ordered first; cy never entered
    bob = client.get("/v1/people/bob/explain", params={"journey": "abandoned-cart", "step": "email_reminder"},
                     headers=auth())
    assert bob.json()["reachedStep"] is False and bob.json()["decisions"] == []
    assert bob.json()["sentences"] == [
        "bob entered abandoned-cart v1 at 2026-03-01 10:00 UTC, completed at ordered at 2026-03-01 11:00 UTC "
        "before reaching email_reminder."]
    cy = client.get("/v1/people/cy/explain", params={"journey": "abandoned-cart"}, headers=auth())
    assert cy.status_code == 200 and cy.json()["entered"] is False
    assert cy.json()["sentences"] == ["cy never entered abandoned-cart."]

    # errors
    assert client.get("/v1/decisions/nope", headers=auth()).status_code == 404
    missing = client.get("/v1/people/nobody/explain", params={"journey": "abandoned-cart"}, headers=auth())
    assert missing.status_code == 404 and missing.json()["success"] is False
    assert client.get("/v1/people/ann/explain", headers=auth()).status_code == 422  # journey is required
    assert client.get(f"/v1/decisions/{scenario.promo}").status_code == 401
    assert client.get("/v1/people/ann/timeline", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/people/ann/timeline", params={"before": "soon"}, headers=auth()).status_code == 400
    assert client.get("/v1/people/nobody/timeline", headers=auth()).status_code == 404


def test_timeline_pages_cover_everything_once_in_order(scenario: Scenario, client: TestClient, graph: Driver,
                                                       settings: Settings) -> None:
    full = client.get("/v1/people/ann/timeline", params={"limit": 500}, headers=auth())
    assert full.status_code == 200, full.text
    items = full.json()["items"]
    assert full.json()["next"] is None
    assert {i["kind"] for i in items} == {"session", "event", "enrollment", "visit", "decision"}
    assert [i["atMs"] for i in items] == sorted((i["atMs"] for i in items), reverse=True)
    assert sum(i["kind"] == "decision" for i in items) == 4
    assert sum(i["kind"] == "event" for i in items) == 4
    visits = scalar(graph, settings, """MATCH (:Identity {key: 'userId:ann'})-[:IDENTIFIES]->(:Person)
                                        -[:ENROLLED]->(:Enrollment)-[v:VISITED]->() RETURN count(v)""")
    assert sum(i["kind"] == "visit" for i in items) == visits
    newest = items[0]
    assert newest["kind"] == "decision" and newest["id"] == scenario.no_consent
    assert newest["summary"] == "journey decision (constraints v1): abandoned-cart/sms_reminder: no_consent"
    # a walk's visits keep their order inside one millisecond
    walks: dict[str, list[int]] = {}
    for item in items:
        if item["kind"] == "visit":
            walks.setdefault(item["data"]["enrollmentId"], []).append(item["data"]["seq"])
    assert len(walks) == 5 and all(seqs == sorted(seqs, reverse=True) for seqs in walks.values())

    paged: list[dict[str, Any]] = []
    before: str | None = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 4} if before is None else {"limit": 4, "before": before}
        page = client.get("/v1/people/ann/timeline", params=params, headers=auth()).json()
        assert len(page["items"]) <= 4
        paged.extend(page["items"])
        before = page["next"]
        if before is None:
            break
    assert [(i["kind"], i["id"]) for i in paged] == [(i["kind"], i["id"]) for i in items]

    # `before` as a time: everything strictly earlier
    cut = items[len(items) // 2]["atMs"]
    older = client.get("/v1/people/ann/timeline", params={"limit": 500, "before": str(cut)}, headers=auth()).json()
    assert [i["id"] for i in older["items"]] == [i["id"] for i in items if i["atMs"] < cut]
    iso = client.get("/v1/people/ann/timeline", params={"limit": 500, "before": "2026-03-01T10:00:30Z"},
                     headers=auth()).json()
    assert {i["kind"] for i in iso["items"]} == {"session", "event"}  # the identify at 10:00 and its session


def test_reader_directly_and_consent_on_the_timeline(scenario: Scenario, graph: Driver, settings: Settings) -> None:
    reader = DecisionReader(graph, settings.neo4j_database)
    decision = reader.decision(scenario.no_consent)
    assert decision.candidates[0].blockedBy is not None
    assert decision.candidates[0].blockedBy.constraintId == "consent:sms"
    person_id = decision.personId
    graph.execute_query(query("decisions/person_set_consent"), personId=person_id, channelId="email",
                        status="opted_out", source="api", atMs=START_MS + 2 * 86_400_000, marketingOnly=False,
                        messageId=None, database_=settings.neo4j_database)
    page = reader.timeline("userId:ann", limit=1)
    assert [(i.kind, i.summary) for i in page.items] == [("consent", "consent on email: opted_out (from api)")]
    assert page.next is not None
    with pytest.raises(NotFound):
        reader.timeline("anonymousId:nobody-here")


# --- the debug queries ---------------------------------------------------------------------------------------

def debug(graph: Driver, settings: Settings, name: str, **params: Any) -> list[dict[str, Any]]:
    return rows(graph, settings, query(f"debug/{name}"), **params)


def test_debug_queries(scenario: Scenario, graph: Driver, settings: Settings) -> None:
    why = debug(graph, settings, "why_not_sent", userId="ann", journeyId="abandoned-cart", stepId="email_reminder")
    assert [(r["step"], r["outcome"], r["blockedBy"], r["constraints"], r["isThis"]) for r in why] == [
        ("email_reminder", "capped", "cap:email-daily", "constraints/default@1", True)]
    assert '"max":2' in why[0]["constraintConfig"] and why[0]["decision"] == scenario.capped
    every = debug(graph, settings, "why_not_sent", userId="ann", journeyId="promo-b", stepId=None)
    assert [(r["journey"], r["rank"], r["outcome"], r["isThis"]) for r in every] == [
        ("promo-a", 1, "chosen", False), ("promo-b", 2, "capped", True),
        ("promo-a", 1, "chosen", False), ("promo-b", 2, "lost_arbitration", True)]
    assert [r["decision"] for r in every] == [scenario.promo_again] * 2 + [scenario.promo] * 2

    capped = debug(graph, settings, "capped_today", channel="email", sinceMs=START_MS)
    assert [(r["who"], r["cap"], r["blocked"]) for r in capped] == [("ann", "cap:email-daily", 2)]  # promo-b, cart
    later = debug(graph, settings, "capped_today", channel="email", sinceMs=START_MS + HOUR)
    assert [(r["who"], r["blocked"], r["someRequests"]) for r in later] == [
        ("ann", 1, ["abandoned-cart@1/ann-3#2"])]
    assert debug(graph, settings, "capped_today", channel="email", sinceMs=START_MS + 86_400_000) == []
    assert debug(graph, settings, "capped_today", channel="sms", sinceMs=START_MS) == []

    competing = debug(graph, settings, "competing_journeys", userId="ann")
    assert [(r["decision"], r["candidates"], sorted(r["competitors"])) for r in competing] == [
        (scenario.promo_again, 2, ["promo-a", "promo-b"]), (scenario.promo, 2, ["promo-a", "promo-b"])]
    assert [(c["journey"], c["outcome"], c["blockedBy"]) for c in competing[1]["ranked"]] == [
        ("promo-a", "chosen", None), ("promo-b", "lost_arbitration", "arbitration")]
    assert [c["outcome"] for c in competing[0]["ranked"]] == ["chosen", "capped"]

    records, _, _ = graph.execute_query(query("debug/decision_neighbourhood"), decisionId=scenario.promo,
                                        database_=settings.neo4j_database)
    labels = {label for record in records for value in record.values() if hasattr(value, "labels")
              for label in value.labels}
    # (losing arbitration is a ranking: no BLOCKED_BY edge to a shared node, so no Constraint here)
    assert {"Decision", "Person", "Event", "ConfigVersion", "ActionRequest", "Step", "JourneyVersion"} <= labels
    assert len(records) == 2
    types = {value.type for record in records for value in record.values() if hasattr(value, "type")
             and value is not None and not hasattr(value, "labels")}
    assert {"FOR", "TRIGGERED_BY", "UNDER", "CONSIDERED", "CHOSE", "FROM_STEP", "IN_VERSION"} <= types

    mine = debug(graph, settings, "person_decisions", userId="ann", limit=20)
    assert [r["decision"] for r in mine] == [scenario.no_consent, scenario.capped, scenario.promo_again,
                                             scenario.promo]
    assert mine[0]["candidates"] == ["abandoned-cart/sms_reminder sms: no_consent (consent:sms)"]
    assert mine[3]["candidates"] == ["promo-a/send email: chosen", "promo-b/send email: lost_arbitration (arbitration)"]
    assert [r["decision"] for r in debug(graph, settings, "person_decisions", userId="ann", limit=1)] == [
        scenario.no_consent]
