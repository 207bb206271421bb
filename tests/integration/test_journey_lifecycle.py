"""Journey definitions in the graph: push, review lifecycle, publish (archive, migrate), audit; over the
store, the HTTP API (Bearer keys) and the CLI, against the real graph server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import app as cli_app
from app.clock import FakeClock
from app.errors import PermanentError
from app.journeys.loader import JourneyInvalid, canonical_json, checksum, example_paths, load_definition
from app.journeys.store import Forbidden, InvalidMigration, JourneyStore, LifecycleError, NotFound
from app.runtime import make_services
from app.settings import Settings, get_settings
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey, Principal
from tests.integration.support import rows, scalar

pytestmark = pytest.mark.integration

ADA = Principal(name="ada", role="author")
GRACE = Principal(name="grace", role="approver")
HOPPER = Principal(name="hopper", role="approver")
ROOT = Principal(name="root", role="admin")


def onboarding(v: int = 1, **changes: Any) -> dict[str, Any]:
    """A small journey as a file would hold it. v2 waits two days at `wait_2d` instead of one at `wait_1d`."""
    wait = {"id": "wait_1d", "type": "wait", "duration": "1d", "next": "nudge"} if v == 1 else \
        {"id": "wait_2d", "type": "wait", "duration": "2d", "next": "nudge"}
    data: dict[str, Any] = {
        "id": "onboarding",
        "name": "Onboarding",
        "entry": {"event": "Signed Up"},
        "start": "welcome",
        "steps": [
            {"id": "welcome", "type": "action", "channel": "email", "template": "welcome_email",
             "next": wait["id"]},
            wait,
            {"id": "nudge", "type": "action", "channel": "push", "template": "onboarding_nudge_push",
             "next": "done"},
            {"id": "done", "type": "end"},
        ],
    }
    return {**data, **changes}


def definition(v: int = 1, **changes: Any) -> JourneyDefinition:
    return JourneyDefinition.model_validate(onboarding(v, **changes))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(graph: Driver, settings: Settings, clock: FakeClock) -> JourneyStore:
    return JourneyStore(graph, settings.neo4j_database, clock)


def statuses(graph: Driver, settings: Settings, journey_id: str = "onboarding") -> dict[int, str]:
    found = rows(graph, settings, "MATCH (:Journey {journeyId: $j})-[:HAS_VERSION]->(v:JourneyVersion) "
                                  "RETURN v.version AS version, v.status AS status", j=journey_id)
    return {r["version"]: r["status"] for r in found}


def audit_actions(graph: Driver, settings: Settings) -> list[tuple[int, str, str]]:
    found = rows(graph, settings, "MATCH (v:JourneyVersion)-[:AUDITED]->(a:AuditEntry) "
                                  "RETURN a.version AS version, a.action AS action, a.principal AS principal, "
                                  "v.version AS linked ORDER BY a.atMs, a.action")
    assert all(r["version"] == r["linked"] for r in found)
    return [(r["version"], r["action"], r["principal"]) for r in found]


def to_published(store: JourneyStore, defn: JourneyDefinition, clock: FakeClock) -> int:
    version = store.push(defn, ADA).version
    clock.advance(seconds=1)
    store.submit(defn.id, version, ADA)
    clock.advance(seconds=1)
    store.approve(defn.id, version, GRACE)
    clock.advance(seconds=1)
    store.publish(defn.id, version, GRACE)
    return version


def to_approved(store: JourneyStore, defn: JourneyDefinition) -> int:
    version = store.push(defn, ADA).version
    store.submit(defn.id, version, ADA)
    store.approve(defn.id, version, GRACE)
    return version


# --- push ------------------------------------------------------------------------------------------------


def test_push_creates_journey_version_steps_edges_and_audit(store: JourneyStore, graph: Driver,
                                                            settings: Settings, clock: FakeClock) -> None:
    defn = definition()
    info = store.push(defn, ADA)

    assert (info.journeyId, info.version, info.status, info.author, info.created) == \
        ("onboarding", 1, "draft", "ada", True)
    assert info.checksum == checksum(defn) and info.createdAtMs == clock.now_ms()
    journey = rows(graph, settings, "MATCH (j:Journey) RETURN j.journeyId AS id, j.name AS name, "
                                    "j.latestVersion AS latest, j.createdAtMs AS at")
    assert journey == [{"id": "onboarding", "name": "Onboarding", "latest": 1, "at": clock.now_ms()}]
    version = rows(graph, settings, "MATCH (:Journey)-[:HAS_VERSION]->(v:JourneyVersion) RETURN properties(v) AS p")
    assert len(version) == 1
    props = version[0]["p"]
    assert {k: props[k] for k in ("key", "journeyId", "version", "status", "checksum", "name", "author")} == {
        "key": "onboarding@1", "journeyId": "onboarding", "version": 1, "status": "draft",
        "checksum": checksum(defn), "name": "Onboarding", "author": "ada"}
    assert props["definition"] == canonical_json(defn)
    assert "_lock" not in props

    steps = rows(graph, settings, "MATCH (:JourneyVersion {key: 'onboarding@1'})-[:HAS_STEP]->(s:Step) "
                                  "RETURN s.key AS key, s.stepId AS id, s.type AS type, s.journeyId AS j, "
                                  "s.version AS v, s.config AS config ORDER BY id")
    assert [(s["key"], s["type"], s["j"], s["v"]) for s in steps] == [
        ("onboarding@1/done", "end", "onboarding", 1),
        ("onboarding@1/nudge", "action", "onboarding", 1),
        ("onboarding@1/wait_1d", "wait", "onboarding", 1),
        ("onboarding@1/welcome", "action", "onboarding", 1),
    ]
    nudge = json.loads(next(s["config"] for s in steps if s["id"] == "nudge"))
    assert (nudge["id"], nudge["channel"], nudge["template"], nudge["next"]) == \
        ("nudge", "push", "onboarding_nudge_push", "done")
    edges = rows(graph, settings, "MATCH (a:Step)-[n:NEXT]->(b:Step) RETURN a.stepId AS a, b.stepId AS b, "
                                  "n.path AS path ORDER BY a")
    assert edges == [{"a": "nudge", "b": "done", "path": "next"}, {"a": "wait_1d", "b": "nudge", "path": "next"},
                     {"a": "welcome", "b": "wait_1d", "path": "next"}]
    assert scalar(graph, settings, "MATCH (:JourneyVersion {key: 'onboarding@1'})-[:STARTS_AT]->(s:Step) "
                                   "RETURN s.key") == "onboarding@1/welcome"

    audit = rows(graph, settings, "MATCH (:JourneyVersion {key: 'onboarding@1'})-[:AUDITED]->(a:AuditEntry) "
                                  "RETURN properties(a) AS p")
    assert len(audit) == 1
    entry = audit[0]["p"]
    assert {k: entry[k] for k in ("action", "principal", "role", "atMs", "journeyId", "version", "checksum")} == {
        "action": "push", "principal": "ada", "role": "author", "atMs": clock.now_ms(), "journeyId": "onboarding",
        "version": 1, "checksum": checksum(defn)}
    assert json.loads(entry["detail"])["steps"] == 4 and len(entry["auditId"]) == 36


def test_push_names_each_way_out_of_a_step(store: JourneyStore, graph: Driver, settings: Settings) -> None:
    welcome = next(p for p in example_paths() if p.stem == "welcome_series")
    store.push(load_definition(welcome), ADA)
    paths = rows(graph, settings, "MATCH (a:Step {stepId: 'which_onboarding'})-[n:NEXT]->(b:Step) "
                                  "RETURN n.path AS path, b.stepId AS to ORDER BY path")
    assert paths == [{"path": "building", "to": "project_tips"}, {"path": "default", "to": "getting_started"},
                     {"path": "pro", "to": "pro_onboarding"}]


def test_pushing_the_same_definition_twice_is_idempotent(store: JourneyStore, graph: Driver,
                                                         settings: Settings, clock: FakeClock) -> None:
    first = store.push(definition(), ADA)
    clock.advance(minutes=1)
    again = store.push(JourneyDefinition.model_validate(json.loads(canonical_json(definition()))), ROOT)

    assert again.created is False
    assert again.model_dump(exclude={"created"}) == first.model_dump(exclude={"created"})
    assert scalar(graph, settings, "MATCH (v:JourneyVersion) RETURN count(v)") == 1
    assert scalar(graph, settings, "MATCH (s:Step) RETURN count(s)") == 4
    assert scalar(graph, settings, "MATCH (a:AuditEntry) RETURN count(a)") == 1
    assert scalar(graph, settings, "MATCH (j:Journey) RETURN j.revision") == 1  # the re-push wrote nothing

    changed = store.push(definition(name="Onboarding, take two"), ADA)
    assert (changed.version, changed.created) == (2, True)
    assert scalar(graph, settings, "MATCH (j:Journey) RETURN j.latestVersion") == 2
    # Only the latest version counts: going back to v1's content is a new version.
    assert store.push(definition(), ADA).version == 3


def test_invalid_definitions_are_not_stored(store: JourneyStore, graph: Driver, settings: Settings) -> None:
    bad = definition(steps=[{"id": "welcome", "type": "action", "channel": "email", "template": "no_such_template",
                             "next": "gone"}])
    with pytest.raises(JourneyInvalid) as info:
        store.push(bad, ADA)
    assert any("no_such_template" in issue for issue in info.value.issues)
    assert any("gone" in issue for issue in info.value.issues)
    assert scalar(graph, settings, "MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:SchemaMigration "
                                   "RETURN count(n)") == 0


# --- lifecycle -------------------------------------------------------------------------------------------


def test_full_lifecycle(store: JourneyStore, graph: Driver, settings: Settings, clock: FakeClock) -> None:
    store.push(definition(), ADA)
    clock.advance(seconds=1)
    assert store.submit("onboarding", 1, ADA).status == "in_review"
    clock.advance(seconds=1)
    approved = store.approve("onboarding", 1, GRACE)
    assert (approved.status, approved.submittedBy, approved.approvedBy) == ("approved", "ada", "grace")
    assert store.published() == []
    clock.advance(seconds=1)
    published = store.publish("onboarding", 1, HOPPER)
    assert (published.status, published.publishedBy, published.publishedAtMs) == \
        ("published", "hopper", clock.now_ms())
    assert [(v.journeyId, v.version, v.status) for v in store.published()] == [("onboarding", 1, "published")]
    clock.advance(seconds=1)
    assert store.pause("onboarding", GRACE).status == "paused"
    assert store.published() == []
    clock.advance(seconds=1)
    again = store.publish("onboarding", 1, GRACE)
    assert (again.status, again.publishedBy) == ("published", "grace")
    assert store.published()[0].checksum == checksum(definition())

    assert audit_actions(graph, settings) == [
        (1, "push", "ada"), (1, "submit", "ada"), (1, "approve", "grace"), (1, "publish", "hopper"),
        (1, "pause", "grace"), (1, "publish", "grace")]
    detail = store.get("onboarding")
    assert (detail.latestVersion, detail.latestStatus, detail.liveVersion, detail.liveStatus) == \
        (1, "published", 1, "published")
    assert [(v.version, v.status, v.author, v.approvedBy) for v in detail.versions] == \
        [(1, "published", "ada", "grace")]
    assert [a.action for a in detail.audit] == ["publish", "pause", "publish", "approve", "submit", "push"]
    assert detail.audit[0].detail == {"from": "paused", "to": "published"}
    assert store.definition("onboarding", 1) == definition()
    assert [(s.journeyId, s.liveVersion, s.liveStatus) for s in store.list_journeys()] == \
        [("onboarding", 1, "published")]
    assert scalar(graph, settings, "MATCH (n) WHERE n._lock IS NOT NULL RETURN count(n)") == 0


def test_self_approval_is_refused(store: JourneyStore, graph: Driver, settings: Settings) -> None:
    store.push(definition(), ADA)
    store.submit("onboarding", 1, ADA)
    with pytest.raises(Forbidden, match="approval must come from a different principal than the author"):
        store.approve("onboarding", 1, Principal(name="ada", role="admin"))
    assert statuses(graph, settings) == {1: "in_review"}
    assert [a for _, a, _ in audit_actions(graph, settings)] == ["push", "submit"]


@pytest.mark.parametrize(
    ("attempt", "error", "message"),
    [
        (lambda s: s.approve("onboarding", 1, GRACE), LifecycleError, "it is draft; approve needs in_review"),
        (lambda s: s.publish("onboarding", 1, GRACE), LifecycleError, "it is draft; publish needs approved or"),
        (lambda s: s.pause("onboarding", GRACE), LifecycleError, "no published version to pause"),
        (lambda s: s.submit("onboarding", 2, ADA), NotFound, "no version 2"),
        (lambda s: s.submit("nobody", 1, ADA), NotFound, "no journey 'nobody'"),
        (lambda s: s.publish("onboarding", 1, ADA), Forbidden, r"'ada' \(author\) may not publish"),
        (lambda s: s.submit("onboarding", 1, GRACE), Forbidden, "may not submit"),
    ],
)
def test_wrong_transitions_are_refused(store: JourneyStore, graph: Driver, settings: Settings,
                                       attempt: Callable[[JourneyStore], object], error: type[Exception],
                                       message: str) -> None:
    store.push(definition(), ADA)
    with pytest.raises(error, match=message):
        attempt(store)
    assert statuses(graph, settings) == {1: "draft"}
    assert [a for _, a, _ in audit_actions(graph, settings)] == ["push"]
    assert scalar(graph, settings, "MATCH (n) WHERE n._lock IS NOT NULL RETURN count(n)") == 0


def test_archive_from_any_status_but_archived(store: JourneyStore, graph: Driver, settings: Settings,
                                              clock: FakeClock) -> None:
    store.push(definition(), ADA)
    clock.advance(seconds=1)
    archived = store.archive("onboarding", 1, GRACE)
    assert archived.status == "archived"
    with pytest.raises(LifecycleError, match="it is archived"):
        store.archive("onboarding", 1, GRACE)
    with pytest.raises(LifecycleError):
        store.submit("onboarding", 1, ADA)
    assert [a for _, a, _ in audit_actions(graph, settings)] == ["push", "archive"]


def test_publishing_v2_archives_v1(store: JourneyStore, graph: Driver, settings: Settings,
                                   clock: FakeClock) -> None:
    to_published(store, definition(), clock)
    clock.advance(seconds=1)
    v2 = to_approved(store, definition(2))
    clock.advance(seconds=1)
    store.publish("onboarding", v2, GRACE)

    assert statuses(graph, settings) == {1: "archived", 2: "published"}
    assert [v.version for v in store.published()] == [2]
    assert scalar(graph, settings, "MATCH (v:JourneyVersion {key: 'onboarding@1'}) RETURN v.archivedBy") == "grace"
    archive = [a for a in store.get("onboarding").audit if a.action == "archive"]
    assert [(a.version, a.detail) for a in archive] == [(1, {"from": "published", "supersededBy": 2})]


def test_publishing_v2_archives_a_paused_v1(store: JourneyStore, graph: Driver, settings: Settings,
                                            clock: FakeClock) -> None:
    to_published(store, definition(), clock)
    store.pause("onboarding", GRACE)
    v2 = to_approved(store, definition(2))
    store.publish("onboarding", v2, GRACE)
    assert statuses(graph, settings) == {1: "archived", 2: "published"}


def test_concurrent_approvals_only_one_wins(store: JourneyStore, graph: Driver, settings: Settings) -> None:
    store.push(definition(), ADA)
    store.submit("onboarding", 1, ADA)
    outcomes = race([lambda: store.approve("onboarding", 1, GRACE), lambda: store.approve("onboarding", 1, HOPPER)])
    assert sorted(type(o).__name__ for o in outcomes) == ["LifecycleError", "VersionInfo"]
    assert [a for _, a, _ in audit_actions(graph, settings)].count("approve") == 1
    assert statuses(graph, settings) == {1: "approved"}


def test_concurrent_publications_leave_one_published(store: JourneyStore, graph: Driver, settings: Settings) -> None:
    to_approved(store, definition())
    to_approved(store, definition(2))
    outcomes = race([lambda: store.publish("onboarding", 1, GRACE), lambda: store.publish("onboarding", 2, HOPPER)])
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, LifecycleError)]
    assert sorted(statuses(graph, settings).values()) == ["archived", "published"]


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment in threads; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # handed back to the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


# --- migration -------------------------------------------------------------------------------------------

ENROLL = """
CREATE (p:Person {personId: $personId})-[:ENROLLED]->(en:Enrollment {
  enrollmentId: $id, journeyId: 'onboarding', version: 1, status: $status, stepId: $stepId, personId: $personId,
  wakeAtMs: $wakeAtMs, dueAtMs: $dueAtMs})
