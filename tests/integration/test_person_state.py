"""Person state on the real servers: consent from identify traits and (un)subscribe events in the ingest
transaction, context.timezone on the person, merges moving consent/suppression/decision edges, and the
consent and suppression APIs (HTTP and CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import app as cli_app
from app.clock import FakeClock
from app.decisions.people import find_person
from app.decisions.person_state import PersonNotFound, PersonStateStore, PersonStateWriter
from app.graph.event_store import EventStore
from app.intake.normalize import AnyEvent
from app.runtime import make_services
from app.settings import Settings, get_settings
from graph_models.principal import ApiKey
from tests.conftest import wait_until
from tests.integration.support import mid, produce_events, rows, running_consumer, scalar
from tests.unit.helpers import MINUTE_MS, T0_MS, event

pytestmark = pytest.mark.integration
KEYS = {"ada": "ada-key", "grace": "grace-key", "root": "root-key"}


def at(minutes: float) -> int:
    return T0_MS + int(minutes * MINUTE_MS)


def store_for(graph: Driver, settings: Settings) -> EventStore:
    writer = PersonStateWriter()
    return EventStore(graph, settings.neo4j_database, session_gap_ms=settings.session_gap_ms,
                      clock=FakeClock(at(60)), after_write=writer.hook())


def ev(type_: str, minutes: float, **fields: Any) -> AnyEvent:
    return event(type_, ts_ms=at(minutes), received_at_ms=at(minutes), message_id=mid(), **fields)


def consent(graph: Driver, settings: Settings, user: str) -> dict[str, dict[str, Any]]:
    found = rows(graph, settings, """
        MATCH (:Identity {key: $key})-[:IDENTIFIES]->(p:Person)-[c:CONSENT]->(ch:Channel)
        RETURN ch.channelId AS channel, c.status AS status, c.source AS source, c.atMs AS atMs,
               c.marketingOnly AS marketingOnly, c.messageId AS messageId""", key=f"userId:{user}")
    return {r.pop("channel"): r for r in found}


def test_identify_traits_write_consent_edges(settings: Settings, graph: Driver) -> None:
    ident = ev("identify", 1, userId="ann", traits={"email_opt_in": False, "sms_opt_in": True, "plan": "pro"})
    store_for(graph, settings).write([ident])
    assert consent(graph, settings, "ann") == {
        "email": {"status": "opted_out", "source": "trait:email_opt_in", "atMs": at(1), "marketingOnly": False,
                  "messageId": ident.messageId},
        "sms": {"status": "opted_in", "source": "trait:sms_opt_in", "atMs": at(1), "marketingOnly": False,
                "messageId": ident.messageId},
    }
    store_for(graph, settings).write([ev("identify", 2, userId="ann", traits={"unsubscribed": True})])
    email = consent(graph, settings, "ann")["email"]
    assert (email["status"], email["source"], email["marketingOnly"]) == ("opted_out", "trait:unsubscribed", True)
    # the trait itself is still a normal trait
    assert scalar(graph, settings, "MATCH (p:Person {userId: 'ann'}) RETURN p.unsubscribed") is True


def test_subscribe_events_and_later_wins_across_batches(settings: Settings, graph: Driver) -> None:
    store = store_for(graph, settings)
    store.write([ev("track", 5, userId="bob", event="Unsubscribed", properties={"channel": "email"})])
    assert consent(graph, settings, "bob")["email"]["status"] == "opted_out"
    # an older Subscribed arriving late changes nothing; a newer one wins
    store.write([ev("track", 3, userId="bob", event="Subscribed", properties={"channel": "email"})])
    assert consent(graph, settings, "bob")["email"]["atMs"] == at(5)
    assert consent(graph, settings, "bob")["email"]["status"] == "opted_out"
    store.write([ev("track", 7, userId="bob", event="Subscribed", properties={"channels": ["email", "push"]})])
    found = consent(graph, settings, "bob")
    assert {c: (v["status"], v["source"]) for c, v in found.items()} == {
        "email": ("opted_in", "event:Subscribed"), "push": ("opted_in", "event:Subscribed")}
    # no channel: every channel
    store.write([ev("track", 9, userId="bob", event="Unsubscribed")])
    found = consent(graph, settings, "bob")
    assert len(found) == 6 and {v["status"] for v in found.values()} == {"opted_out"}
    assert scalar(graph, settings, "MATCH (c:Channel) RETURN count(c)") == 6


def test_out_of_order_within_one_batch_later_wins(settings: Settings, graph: Driver) -> None:
    late = ev("track", 4, userId="cy", event="Subscribed", properties={"channel": "sms"})
    early = ev("identify", 2, userId="cy", traits={"sms_opt_in": False})
    store_for(graph, settings).write([late, early])
    sms = consent(graph, settings, "cy")["sms"]
    assert (sms["status"], sms["messageId"]) == ("opted_in", late.messageId)


def test_context_timezone_recorded_latest_wins(settings: Settings, graph: Driver) -> None:
    store = store_for(graph, settings)
    store.write([ev("track", 2, userId="dee", event="E", context={"timezone": "Europe/Paris"}),
                 ev("identify", 1, userId="dee", traits={"timezone": "Asia/Tokyo"},
                    context={"timezone": "America/New_York"})])
    person = rows(graph, settings, "MATCH (p:Person {userId: 'dee'}) RETURN p.contextTimezone AS tz, "
                                   "p.contextTimezoneAtMs AS tzMs, p.timezone AS trait")[0]
    assert person == {"tz": "Europe/Paris", "tzMs": at(2), "trait": "Asia/Tokyo"}
    store.write([ev("track", 1.5, userId="dee", event="E", context={"timezone": "Asia/Kolkata"}),
                 ev("track", 3, userId="dee", event="E", context={"timezone": "Not/AZone"})])
    assert scalar(graph, settings, "MATCH (p:Person {userId: 'dee'}) RETURN p.contextTimezone") == "Europe/Paris"
    store.write([ev("track", 4, userId="dee", event="E", context={"timezone": "Europe/Berlin"})])
    assert scalar(graph, settings, "MATCH (p:Person {userId: 'dee'}) RETURN p.contextTimezone") == "Europe/Berlin"


def test_merge_moves_consent_suppression_and_decisions(settings: Settings, graph: Driver) -> None:
    store = store_for(graph, settings)
    # an anonymous visitor opts out of sms and in to push, and is on a list; the known user has older state
    store.write([ev("identify", 1, userId="eve", traits={"sms_opt_in": True, "push_opt_in": False}),
                 ev("track", 2, anonymousId="dev-9", event="Unsubscribed", properties={"channel": "sms"},
                    context={"timezone": "Europe/Rome"}),
                 ev("track", 2, anonymousId="dev-9", event="Subscribed", properties={"channel": "email"})])
    anon = find_anon(graph, settings, "dev-9")
    known = person_of(graph, settings, "userId:eve")
    people = PersonStateStore(graph, settings.neo4j_database, FakeClock(at(3)))
    people.suppress("legal-hold", ["anonymousId:dev-9"], "court order", at_ms=at(2))
    people.suppress("legal-hold", ["eve"], "older reason", at_ms=at(1))
    people.suppress("hard-bounces", ["anonymousId:dev-9"], "bounced")
    graph.execute_query("""
        MATCH (p:Person {personId: $anon}) CREATE (:Decision {decisionId: 'd-1', personId: $anon})-[:FOR]->(p)""",
                        anon=anon, database_=settings.neo4j_database)
    # the anonymous id joins the user: the anonymous person merges into eve's
    store.write([ev("track", 5, userId="eve", anonymousId="dev-9", event="Signed In")])
    assert scalar(graph, settings, "MATCH (p:Person {personId: $id}) RETURN count(p)", id=anon) == 0
    found = consent(graph, settings, "eve")
    assert {c: (v["status"], v["source"]) for c, v in found.items()} == {
        "sms": ("opted_out", "event:Unsubscribed"),  # later than eve's trait
        "push": ("opted_out", "trait:push_opt_in"),
        "email": ("opted_in", "event:Subscribed"),
    }
    lists = rows(graph, settings, """
        MATCH (p:Person {personId: $id})-[s:SUPPRESSED]->(l:SuppressionList)
        RETURN l.listId AS list, s.reason AS reason ORDER BY list""", id=known)
    assert lists == [{"list": "hard-bounces", "reason": "bounced"}, {"list": "legal-hold", "reason": "court order"}]
    assert scalar(graph, settings, "MATCH (:Decision {decisionId: 'd-1'})-[:FOR]->(p:Person) RETURN p.personId") \
        == known
    assert scalar(graph, settings, "MATCH ()-[c:CONSENT]->() RETURN count(c)") == 3
    assert scalar(graph, settings, "MATCH (p:Person {personId: $id}) RETURN p.contextTimezone", id=known) == \
        "Europe/Rome"


def find_anon(graph: Driver, settings: Settings, anon: str) -> str:
    return person_of(graph, settings, f"anonymousId:{anon}")


def person_of(graph: Driver, settings: Settings, ref: str) -> str:
    with graph.session(database=settings.neo4j_database) as session:
        found = session.execute_read(find_person, ref)
    assert found is not None
    return found


def test_consumer_writes_consent_before_the_engine_in_one_batch(settings: Settings, graph: Driver) -> None:
    """Through Kafka and build_consumer: consent from a batch that also carries other events."""
    events = [
        {"type": "identify", "userId": "fay", "messageId": mid(), "timestamp": "2026-03-01T10:00:00Z",
         "traits": {"email_opt_in": True}, "context": {"timezone": "Europe/Lisbon"}},
        {"type": "track", "userId": "fay", "messageId": mid(), "timestamp": "2026-03-01T10:01:00Z",
         "event": "Order Completed", "properties": {"total": 10}},
        {"type": "track", "userId": "fay", "messageId": mid(), "timestamp": "2026-03-01T10:02:00Z",
         "event": "Unsubscribed", "properties": {"channel": "email", "marketingOnly": True}},
    ]
    with running_consumer(settings, graph) as consumer:
        produce_events(settings, events)
        wait_until(lambda: consumer.stats.consumed >= 3)
    email = consent(graph, settings, "fay")["email"]
    assert (email["status"], email["marketingOnly"], email["messageId"]) == ("opted_out", True, events[2]["messageId"])
    assert scalar(graph, settings, "MATCH (p:Person {userId: 'fay'}) RETURN p.contextTimezone") == "Europe/Lisbon"


# --- the store, HTTP and CLI ----------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, graph: Driver) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": [
        ApiKey("ada", "author", KEYS["ada"]), ApiKey("grace", "approver", KEYS["grace"]),
        ApiKey("root", "admin", KEYS["root"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    services.clock = FakeClock(at(100))
    try:
        with TestClient(create_app(services)) as test_client:
            yield test_client
    finally:
        services.producer.close()


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def seed(settings: Settings, graph: Driver) -> None:
    store_for(graph, settings).write([ev("identify", 1, userId="gus", anonymousId="dev-g",
                                         traits={"sms_opt_in": True}),
                                      ev("identify", 1, userId="hal", traits={"name": "Hal"})])


def test_store_errors(settings: Settings, graph: Driver) -> None:
    people = PersonStateStore(graph, settings.neo4j_database, FakeClock(at(10)))
    with pytest.raises(PersonNotFound):
        people.set_consent("nobody", "email", "opted_out")
    with pytest.raises(PersonNotFound):
        people.consent("personId:nope")
    with pytest.raises(PersonNotFound):
        people.unsuppress("legal-hold", "nobody")
    seed(settings, graph)
    assert people.unsuppress("legal-hold", "gus") is False
    result = people.suppress("legal-hold", ["gus", "nobody", "anonymousId:dev-g"], "x", source="callback")
    assert (result.suppressed, result.missing) == (["gus", "anonymousId:dev-g"], ["nobody"])
    assert [s.personId for s in people.suppressions("legal-hold")] == [person_of(graph, settings, "gus")]
    assert people.unsuppress("legal-hold", "gus") is True
    assert people.suppressions("legal-hold") == []
    gus = person_of(graph, settings, "gus")
    result = people.suppress("legal-hold", [f"personId:{gus}", "personId:nope", "", "userId:hal", "hal"], "y")
    assert (result.suppressed, result.missing) == ([f"personId:{gus}", "userId:hal", "hal"], ["personId:nope", ""])
    assert sorted(s.userId or "" for s in people.suppressions("legal-hold")) == ["gus", "hal"]
    assert people.unsuppress("legal-hold", "hal") is True
    # the API bumps the person's lock counter on each write
    assert scalar(graph, settings, "MATCH (p:Person {userId: 'gus'}) RETURN p._rev") == 4


def test_consent_routes(settings: Settings, graph: Driver, client: TestClient) -> None:
    seed(settings, graph)
    got = client.get("/v1/people/gus/consent", headers=auth("grace"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["personId"] == person_of(graph, settings, "gus")
    by_channel = {c["channel"]: c for c in body["channels"]}
    assert by_channel["sms"]["status"] == "opted_in" and by_channel["email"]["status"] == "unknown"
    assert len(body["channels"]) == 6 and body["suppressions"] == []

    put = client.put("/v1/people/anonymousId:dev-g/consent", headers=auth("ada"),
                     json={"channel": "email", "status": "opted_out", "marketingOnly": True})
    assert put.status_code == 200, put.text
    assert put.json() == {"channel": "email", "status": "opted_out", "source": "api", "atMs": at(100),
                          "marketingOnly": True, "messageId": None}
    email = consent(graph, settings, "gus")["email"]
    assert (email["status"], email["source"], email["marketingOnly"]) == ("opted_out", "api", True)
    # an event older than the API write does not undo it; a newer one does
    store = store_for(graph, settings)
    store.write([ev("track", 50, userId="gus", event="Subscribed", properties={"channel": "email"})])
    assert consent(graph, settings, "gus")["email"]["source"] == "api"
    assert client.put("/v1/people/userId:gus/consent", headers=auth("root"),
                      json={"channel": "sms", "status": "opted_out", "source": "callback"}).status_code == 200
    assert consent(graph, settings, "gus")["sms"]["source"] == "callback"


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "opted_out"}, "channel"),
    ({"channel": "fax", "status": "opted_out"}, "channel"),
    ({"channel": "email"}, "status"),
    ({"channel": "email", "status": "unknown"}, "status"),
    ({"channel": "email", "status": "opted_in", "marketingOnly": "yes"}, "marketingOnly"),
    ({"channel": "email", "status": "opted_in", "source": "trait:x"}, "source"),
    ({"channel": "email", "status": "opted_in", "extra": 1}, "extra"),
])
def test_consent_route_bad_input(settings: Settings, graph: Driver, client: TestClient, body: dict[str, Any],
                                 field: str) -> None:
    seed(settings, graph)
    answer = client.put("/v1/people/gus/consent", headers=auth("ada"), json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field


def test_people_routes_auth_and_not_found(settings: Settings, graph: Driver, client: TestClient) -> None:
    seed(settings, graph)
    good = {"channel": "email", "status": "opted_out"}
    assert client.put("/v1/people/gus/consent", json=good).status_code == 401
    assert client.put("/v1/people/gus/consent", headers=auth("grace"), json=good).status_code == 403
    assert client.put("/v1/people/nobody/consent", headers=auth("ada"), json=good).status_code == 404
    assert client.get("/v1/people/personId:nope/consent", headers=auth("ada")).status_code == 404
    assert client.put("/v1/people/gus/consent", headers=auth("ada"), content=b"[1]").status_code == 400
    assert client.put("/v1/people/gus/consent", headers=auth("ada"), content=b"{").status_code == 400
    assert client.post("/v1/suppressions/legal-hold", headers=auth("grace"),
                       json={"people": ["gus"], "reason": "x"}).status_code == 403
    assert client.get("/v1/suppressions/legal-hold").status_code == 401


def test_suppression_routes(settings: Settings, graph: Driver, client: TestClient) -> None:
    seed(settings, graph)
    posted = client.post("/v1/suppressions/legal-hold", headers=auth("ada"),
                         json={"people": ["gus", "hal", "nobody"], "reason": "court order"})
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"listId": "legal-hold", "suppressed": ["gus", "hal"], "missing": ["nobody"]}
    listed = client.get("/v1/suppressions/legal-hold", headers=auth("grace"))
    assert listed.status_code == 200
    assert sorted(p["userId"] for p in listed.json()["people"]) == ["gus", "hal"]
    assert {p["reason"] for p in listed.json()["people"]} == {"court order"}
    gus = client.get("/v1/people/gus/consent", headers=auth("grace")).json()
    assert [s["listId"] for s in gus["suppressions"]] == ["legal-hold"]
    assert client.delete("/v1/suppressions/legal-hold/gus", headers=auth("ada")).json() == {
        "listId": "legal-hold", "removed": True}
    assert client.delete("/v1/suppressions/legal-hold/gus", headers=auth("ada")).json()["removed"] is False
    assert client.delete("/v1/suppressions/legal-hold/nobody", headers=auth("ada")).status_code == 404
    assert [p["userId"] for p in client.get("/v1/suppressions/legal-hold", headers=auth("ada")).json()["people"]] \
        == ["hal"]
    for body, field in (({"people": [], "reason": "x"}, "people"), ({"people": "gus", "reason": "x"}, "people"),
                        ({"people": ["gus"]}, "reason"), ({"people": ["gus"], "reason": ""}, "reason"),
                        ({"people": [3], "reason": "x"}, "people")):
        answer = client.post("/v1/suppressions/legal-hold", headers=auth("ada"), json=body)
        assert (answer.status_code, answer.json()["field"]) == (400, field), (body, answer.text)
    answer = client.post("/v1/suppressions/Bad List", headers=auth("ada"), json={"people": ["gus"], "reason": "x"})
    assert (answer.status_code, answer.json()["field"]) == (400, "listId")
    assert client.get("/v1/suppressions/empty-list", headers=auth("ada")).json() == {
        "listId": "empty-list", "people": []}


def test_cli_people(settings: Settings, graph: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(settings, graph)
    for name, value in {"NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
                        "NEO4J_PASSWORD": settings.neo4j_password, "NEO4J_DATABASE": settings.neo4j_database}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        done = runner.invoke(cli_app, ["people", "consent", "gus", "push", "opted_out"])
        assert done.exit_code == 0, done.output
        assert consent(graph, settings, "gus")["push"]["status"] == "opted_out"
        done = runner.invoke(cli_app, ["people", "suppress", "legal-hold", "userId:hal", "--reason", "court"])
        assert done.exit_code == 0, done.output
        assert scalar(graph, settings, "MATCH (:Person {userId: 'hal'})-[s:SUPPRESSED]->(:SuppressionList "
                                       "{listId: 'legal-hold'}) RETURN s.reason") == "court"
        assert runner.invoke(cli_app, ["people", "consent", "nobody", "push", "opted_out"]).exit_code == 1
        assert runner.invoke(cli_app, ["people", "consent", "gus", "fax", "opted_out"]).exit_code == 2
        assert runner.invoke(cli_app, ["people", "suppress", "legal-hold", "nobody", "--reason", "x"]).exit_code == 1
        shown = runner.invoke(cli_app, ["people", "show", "gus"])
        assert shown.exit_code == 0 and "opted_out" in shown.output, shown.output
    finally:
        get_settings.cache_clear()


def test_readme_consent_queries_run(settings: Settings, graph: Driver) -> None:
    """Every query of cypher/README.md's consent section runs on the server and finds what was written."""
    text = (Path(__file__).resolve().parents[2] / "cypher" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Consent, suppression and time zone", 1)[1].split("\n## ", 1)[0]
    queries = [block.split("```", 1)[0] for block in section.split("```cypher\n")[1:]]
    assert len(queries) >= 6
    store_for(graph, settings).write([
        ev("identify", 1, userId="ann", traits={"email_opt_in": False}, context={"timezone": "Europe/Paris"})])
    PersonStateStore(graph, settings.neo4j_database, FakeClock(at(2))).suppress("hard-bounces", ["ann"], "bounced")
    answers = [rows(graph, settings, q) for q in queries]
    assert answers[0][0]["status"] == "opted_out"
    assert answers[1] == [{"list": "hard-bounces", "reason": "bounced", "source": "api", "at": answers[1][0]["at"]}]
    assert answers[2][0]["type"] == "identify"
    assert [r["userId"] for r in answers[3]] == ["ann"] and [r["userId"] for r in answers[4]] == ["ann"]
    assert answers[5] == [{"zone": "Europe/Paris", "people": 1}]
    assert answers[6] == []


def test_people_routes_answer_only_documented_statuses(settings: Settings, graph: Driver) -> None:
    """A schema-driven fuzz of this module's routes (positive and negative cases, admin key)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings
    from hypothesis.errors import Unsatisfiable

    seed(settings, graph)
    keyed = settings.model_copy(update={"api_keys": [ApiKey("root", "admin", KEYS["root"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    problems: list[str] = []
    sent = 0
    try:
        app = create_app(services)
        spec = app.openapi()
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith(("/v1/people/{ref}/consent", "/v1/suppressions")):
                continue
            declared = spec["paths"][operation.path][operation.method.lower()]["responses"]

            def checker(declared: dict[str, Any], label: str) -> Callable[[Any], None]:
                def check(case: Any) -> None:  # no defaults: @given refuses functions with defaults
                    nonlocal sent
                    sent += 1
                    status = case.call(headers=auth("root")).status_code
                    if str(status) not in declared or (status >= 500 and status != 503):
                        problems.append(f"{case.method} {label}: {status} not in {sorted(declared)}")
                return check

            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                run = given(case=operation.as_strategy(generation_mode=mode))(checker(declared, operation.path))
                try:
                    hsettings(max_examples=15, deadline=None, database=None, derandomize=True,
                              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))(run)()
                except Unsatisfiable:
                    assert mode == schemathesis.GenerationMode.NEGATIVE  # nothing invalid to send (a bare path)
    finally:
        services.producer.close()
    assert sent >= 50
    assert not problems, "\n".join(sorted(set(problems)))
