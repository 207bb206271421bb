"""Segments on the real servers with a fake clock: streaming membership in the ingest transaction, windows
passing through durable segment timers, merges, accounts, journeys entered from segments, batch evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from neo4j import Driver

from app.clock import FakeClock
from app.segments.definitions import validate_segment
from app.segments.membership import SegmentTimers
from app.segments.store import SegmentStore
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from graph_models.principal import Principal
from tests.integration.journey_support import Harness, harness, publish
from tests.integration.support import rows

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
AUTHOR = Principal(name="ada", role="author")
APPROVER = Principal(name="grace", role="approver")
PRICING: dict[str, Any] = {
    "id": "pricing-interest", "name": "Pricing interest",
    "condition": {"all": [
        {"trait": "plan", "op": "eq", "value": "pro"},
        {"count": {"event": "Viewed Pricing", "within": "7d"}, "op": "gte", "value": 2},
        {"not": {"recency": {"event": "Order Completed"}, "within": "30d"}},
    ]},
}


def at(minutes: float) -> str:
    return (dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def ev(mid: str, minutes: float, name: str | None = None, kind: str = "track", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "messageId": mid, "timestamp": at(minutes), **fields}
    if name is not None:
        body["event"] = name
    return body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


def publish_segment(driver: Driver, settings: Settings, data: dict[str, Any], clock: FakeClock) -> int:
    store = SegmentStore(driver, settings.neo4j_database, clock=clock)
    info = store.push(validate_segment(data), AUTHOR)
    store.submit(info.segmentId, info.version, AUTHOR)
    store.approve(info.segmentId, info.version, APPROVER)
    store.publish(info.segmentId, info.version, APPROVER)
    return info.version


def members(driver: Driver, settings: Settings, segment_id: str) -> list[str]:
    return [r["u"] for r in rows(driver, settings, """
        MATCH (:Segment {segmentId: $s})<-[:IN_SEGMENT]-(p:Person) RETURN p.userId AS u ORDER BY u""", s=segment_id)]


def history(driver: Driver, settings: Settings, segment_id: str) -> list[tuple[str, str]]:
    return [(r["u"], r["change"]) for r in rows(driver, settings, """
        MATCH (p:Person)-[:SEGMENT_CHANGE]->(c:SegmentChange {segmentId: $s})
        RETURN p.userId AS u, c.change AS change, c.atMs AS atMs ORDER BY atMs, u, change""", s=segment_id)]


def advance(h: Harness, timers: SegmentTimers, **delta: float) -> int:
    """Move the clock, let the consumer catch up, fire segment timers (into the engine) then journey timers."""
    h.clock.advance(**delta)
    h.caught_up()
    fired = timers.fire_due(now_ms=h.clock.now_ms(), watermark=h.watermark)
    h.engine.fire_due(now_ms=h.clock.now_ms(), watermark=h.watermark)
    return fired


def segment_journey() -> JourneyDefinition:
    return JourneyDefinition.model_validate({
        "id": "pricing-nudge", "name": "Pricing nudge",
        "entry": {"segment": "pricing-interest", "reentry": "always"},
        "exit": [{"left_segment": "pricing-interest", "name": "left"}],
        "start": "wait",
        "steps": [
            {"id": "wait", "type": "wait", "duration": "30d", "next": "done"},
            {"id": "done", "type": "end"},
        ],
    })


def test_enter_and_leave_on_events_traits_and_windows(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    publish_segment(graph, settings, PRICING, clock)
    publish(graph, settings, segment_journey(), clock)
    with harness(settings, graph, clock) as h:
        timers = SegmentTimers(graph, settings.neo4j_database, clock=clock, sink=h.engine.apply_events)
        h.send(ev("i1", 0, kind="identify", userId="ann", traits={"plan": "pro"}),
               ev("i2", 0, kind="identify", userId="bob", traits={"plan": "pro"}),
               ev("v1", 1, "Viewed Pricing", userId="ann"), ev("v2", 1, "Viewed Pricing", userId="bob"))
        assert members(graph, settings, "pricing-interest") == []
        h.send(ev("v3", 60, "Viewed Pricing", userId="ann"), ev("v4", 60, "Viewed Pricing", userId="bob"))
        assert members(graph, settings, "pricing-interest") == ["ann", "bob"]
        assert {(e["userId"], e["status"]) for e in h.enrollments()} == {("ann", "active"), ("bob", "active")}
        edge = rows(graph, settings, """MATCH (:Person {userId: 'ann'})-[m:IN_SEGMENT]->(:Segment)
                                        RETURN m.messageId AS m, m.reason AS r""")[0]
        assert edge["m"] == "v3" and "yes: plan = 'pro'" in edge["r"]
        # bob orders (an event), ann becomes free (a trait change): both leave, and leave the journey
        h.send(ev("o1", 120, "Order Completed", userId="bob"),
               ev("i3", 120, kind="identify", userId="ann", traits={"plan": "free"}))
        assert members(graph, settings, "pricing-interest") == []
        assert {(e["userId"], e["status"], e["reason"]) for e in h.enrollments()} == {
            ("ann", "exited", "exit:left"), ("bob", "exited", "exit:left")}
        # ann back on pro: in again (and in the journey again: reentry always)
        h.send(ev("i4", 180, kind="identify", userId="ann", traits={"plan": "pro"}))
        assert members(graph, settings, "pricing-interest") == ["ann"]
        # 7 days after her first view it leaves its window: one view left, so she leaves by the timer
        assert advance(h, timers, days=6) == 0
        assert members(graph, settings, "pricing-interest") == ["ann"]
        assert advance(h, timers, days=1, hours=1) == 2  # ann and bob (still out: his order is recent)
        assert members(graph, settings, "pricing-interest") == []
        assert [e["status"] for e in h.enrollments("pricing-nudge") if e["userId"] == "ann"] == ["exited", "exited"]
    assert history(graph, settings, "pricing-interest") == [
        ("ann", "entered"), ("bob", "entered"), ("ann", "left"), ("bob", "left"), ("ann", "entered"),
        ("ann", "left")]


BIG_ACCOUNTS: dict[str, Any] = {
    "id": "big-accounts", "name": "Members of big accounts",
    "condition": {"account": {"traits": [{"trait": "seats", "op": "gt", "value": 50}]}},
}


def test_account_conditions_and_identity_merges(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    publish_segment(graph, settings, BIG_ACCOUNTS, clock)
    publish_segment(graph, settings, PRICING, clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("g1", 0, kind="group", userId="ann", groupId="acme", traits={"seats": 80}),
               ev("g2", 0, kind="group", userId="bob", groupId="tiny", traits={"seats": 3}))
        assert members(graph, settings, "big-accounts") == ["ann"]
        h.send(ev("g3", 10, kind="group", userId="bob", groupId="tiny", traits={"seats": 60}))
        assert members(graph, settings, "big-accounts") == ["ann", "bob"]
        # an anonymous visitor views pricing once, ann (pro) once: the merge gives her two views
        h.send(ev("i1", 20, kind="identify", userId="ann", traits={"plan": "pro"}),
               ev("v1", 21, "Viewed Pricing", userId="ann"),
               ev("v2", 22, "Viewed Pricing", anonymousId="anon-1"))
        assert members(graph, settings, "pricing-interest") == []
        h.send(ev("i2", 30, kind="identify", userId="ann", anonymousId="anon-1"))
        assert members(graph, settings, "pricing-interest") == ["ann"]
        assert members(graph, settings, "big-accounts") == ["ann", "bob"]
    assert rows(graph, settings, "MATCH (p:Person) RETURN count(p) AS n")[0]["n"] == 2


def test_batch_evaluation_interrupted_and_resumed(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    from app.segments.batch import SegmentEvaluator

    with harness(settings, graph, clock) as h:  # people and events first, the segment published afterwards
        events = []
        for i in range(9):
            events.append(ev(f"i{i}", 0, kind="identify", userId=f"u{i}", traits={"plan": "pro" if i % 3 else "free"}))
            events += [ev(f"v{i}-{k}", 1 + k, "Viewed Pricing", userId=f"u{i}") for k in range(i % 2 + 1)]
        h.send(*events)
    clock.advance(hours=1)
    publish_segment(graph, settings, PRICING, clock)
    expected = sorted(f"u{i}" for i in range(9) if i % 3 and i % 2)
    evaluator = SegmentEvaluator(graph, settings.neo4j_database, clock=clock, page=2)
    dry = evaluator.dry_run(validate_segment(PRICING), sample=2)
    assert (dry.size, dry.scanned, len(dry.sample)) == (len(expected), 9, 2)
    assert members(graph, settings, "pricing-interest") == []
    seen: list[tuple[int, int]] = []
    first = evaluator.evaluate("pricing-interest", max_pages=2, progress=lambda d, t: seen.append((d, t)))
    assert first.status == "running" and first.scanned == 4 and seen == [(2, 9), (4, 9)]
    partial = members(graph, settings, "pricing-interest")
    resumed = evaluator.evaluate("pricing-interest")
    assert resumed.status == "done" and resumed.scanned == 9 and resumed.entered == len(expected)
    assert members(graph, settings, "pricing-interest") == expected and set(partial) < set(expected)
    again = evaluator.evaluate("pricing-interest")  # a finished run starts again: nothing changes
    assert (again.status, again.scanned, again.entered, again.left) == ("done", 9, 0, 0)
    assert members(graph, settings, "pricing-interest") == expected


def test_http_lifecycle_size_members_and_evaluate(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.runtime import make_services
    from graph_models.principal import ApiKey

    with harness(settings, graph, clock) as h:
        h.send(ev("g1", 0, kind="group", userId="ann", groupId="acme", traits={"seats": 80}),
               ev("g2", 0, kind="group", userId="bob", groupId="tiny", traits={"seats": 3}))
    keys = {"ada": "key-ada", "grace": "key-grace"}
    keyed = settings.model_copy(update={"api_keys": [ApiKey("ada", "author", keys["ada"]),
                                                     ApiKey("grace", "approver", keys["grace"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")

    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[name]}"}

    try:
        with TestClient(create_app(services)) as client:
            bad = client.post("/v1/segments/lint", json={"id": "x", "name": "X", "condition": {"count": {}}},
                              headers=auth("ada"))
            assert bad.status_code == 200 and bad.json()["ok"] is False
            dry = client.post("/v1/segments/size", json=BIG_ACCOUNTS, headers=auth("ada")).json()
            assert (dry["size"], dry["scanned"]) == (1, 2)
            pushed = client.post("/v1/segments", json=BIG_ACCOUNTS, headers=auth("ada"))
            assert pushed.status_code == 201, pushed.text
            assert client.post("/v1/segments", json=BIG_ACCOUNTS, headers=auth("ada")).status_code == 200
            base = "/v1/segments/big-accounts/versions/1"
            assert client.post(f"{base}/submit", headers=auth("ada")).json()["status"] == "in_review"
            assert client.post(f"{base}/approve", headers=auth("ada")).status_code == 403  # author, and own
            assert client.post(f"{base}/approve", headers=auth("grace")).json()["status"] == "approved"
            assert client.get(f"{base}/size", headers=auth("ada")).json()["size"] == 1
            assert client.post(f"{base}/publish", headers=auth("grace")).json()["status"] == "published"
            assert client.post("/v1/segments/big-accounts/evaluate", headers=auth("ada")).status_code == 403
            done = client.post("/v1/segments/big-accounts/evaluate", headers=auth("grace")).json()
            assert (done["status"], done["entered"]) == ("done", 1)
            found = client.get("/v1/segments/big-accounts/members", headers=auth("ada")).json()
            assert found["size"] == 1 and found["members"][0]["userId"] == "ann"
            detail = client.get("/v1/segments/big-accounts", headers=auth("ada")).json()
            assert detail["members"] == 1 and detail["publishedVersion"] == 1
            assert [a["action"] for a in detail["audit"]][:2] == ["evaluate", "publish"]
            assert client.get("/v1/segments/nope", headers=auth("ada")).status_code == 404
    finally:
        services.producer.close()


def test_scheduled_journey_in_two_time_zones_throttled(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    from app.segments.schedule import ScheduledSends
    from graph_models.segments import ScheduledSend

    everyone = {"id": "everyone-pro", "name": "Pro", "condition": {"trait": "plan", "op": "eq", "value": "pro"}}
    publish_segment(graph, settings, everyone, clock)
    publish(graph, settings, JourneyDefinition.model_validate({
        "id": "spring-promo", "name": "Spring promo", "entry": {"scheduled": True},
        "start": "mail", "steps": [
            {"id": "mail", "type": "action", "channel": "email", "template": "welcome_email", "next": "done"},
            {"id": "done", "type": "end"}]}), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("i1", 0, kind="identify", userId="ann", traits={"plan": "pro", "timezone": "America/New_York"}),
               ev("i2", 0, kind="identify", userId="bob", traits={"plan": "pro", "timezone": "Europe/Berlin"}),
               ev("i3", 0, kind="identify", userId="cid", traits={"plan": "pro", "timezone": "Europe/Berlin"}),
               ev("i4", 0, kind="identify", userId="dan", traits={"plan": "free", "timezone": "Europe/Berlin"}))
        assert members(graph, settings, "everyone-pro") == ["ann", "bob", "cid"]
        sends = ScheduledSends(graph, settings.neo4j_database, clock=clock, sink=h.engine.apply_events)
        send = ScheduledSend(id="spring", segment="everyone-pro", journey="spring-promo", at="2026-03-02T09:00",
                             local=True, rate_per_minute=1)
        sends.create(send, "ada")
        plan = sends.plan(send)
        assert (plan.people, plan.byZone) == (3, {"America/New_York": 1, "Europe/Berlin": 2})
        berlin = moment_ms("2026-03-02T09:00", "Europe/Berlin")  # 08:00 UTC
        new_york = moment_ms("2026-03-02T09:00", "America/New_York")  # 14:00 UTC
        assert (plan.firstAtMs, plan.lastAtMs, plan.minutesAtRate) == (berlin, new_york, 3)
        assert sends.run_due(berlin - 1) == 0
        assert sends.run_due(berlin) == 1  # one per minute
        assert sends.run_due(berlin + 30_000) == 0
        assert sends.run_due(berlin + 60_000) == 1
        assert sorted(e["userId"] for e in h.enrollments("spring-promo")) == ["bob", "cid"]
        assert sends.run_due(new_york - 1) == 0
        assert sends.run_due(new_york) == 1 and sends.info("spring").status == "running"
        # done once the wall-clock time has passed in the last zone (UTC-12) with nobody due left
        assert sends.run_due(new_york + 8 * 3_600_000) == 0 and sends.info("spring").status == "done"
        assert sends.info("spring").entered == 3
    assert sorted(e["userId"] for e in h.enrollments("spring-promo")) == ["ann", "bob", "cid"]
    decided = rows(graph, settings, """MATCH (a:ActionRequest {template: 'welcome_email'})-[:FOR]->(p:Person)
                                       RETURN p.userId AS u, a.status AS s ORDER BY u""")
    assert [(d["u"], d["s"]) for d in decided] == [("ann", "chosen"), ("bob", "chosen"), ("cid", "chosen")]


def moment_ms(at: str, zone: str) -> int:
    from zoneinfo import ZoneInfo

    return int(dt.datetime.fromisoformat(at).replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def test_http_schedule_dry_run_create_and_list(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.runtime import make_services
    from graph_models.principal import ApiKey

    publish_segment(graph, settings, {"id": "pro", "name": "Pro",
                                      "condition": {"trait": "plan", "op": "eq", "value": "pro"}}, clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("i1", 0, kind="identify", userId="ann", traits={"plan": "pro", "timezone": "America/New_York"}),
               ev("i2", 0, kind="identify", userId="bob", traits={"plan": "pro", "timezone": "Europe/Berlin"}))
    keyed = settings.model_copy(update={"api_keys": [ApiKey("ada", "author", "key-ada"),
                                                     ApiKey("grace", "approver", "key-grace")]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    ada, grace = {"Authorization": "Bearer key-ada"}, {"Authorization": "Bearer key-grace"}
    body = {"journey": "spring-promo", "at": "2026-03-02T09:00", "local": True, "rate_per_minute": 1}
    try:
        with TestClient(create_app(services)) as client:
            dry = client.post("/v1/segments/pro/schedules?dry_run=true", json=body, headers=ada)
            assert dry.status_code == 200, dry.text
            plan = dry.json()["plan"]
            assert (plan["people"], plan["byZone"]) == (2, {"America/New_York": 1, "Europe/Berlin": 1})
            assert (plan["firstAtMs"], plan["lastAtMs"]) == (moment_ms("2026-03-02T09:00", "Europe/Berlin"),
                                                             moment_ms("2026-03-02T09:00", "America/New_York"))
            assert dry.json()["send"] is None
            assert client.get("/v1/segments/pro/schedules", headers=ada).json() == []
            assert client.post("/v1/segments/pro/schedules", json=body, headers=ada).status_code == 403
            assert client.post("/v1/segments/pro/schedules", json={**body, "at": "tomorrow"},
                               headers=grace).status_code == 400
            assert client.post("/v1/segments/nope/schedules", json=body, headers=grace).status_code == 404
            made = client.post("/v1/segments/pro/schedules", json=body, headers=grace)
            assert made.status_code == 201, made.text
            assert made.json()["send"]["sendId"] == "spring-promo-pro-202603020900"
            listed = client.get("/v1/segments/pro/schedules", headers=ada).json()
            assert [(s["sendId"], s["status"], s["journeyId"], s["local"]) for s in listed] == [
                ("spring-promo-pro-202603020900", "scheduled", "spring-promo", True)]
    finally:
        services.producer.close()


def test_batch_evaluation_on_a_schedule_by_the_timer_service(settings: Settings, graph: Driver,
                                                              clock: FakeClock) -> None:
    from app.journeys.scheduler import TimerService

    with harness(settings, graph, clock) as h:
        h.send(*[ev(f"i{i}", 0, kind="identify", userId=f"u{i}", traits={"plan": "pro" if i % 2 else "free"})
                 for i in range(5)])
        daily = {"id": "daily-pro", "name": "Pro (daily)", "evaluate_every": "1d",
                 "condition": {"trait": "plan", "op": "eq", "value": "pro"}}
        assert members(graph, settings, "daily-pro") == []
        publish_segment(graph, settings, daily, clock)  # published after the people: only a batch puts them in
        service = TimerService(h.engine, watermark=h.watermark)
        service.evaluations.page = 2
        service.evaluations.run_due(max_pages=1)  # one page, then interrupted: the next tick resumes
        assert service.evaluations.status("daily-pro", 1).status == "running"  # type: ignore[union-attr]
        service.tick()
        assert members(graph, settings, "daily-pro") == ["u1", "u3"]
        assert service.evaluations.run_due() == 0  # done, and not due again for a day
        clock.advance(hours=23)
        assert service.evaluations.run_due() == 0
        clock.advance(hours=1)
        assert service.evaluations.run_due() == 5  # due again: everyone evaluated, nothing changed
        assert members(graph, settings, "daily-pro") == ["u1", "u3"]
    audit = SegmentStore(graph, settings.neo4j_database, clock=clock).get("daily-pro").audit
    assert audit[0].action == "evaluate" and audit[0].principal == "timer-service"


def test_batch_evaluation_of_a_stricter_version_removes_members_its_trait_gate_rules_out(
        settings: Settings, graph: Driver, clock: FakeClock) -> None:
    """The batch scan skips people a top-level trait test rules out, except current members: they leave."""
    from app.segments.batch import SegmentEvaluator

    wide = {"id": "viewers", "name": "Viewers",
            "condition": {"all": [{"trait": "plan", "op": "in", "value": ["pro", "free"]},
                                  {"count": {"event": "Viewed Pricing", "within": "7d"}, "op": "gte", "value": 1}]}}
    publish_segment(graph, settings, wide, clock)
    with harness(settings, graph, clock) as h:
        h.send(*[ev(f"i{i}", 0, kind="identify", userId=f"u{i}", traits={"plan": plan})
                 for i, plan in enumerate(["pro", "free", "pro", "trial"])],
               *[ev(f"v{i}", 1, "Viewed Pricing", userId=f"u{i}") for i in range(4)])
        assert members(graph, settings, "viewers") == ["u0", "u1", "u2"]
    clock.advance(hours=1)
    publish_segment(graph, settings, {**wide, "condition": {"all": [
        {"trait": "plan", "op": "eq", "value": "pro"},
        {"count": {"event": "Viewed Pricing", "within": "7d"}, "op": "gte", "value": 1}]}}, clock)
    evaluator = SegmentEvaluator(graph, settings.neo4j_database, clock=clock, page=1, scan=2)
    assert evaluator.dry_run(validate_segment({**wide, "condition": {"trait": "plan", "op": "eq",
                                                                     "value": "pro"}})).size == 2
    info = evaluator.evaluate("viewers")
    assert (info.status, info.scanned, info.entered, info.left) == ("done", 4, 0, 1)
    assert members(graph, settings, "viewers") == ["u0", "u2"]
    assert history(graph, settings, "viewers")[-1] == ("u1", "left")


RECENT_VIEWERS: dict[str, Any] = {
    "id": "recent-viewers", "name": "Viewed pricing today",
    "condition": {"recency": {"event": "Viewed Pricing"}, "within": "1d"},
}


def test_one_timer_per_person_for_all_their_windowed_segments(settings: Settings, graph: Driver,
                                                              clock: FakeClock) -> None:
    """A person in two windowed segments has one SegmentTimer (each segment's wake on it, the earliest one
    swept); a timer from before timers were per person (key '<segment>|<person>') still fires, then goes."""
    publish_segment(graph, settings, PRICING, clock)
    publish_segment(graph, settings, RECENT_VIEWERS, clock)
    with harness(settings, graph, clock) as h:
        timers = SegmentTimers(graph, settings.neo4j_database, clock=clock, sink=h.engine.apply_events)
        h.send(ev("i1", 0, kind="identify", userId="ann", traits={"plan": "pro"}),
               ev("v1", 1, "Viewed Pricing", userId="ann"), ev("v2", 2, "Viewed Pricing", userId="ann"))
        assert members(graph, settings, "pricing-interest") == members(graph, settings, "recent-viewers") == ["ann"]
        pid = rows(graph, settings, "MATCH (p:Person {userId: 'ann'}) RETURN p.personId AS p")[0]["p"]
        timer = rows(graph, settings, """MATCH (t:SegmentTimer) RETURN t.key AS key, t.segments AS segments,
                                         t.wakes AS wakes, t.wakeAtMs AS wakeAtMs""")
        assert len(timer) == 1 and timer[0]["key"] == pid
        assert timer[0]["segments"] == ["pricing-interest", "recent-viewers"]
        first_view = START_MS + 60_000
        assert timer[0]["wakes"] == [first_view + 7 * 86_400_000 + 1, first_view + 86_400_000 + 1]
        assert timer[0]["wakeAtMs"] == first_view + 86_400_000 + 1
        graph.execute_query("""CREATE (:SegmentTimer {key: 'recent-viewers|' + $p, personId: $p,
                                      segmentId: 'recent-viewers', wakeAtMs: $w, wakeBucket: $w / 60000})""",
                            p=pid, w=timer[0]["wakeAtMs"], database_=settings.neo4j_database)
        assert advance(h, timers, days=1, hours=1) == 2  # the person's timer and the old one
        assert members(graph, settings, "recent-viewers") == []
        assert members(graph, settings, "pricing-interest") == ["ann"]
        left = rows(graph, settings, "MATCH (t:SegmentTimer) RETURN t.key AS key, t.segments AS segments")
        assert left == [{"key": pid, "segments": ["pricing-interest"]}]


def test_batch_evaluation_reads_again_people_who_changed_after_its_scan(settings: Settings, graph: Driver,
                                                                         clock: FakeClock) -> None:
    """The batch writes from its scan only for people whose revision did not move since: ann turns free
    between the scan and the write, so she is read again under the lock and does not enter."""
    from app.segments.batch import SegmentEvaluator, _Chunk

    with harness(settings, graph, clock) as h:
        h.send(*[ev(f"i-{u}", 0, kind="identify", userId=u, traits={"plan": "pro"}) for u in ("ann", "bob")],
               *[ev(f"v-{u}-{k}", 1 + k, "Viewed Pricing", userId=u) for u in ("ann", "bob") for k in range(2)])
        clock.advance(hours=1)
        publish_segment(graph, settings, PRICING, clock)
        evaluator = SegmentEvaluator(graph, settings.neo4j_database, clock=clock, page=10)
        read = evaluator._read_chunk

        def read_then_change(*args: Any) -> _Chunk:
            chunk = read(*args)
            h.send(ev("i-ann-free", 59, kind="identify", userId="ann", traits={"plan": "free"}))
            return chunk

        evaluator._read_chunk = read_then_change  # type: ignore[method-assign]
        info = evaluator.evaluate("pricing-interest")
    assert (info.scanned, info.entered, info.left) == (2, 1, 0)
    assert members(graph, settings, "pricing-interest") == ["bob"]
