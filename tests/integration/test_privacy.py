"""Erasing a person on the real servers: a person with identities, sessions, a journey enrollment, a
decision and a delivery (through the real pipeline) is erased over HTTP; nothing of them can be found by
any id (nor anywhere in the graph's properties), an audit entry without personal data remains, and
replaying their events from Kafka does not re-create them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import app as cli
from app.clock import FakeClock
from app.decisions.people import find_person
from app.privacy.erase import PersonEraser, subject_hash
from app.runtime import build_consumer, make_engine, make_services
from app.settings import Settings, get_settings
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey
from tests.conftest import wait_until
from tests.integration.journey_support import publish
from tests.integration.support import produce_events, rows, scalar
from tests.integration.test_segments import publish_segment

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
USER, ANON, EMAIL = "zed-privacy-42", "anon-zed-9f1", "zed.q@example.org"
KEYS = {"root": "key-root", "ada": "key-ada"}


def at(minutes: float) -> str:
    import datetime as dt
    return (dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def ev(mid: str, minutes: float, name: str | None = None, kind: str = "track", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "messageId": mid, "timestamp": at(minutes), **fields}
    if name is not None:
        body["event"] = name
    return body


EVENTS = [
    ev("z-1", 0, "Page Viewed", anonymousId=ANON),
    ev("z-2", 1, kind="identify", userId=USER, anonymousId=ANON, traits={"email": EMAIL, "first_name": "Zed"}),
    ev("z-3", 2, "Promo Viewed", userId=USER),
    ev("b-1", 0, kind="identify", userId="bob", traits={"first_name": "Bob"}),
    ev("b-2", 3, "Promo Viewed", userId="bob"),
]


def consume(settings: Settings, driver: Driver, clock: FakeClock, count: int, group: str | None = None) -> Any:
    """Run a consumer (with the engine) until it has consumed `count` messages; returns its stats."""
    consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", clock=clock, group_id=group,
                              engine=make_engine(settings, driver, clock=clock))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: consumer.stats.consumed >= count)
    finally:
        stop.set()
        thread.join(timeout=30)
    return consumer.stats


@pytest.fixture
def client(settings: Settings, graph: Driver) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": [ApiKey("root", "admin", KEYS["root"]),
                                                     ApiKey("ada", "author", KEYS["ada"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    try:
        with TestClient(create_app(services)) as test_client:
            yield test_client
    finally:
        services.producer.close()


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def every_value(graph: Driver, settings: Settings) -> str:
    """Every property value of every node and relationship, as one string (to search for leftovers)."""
    nodes = rows(graph, settings, "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    rels = rows(graph, settings, "MATCH ()-[r]->() RETURN type(r) AS type, properties(r) AS props")
    return repr(nodes) + repr(rels)


def test_erase_a_person_and_keep_them_erased(settings: Settings, graph: Driver, client: TestClient) -> None:
    clock = FakeClock(START_MS)
    publish(graph, settings, JourneyDefinition.model_validate({
        "id": "promo", "name": "promo", "entry": {"event": "Promo Viewed", "reentry": "always"}, "start": "send",
        "steps": [{"id": "send", "type": "action", "channel": "email", "template": "welcome_email", "next": "done"},
                  {"id": "done", "type": "end"}]}), clock)
    # a windowed segment both people enter: a SegmentChange in their history and a segment timer each
    publish_segment(graph, settings, {"id": "promo-viewers", "name": "Promo viewers", "condition": {
        "count": {"event": "Promo Viewed", "within": "7d"}, "op": "gte", "value": 1}}, clock)
    produce_events(settings, EVENTS)
    consume(settings, graph, clock, len(EVENTS))
    person_id = scalar(graph, settings, "MATCH (p:Person {userId: $u}) RETURN p.personId", u=USER)
    assert person_id
    before = scalar(graph, settings, """
        MATCH (p:Person {personId: $p})
        RETURN [COUNT { (p)-[:ENROLLED]->() }, COUNT { (:Decision)-[:FOR]->(p) },
                COUNT { (:Delivery)-[:TO]->(p) }, COUNT { (p)-[:PERFORMED]->() }]""", p=person_id)
    assert before == [1, 1, 1, 3], before
    assert scalar(graph, settings, "MATCH (t:SegmentTimer {key: $p}) RETURN count(t)", p=person_id) == 1
    assert client.get(f"/v1/people/{USER}/timeline", headers=auth("ada")).status_code == 200

    # only admins erase; a dry run changes nothing
    assert client.delete(f"/v1/people/{USER}", headers=auth("ada")).status_code == 403
    assert client.delete(f"/v1/people/{USER}").status_code == 401
    dry = client.delete(f"/v1/people/{USER}", params={"dryRun": "true"}, headers=auth("root"))
    assert dry.status_code == 200, dry.text
    assert dry.json()["found"] and dry.json()["auditId"] is None and dry.json()["removed"]["events"] == 3
    assert find_person_by(graph, settings, USER) == person_id

    done = client.delete(f"/v1/people/anonymousId:{ANON}", headers=auth("root"))
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["found"] is True and report["tombstones"] == 2
    assert report["subjectHash"] == subject_hash(person_id)
    removed = report["removed"]
    assert removed.pop("measurementRecords") >= 1  # pending outbox records about zed
    assert removed == {"identities": 2, "events": 3, "sessions": 1, "enrollments": 1,
                       "actionRequests": 1, "decisions": 1, "deliveries": 1, "merges": 0, "segmentChanges": 1}

    # nothing of zed can be found by any id, nor anywhere in the graph
    for ref in (USER, f"userId:{USER}", f"anonymousId:{ANON}", f"personId:{person_id}"):
        assert find_person_by(graph, settings, ref) is None, ref
        assert client.get(f"/v1/people/{ref}/timeline", headers=auth("ada")).status_code == 404, ref
    leftovers = every_value(graph, settings)
    for secret in (USER, ANON, EMAIL, person_id, "z-1", "z-2", "z-3", "Zed"):
        assert secret not in leftovers, (secret, [x for x in leftovers.split("{'labels'") if secret in x][:3])
    # bob is untouched; the audit entry keeps only the hash
    assert find_person_by(graph, settings, "bob") is not None
    assert scalar(graph, settings, "MATCH (:Identity {key: 'userId:bob'})-[:IDENTIFIES]->(p)-[:PERFORMED]->(e) "
                                   "RETURN count(e)") == 2
    (entry,) = PersonEraser(graph, settings.neo4j_database).audit()
    assert entry["principal"] == "root" and entry["subjectHash"] == subject_hash(person_id)
    assert entry["action"] == "person.erase"

    # erasing again is harmless; an unknown ref is tombstoned anyway
    again = client.delete(f"/v1/people/{USER}", headers=auth("root")).json()
    assert again["found"] is False and again["tombstones"] == 1
    assert client.delete("/v1/people/userId:%20", headers=auth("root")).status_code == 400

    # replaying everything from Kafka (a new consumer group reads from the start) does not bring zed back
    stats = consume(settings, graph, clock, len(EVENTS), group=f"{settings.consumer_group}-replay")
    assert stats.tombstoned == 3 and stats.dead_lettered == 0
    for ref in (USER, f"anonymousId:{ANON}", f"personId:{person_id}"):
        assert find_person_by(graph, settings, ref) is None, ref
    assert USER not in every_value(graph, settings)
    # a brand-new event of an erased identity is dropped too, and others still flow
    produce_events(settings, [ev("z-4", 10, "Promo Viewed", userId=USER), ev("b-3", 11, "Page Viewed", userId="bob")])
    stats = consume(settings, graph, clock, 2)  # the first group again: from its committed offsets
    assert stats.tombstoned == 1
    assert scalar(graph, settings, "MATCH (e:Event {messageId: 'b-3'}) RETURN count(e)") == 1
    assert find_person_by(graph, settings, USER) is None


def find_person_by(graph: Driver, settings: Settings, ref: str) -> str | None:
    with graph.session(database=settings.neo4j_database) as session:
        return session.execute_read(find_person, ref)


def test_cli_person_delete(settings: Settings, graph: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    produce_events(settings, [ev("c-1", 0, kind="identify", userId="cli-erase-7", traits={"plan": "free"})])
    consume(settings, graph, FakeClock(START_MS), 1)
    for name, value in (("NEO4J_URI", settings.neo4j_uri), ("NEO4J_PASSWORD", settings.neo4j_password),
                        ("NEO4J_USER", settings.neo4j_user), ("KAFKA_BOOTSTRAP", settings.kafka_bootstrap)):
        monkeypatch.setenv(name, value or "")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        dry = runner.invoke(cli, ["person", "delete", "cli-erase-7", "--as", "ops", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "found" in dry.output and "1 events" in dry.output
        assert find_person_by(graph, settings, "cli-erase-7") is not None
        no = runner.invoke(cli, ["person", "delete", "cli-erase-7", "--as", "ops"], input="n\n")
        assert no.exit_code == 1 and find_person_by(graph, settings, "cli-erase-7") is not None
        done = runner.invoke(cli, ["person", "delete", "cli-erase-7", "--as", "ops", "--yes"])
        assert done.exit_code == 0, done.output
        assert "erased cli-erase-7" in done.output
        assert find_person_by(graph, settings, "cli-erase-7") is None
        assert runner.invoke(cli, ["person", "delete", "userId:", "--as", "ops", "--yes"]).exit_code == 2
    finally:
        get_settings.cache_clear()
    assert PersonEraser(graph, settings.neo4j_database).audit()[0]["principal"] == "ops"