WITH en
MATCH (v:JourneyVersion {key: 'onboarding@1'}), (s:Step {key: 'onboarding@1/' + $stepId})
CREATE (en)-[:IN]->(v), (en)-[:AT]->(s)
"""


def enroll(graph: Driver, settings: Settings, enrollment_id: str, step_id: str, status: str = "active",
           wake_at_ms: int | None = None) -> None:
    graph.execute_query(ENROLL, id=enrollment_id, personId=f"p-{enrollment_id}", status=status, stepId=step_id,
                        wakeAtMs=wake_at_ms, dueAtMs=wake_at_ms, database_=settings.neo4j_database)


def enrollment(graph: Driver, settings: Settings, enrollment_id: str) -> dict[str, Any]:
    found = rows(graph, settings, """
        MATCH (en:Enrollment {enrollmentId: $id})
        OPTIONAL MATCH (en)-[:IN]->(v:JourneyVersion)
        OPTIONAL MATCH (en)-[:AT]->(s:Step)
        RETURN en.version AS version, en.stepId AS stepId, en.status AS status, en.wakeAtMs AS wakeAtMs,
               en.dueAtMs AS dueAtMs, collect(DISTINCT v.key) AS inVersion, collect(DISTINCT s.key) AS atStep
        """, id=enrollment_id)
    assert len(found) == 1
    return found[0]


@pytest.fixture
def v1_with_people(store: JourneyStore, graph: Driver, settings: Settings, clock: FakeClock) -> int:
    """v1 published with four enrollments on it, v2 approved; returns the wake time of the waiting ones."""
    to_published(store, definition(), clock)
    wake = clock.now_ms() + 86_400_000
    enroll(graph, settings, "waiting", "wait_1d", wake_at_ms=wake)
    enroll(graph, settings, "at-nudge", "nudge")
    enroll(graph, settings, "done-waiting", "wait_1d", status="completed", wake_at_ms=wake)
    enroll(graph, settings, "at-welcome", "welcome")
    to_approved(store, definition(2))
    return wake


def test_migration_moves_only_mapped_active_enrollments(v1_with_people: int, store: JourneyStore, graph: Driver,
                                                        settings: Settings, clock: FakeClock) -> None:
    clock.advance(hours=1)
    store.publish("onboarding", 2, GRACE, migrate={"wait_1d": "wait_2d", "welcome": "welcome"})

    assert enrollment(graph, settings, "waiting") == {
        "version": 2, "stepId": "wait_2d", "status": "active", "wakeAtMs": v1_with_people,
        "dueAtMs": v1_with_people, "inVersion": ["onboarding@2"], "atStep": ["onboarding@2/wait_2d"]}
    assert enrollment(graph, settings, "at-welcome")["atStep"] == ["onboarding@2/welcome"]
    assert enrollment(graph, settings, "at-nudge") == {
        "version": 1, "stepId": "nudge", "status": "active", "wakeAtMs": None, "dueAtMs": None,
        "inVersion": ["onboarding@1"], "atStep": ["onboarding@1/nudge"]}
    assert enrollment(graph, settings, "done-waiting")["inVersion"] == ["onboarding@1"]

    migrated = rows(graph, settings, "MATCH (en:Enrollment)-[m:MIGRATED]->(s:Step) RETURN en.enrollmentId AS id, "
                                     "properties(m) AS m, s.key AS step ORDER BY id")
    assert migrated == [
        {"id": "at-welcome", "step": "onboarding@2/welcome", "m": {
            "fromVersion": 1, "toVersion": 2, "fromStep": "welcome", "toStep": "welcome", "atMs": clock.now_ms(),
            "principal": "grace"}},
        {"id": "waiting", "step": "onboarding@2/wait_2d", "m": {
            "fromVersion": 1, "toVersion": 2, "fromStep": "wait_1d", "toStep": "wait_2d", "atMs": clock.now_ms(),
            "principal": "grace"}},
    ]
    # Each person still has exactly one ENROLLED edge to their enrollment.
    assert scalar(graph, settings, "MATCH (:Person)-[r:ENROLLED]->(:Enrollment) RETURN count(r)") == 4
    assert statuses(graph, settings) == {1: "archived", 2: "published"}
    migrate = next(a for a in store.get("onboarding").audit if a.action == "migrate")
    assert (migrate.version, migrate.principal) == (2, "grace")
    assert migrate.detail == {"fromVersion": 1, "toVersion": 2, "mapping": {"wait_1d": "wait_2d", "welcome": "welcome"},
                              "moved": {"wait_1d": 1, "welcome": 1}, "total": 2}
    assert scalar(graph, settings, "MATCH (n) WHERE n._lock IS NOT NULL RETURN count(n)") == 0


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"wait_2d": "wait_2d"}, "'wait_2d' is not a step of v1"),
        ({"wait_1d": "wait_1d"}, "'wait_1d' is not a step of v2"),
        ({"wait_1d": "wait_2d", "nope": "welcome"}, "'nope' is not a step of v1"),
    ],
)
def test_migration_mapping_must_name_steps_of_both_versions(v1_with_people: int, store: JourneyStore,
                                                            graph: Driver, settings: Settings,
                                                            mapping: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidMigration, match=message) as info:
        store.publish("onboarding", 2, GRACE, migrate=mapping)
    assert isinstance(info.value, PermanentError)
    assert statuses(graph, settings) == {1: "published", 2: "approved"}
    assert enrollment(graph, settings, "waiting")["atStep"] == ["onboarding@1/wait_1d"]
    assert scalar(graph, settings, "MATCH ()-[m:MIGRATED]->() RETURN count(m)") == 0


def test_migration_needs_a_version_to_migrate_from(store: JourneyStore, graph: Driver, settings: Settings) -> None:
    to_approved(store, definition())
    with pytest.raises(InvalidMigration, match="no other published or paused version"):
        store.publish("onboarding", 1, GRACE, migrate={"welcome": "welcome"})
    assert statuses(graph, settings) == {1: "approved"}


# --- HTTP API --------------------------------------------------------------------------------------------

KEYS = {"ada": "key-ada", "grace": "key-grace", "root": "key-root"}


@pytest.fixture
def client(settings: Settings, graph: Driver) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": [
        ApiKey("ada", "author", KEYS["ada"]), ApiKey("grace", "approver", KEYS["grace"]),
        ApiKey("root", "admin", KEYS["root"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    try:
        with TestClient(create_app(services)) as test_client:
            yield test_client
    finally:
        services.producer.close()


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def test_api_happy_path(client: TestClient, graph: Driver, settings: Settings) -> None:
    body = onboarding()
    pushed = client.post("/v1/journeys", json=body, headers=auth("ada"))
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["version"] == 1 and pushed.json()["status"] == "draft" and pushed.json()["created"]
    same = client.post("/v1/journeys", content=yaml.safe_dump(body), headers={
        **auth("ada"), "content-type": "application/yaml"})
    assert same.status_code == 200 and same.json()["version"] == 1 and not same.json()["created"]

    base = "/v1/journeys/onboarding/versions/1"
    assert client.post(f"{base}/submit", headers=auth("ada")).json()["status"] == "in_review"
    assert client.post(f"{base}/approve", headers=auth("grace")).json()["status"] == "approved"
    published = client.post(f"{base}/publish", headers=auth("grace"))
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert client.post("/v1/journeys/onboarding/pause", headers=auth("root")).json()["status"] == "paused"
    resumed = client.post(f"{base}/publish", json={}, headers=auth("grace"))
    assert resumed.json()["status"] == "published"

    listed = client.get("/v1/journeys", headers=auth("ada"))
    assert [(j["journeyId"], j["liveVersion"], j["liveStatus"]) for j in listed.json()] == \
        [("onboarding", 1, "published")]
    detail = client.get("/v1/journeys/onboarding", headers=auth("ada")).json()
    assert [(v["version"], v["status"], v["author"], v["approvedBy"]) for v in detail["versions"]] == \
        [(1, "published", "ada", "grace")]
    assert [a["action"] for a in detail["audit"]] == ["publish", "pause", "publish", "approve", "submit", "push"]
    assert detail["audit"][-1]["role"] == "author"

    # v2 with a migration
    pushed2 = client.post("/v1/journeys", json=onboarding(2), headers=auth("root"))
    assert pushed2.status_code == 201 and pushed2.json()["version"] == 2
    client.post("/v1/journeys/onboarding/versions/2/submit", headers=auth("root"))
    client.post("/v1/journeys/onboarding/versions/2/approve", headers=auth("grace"))
    moved = client.post("/v1/journeys/onboarding/versions/2/publish", json={"migrate": {"welcome": "welcome"}},
                        headers=auth("root"))
    assert moved.status_code == 200, moved.text
    assert statuses(graph, settings) == {1: "archived", 2: "published"}
    assert client.post("/v1/journeys/onboarding/versions/1/archive", headers=auth("grace")).status_code == 409
    assert client.post("/v1/journeys/onboarding/versions/2/archive", headers=auth("grace")).json()["status"] == \
        "archived"

    schema = client.get("/v1/journeys/schema", headers=auth("ada"))
    assert schema.status_code == 200 and "steps" in schema.json()["properties"]


def test_api_needs_a_known_bearer_key(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic a2V5LWFkYTo="}):
        response = client.get("/v1/journeys", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["success"] is False
    assert client.post("/v1/journeys/lint", json=onboarding()).status_code == 401


def test_api_roles(client: TestClient, graph: Driver, settings: Settings) -> None:
    assert client.post("/v1/journeys", json=onboarding(), headers=auth("grace")).status_code == 403
    assert client.post("/v1/journeys", json=onboarding(), headers=auth("ada")).status_code == 201
    assert client.post("/v1/journeys/onboarding/versions/1/submit", headers=auth("grace")).status_code == 403
    assert client.post("/v1/journeys/onboarding/versions/1/submit", headers=auth("ada")).status_code == 200
    refused = client.post("/v1/journeys/onboarding/versions/1/approve", headers=auth("ada"))
    assert refused.status_code == 403
    assert "approve" in refused.json()["error"]
    assert statuses(graph, settings) == {1: "in_review"}


def test_api_refuses_self_approval(client: TestClient) -> None:
    client.post("/v1/journeys", json=onboarding(), headers=auth("root"))
    client.post("/v1/journeys/onboarding/versions/1/submit", headers=auth("root"))
    response = client.post("/v1/journeys/onboarding/versions/1/approve", headers=auth("root"))
    assert response.status_code == 403
    assert "approval must come from a different principal than the author" in response.json()["error"]


def test_api_wrong_status_is_409(client: TestClient) -> None:
    client.post("/v1/journeys", json=onboarding(), headers=auth("ada"))
    for path in ("versions/1/approve", "versions/1/publish", "pause"):
        response = client.post(f"/v1/journeys/onboarding/{path}", headers=auth("root"))
        assert response.status_code == 409, path
        assert response.json()["reason"] == "lifecycle"
    client.post("/v1/journeys/onboarding/versions/1/submit", headers=auth("ada"))
    assert client.post("/v1/journeys/onboarding/versions/1/submit", headers=auth("ada")).status_code == 409


def test_api_unknown_journey_or_version_is_404(client: TestClient) -> None:
    assert client.get("/v1/journeys/nobody", headers=auth("ada")).status_code == 404
    assert client.post("/v1/journeys/nobody/versions/1/submit", headers=auth("ada")).status_code == 404
    client.post("/v1/journeys", json=onboarding(), headers=auth("ada"))
    response = client.post("/v1/journeys/onboarding/versions/7/submit", headers=auth("ada"))
    assert response.status_code == 404 and "no version 7" in response.json()["error"]


def test_api_invalid_definitions_are_400_with_issues(client: TestClient, graph: Driver, settings: Settings) -> None:
    broken = onboarding(start="nowhere")
    response = client.post("/v1/journeys", json=broken, headers=auth("ada"))
    assert response.status_code == 400
    assert any("nowhere" in issue for issue in response.json()["issues"])
    shapeless = client.post("/v1/journeys", json={"id": "x", "steps": []}, headers=auth("ada"))
    assert shapeless.status_code == 400 and shapeless.json()["issues"]
    not_yaml = client.post("/v1/journeys", content=b"id: [unclosed", headers={
        **auth("ada"), "content-type": "application/yaml"})
    assert not_yaml.status_code == 400 and "YAML" in not_yaml.json()["issues"][0]
    assert scalar(graph, settings, "MATCH (v:JourneyVersion) RETURN count(v)") == 0

    client.post("/v1/journeys", json=onboarding(), headers=auth("ada"))
    client.post("/v1/journeys/onboarding/versions/1/submit", headers=auth("ada"))
    client.post("/v1/journeys/onboarding/versions/1/approve", headers=auth("grace"))
    bad_mapping = client.post("/v1/journeys/onboarding/versions/1/publish", json={"migrate": {"a": "b"}},
                              headers=auth("grace"))
    assert bad_mapping.status_code == 400 and bad_mapping.json()["reason"] == "invalid_migration"


def test_api_lint(client: TestClient) -> None:
    ok = client.post("/v1/journeys/lint", json=onboarding(), headers=auth("grace"))
    assert ok.status_code == 200 and ok.json() == {"ok": True, "journeyId": "onboarding", "issues": []}
    text = next(p for p in example_paths() if p.stem == "abandoned_cart").read_text()
    for content_type in ("application/yaml", "text/yaml"):
        response = client.post("/v1/journeys/lint", content=text, headers={**auth("ada"), "content-type": content_type})
        assert response.json()["ok"] is True, response.text
    bad = client.post("/v1/journeys/lint", json=onboarding(start="nowhere"), headers=auth("ada")).json()
    assert bad["ok"] is False
    assert {"code": "unknown_step", "severity": "error"}.items() <= bad["issues"][0].items()
    shapeless = client.post("/v1/journeys/lint", json={"id": "x"}, headers=auth("ada")).json()
    assert shapeless["ok"] is False and all(i["severity"] == "error" for i in shapeless["issues"])


# --- CLI -------------------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_lint_examples_pass() -> None:
    result = runner.invoke(cli_app, ["journey", "lint", *[str(p) for p in example_paths()]])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok") == len(example_paths())
    validated = runner.invoke(cli_app, ["journey", "validate", *[str(p) for p in example_paths()]])
    assert validated.exit_code == 0, validated.output


def test_cli_lint_broken_file_fails(tmp_path: Any) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(onboarding(start="nowhere")))
    result = runner.invoke(cli_app, ["journey", "lint", str(broken)])
    assert result.exit_code == 1
    assert "unknown_step" in result.output
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("id: [unclosed")
    assert runner.invoke(cli_app, ["journey", "lint", str(garbage)]).exit_code == 1
    assert runner.invoke(cli_app, ["journey", "validate", str(broken)]).exit_code == 1


def test_cli_schema_prints_json_schema() -> None:
    result = runner.invoke(cli_app, ["journey", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "Journey definition"


def test_cli_graph_commands(settings: Settings, graph: Driver, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                            ) -> None:
    for name, value in {"NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
                        "NEO4J_PASSWORD": settings.neo4j_password, "NEO4J_DATABASE": settings.neo4j_database}.items():
        monkeypatch.setenv(name, value)
    file = tmp_path / "onboarding.yaml"
    file.write_text(yaml.safe_dump(onboarding()))
    get_settings.cache_clear()
    try:
        def cli(*args: str) -> Any:
            return runner.invoke(cli_app, ["journey", *args])

        assert cli("push", str(file), "--as", "ada", "--role", "author").exit_code == 0
        assert "unchanged" in cli("push", str(file), "--as", "ada").output
        assert cli("submit", "onboarding", "1", "--as", "ada").exit_code == 0
        refused = cli("approve", "onboarding", "1", "--as", "ada")
        assert refused.exit_code == 1 and "different principal" in refused.output
        assert cli("publish", "onboarding", "1", "--as", "grace").exit_code == 1  # still in_review
        assert cli("approve", "onboarding", "1", "--as", "grace", "--role", "approver").exit_code == 0
        assert cli("publish", "onboarding", "1", "--as", "grace", "--migrate", "oops").exit_code == 2
        assert cli("publish", "onboarding", "1", "--as", "grace").exit_code == 0
        assert cli("pause", "onboarding", "--as", "grace").exit_code == 0
        assert cli("archive", "onboarding", "1", "--as", "ada", "--role", "author").exit_code == 1
        assert cli("publish", "onboarding", "1", "--as", "grace").exit_code == 0
        file.write_text(yaml.safe_dump(onboarding(2)))
        assert cli("push", str(file), "--as", "ada").exit_code == 0
        assert cli("submit", "onboarding", "2", "--as", "ada").exit_code == 0
        assert cli("approve", "onboarding", "2", "--as", "grace").exit_code == 0
        migrated = cli("publish", "onboarding", "2", "--as", "grace", "--migrate", "wait_1d=wait_2d")
        assert migrated.exit_code == 0, migrated.output
        assert cli("archive", "onboarding", "2", "--as", "root").exit_code == 0
        listed = cli("list")
        assert listed.exit_code == 0 and "onboarding" in listed.output
        assert cli("submit", "nobody", "1", "--as", "ada").exit_code == 1
        assert cli("push", str(file), "--as", "ada", "--role", "owner").exit_code == 2
    finally:
        get_settings.cache_clear()
    assert statuses(graph, settings) == {1: "archived", 2: "archived"}
    actions = [a for _, a, _ in audit_actions(graph, settings)]
    assert actions.count("push") == 2 and actions.count("migrate") == 1
