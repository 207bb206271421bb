"""The resolver on the real servers: every constraint type through journeys, deferral across a DST change,
consent in the same batch as the action, the decision graph, and a concurrent cap race."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from neo4j import Driver, ManagedTransaction

from app.clock import FakeClock
from app.decisions.config_store import ConfigStore
from app.decisions.resolver import ConstraintResolver
from app.journeys.engine import ActionRequest
from app.settings import Settings
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition
from tests.integration.journey_support import APPROVER, AUTHOR, harness, publish
from tests.integration.support import rows, scalar

pytestmark = pytest.mark.integration

NY = ZoneInfo("America/New_York")
START = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)


def at(minutes: float, start: dt.datetime = START) -> str:
    return (start + dt.timedelta(minutes=minutes)).isoformat()


def ev(mid: str, minutes: float, name: str | None = None, kind: str = "track", start: dt.datetime = START,
       **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "messageId": mid, "timestamp": at(minutes, start), **fields}
    if name is not None:
        body["event"] = name
    return body


def publish_constraints(driver: Driver, settings: Settings, clock: FakeClock, doc: dict[str, Any]) -> str:
    store = ConfigStore(driver, settings.neo4j_database, clock)
    info = store.push("constraints", ConstraintSet.model_validate(doc), AUTHOR)
    store.submit("constraints", "default", info.version, AUTHOR)
    store.approve("constraints", "default", info.version, APPROVER)
    return store.publish("constraints", "default", info.version, APPROVER).key


def promo_journey(journey_id: str = "promo", *, channel: str = "email", template: str = "cart_reminder_email",
                  entry: str = "Promo", **action: Any) -> JourneyDefinition:
    steps: list[dict[str, Any]] = [
        {"id": "send", "type": "action", "channel": channel, "template": template, "next": "done", **action},
        {"id": "done", "type": "end"}]
    if "on_blocked" in action:
        steps.append({"id": action["on_blocked"], "type": "end"})
    return JourneyDefinition.model_validate({
        "id": journey_id, "name": journey_id, "entry": {"event": entry, "reentry": "always"}, "start": "send",
        "steps": steps})


def outcomes(driver: Driver, settings: Settings) -> list[tuple[str, str, str | None]]:
    return [(r["journey"], r["status"], r["blockedBy"]) for r in rows(driver, settings, """
        MATCH (a:ActionRequest) RETURN a.journeyId AS journey, a.status AS status, a.blockedBy AS blockedBy
        ORDER BY a.atMs, a.actionId""")]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(int(START.timestamp() * 1000))


def test_caps_consent_suppression_and_the_decision_graph(settings: Settings, graph: Driver,
                                                         clock: FakeClock) -> None:
    key = publish_constraints(graph, settings, clock, {
        "caps": [{"id": "email-daily", "max": 1, "window": "1d", "scope": {"channel": "email"}}],
        "suppression_lists": [{"id": "legal-hold", "channels": []}],
    })
    publish(graph, settings, promo_journey(on_blocked="blocked"), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("p1", 0, "Promo", userId="ann"))
        h.send(ev("p2", 10, "Promo", userId="ann"))  # the daily email cap is used up
        h.send(ev("i1", 20, kind="identify", userId="bob", traits={"email_opt_in": False}),
               ev("p3", 21, "Promo", userId="bob"))
        assert outcomes(graph, settings) == [("promo", "chosen", None), ("promo", "capped", "cap:email-daily"),
                                             ("promo", "no_consent", "consent:email")]
    paths = rows(graph, settings, """
        MATCH (p:Person)-[:ENROLLED]->(en:Enrollment)-[:AT]->(s:Step)
        RETURN p.userId AS user, s.stepId AS step ORDER BY en.enteredAtMs""")
    assert [r["step"] for r in paths] == ["done", "blocked", "blocked"]  # on_blocked taken
    graph_rows = rows(graph, settings, """
        MATCH (d:Decision)-[:FOR]->(p:Person), (d)-[c:CONSIDERED]->(a:ActionRequest)
        OPTIONAL MATCH (d)-[:UNDER]->(v:ConfigVersion)
        OPTIONAL MATCH (d)-[:TRIGGERED_BY]->(e:Event)
        OPTIONAL MATCH (d)-[:IN_VERSION]->(jv:JourneyVersion)
        OPTIONAL MATCH (a)-[:BLOCKED_BY]->(k:Constraint)
        OPTIONAL MATCH (d)-[ch:CHOSE]->(a)
        RETURN p.userId AS user, c.outcome AS outcome, v.key AS version, e.messageId AS trigger, jv.key AS journey,
               k.constraintId AS blocked, ch IS NOT NULL AS chose, a.rendered IS NOT NULL AS rendered
        ORDER BY d.atMs""")
    assert [(r["user"], r["outcome"], r["trigger"], r["blocked"], r["chose"]) for r in graph_rows] == [
        ("ann", "chosen", "p1", None, True), ("ann", "capped", "p2", "cap:email-daily", False),
        ("bob", "no_consent", "p3", "consent:email", False)]
    assert {r["version"] for r in graph_rows} == {key}
    assert {r["journey"] for r in graph_rows} == {"promo@1"}
    assert graph_rows[0]["rendered"] and not graph_rows[1]["rendered"]
    [outbox] = rows(graph, settings, """
        MATCH (a:ActionRequest)-[:DELIVERED_BY]->(d:Delivery)-[:TO]->(p:Person)
        RETURN p.userId AS user, d.status AS status, d.idempotencyKey = d.deliveryId AS keyed, d.payload AS payload""")
    assert (outbox["user"], outbox["status"], outbox["keyed"]) == ("ann", "pending", True)
    assert '"triggerMessageId": "p1"' in outbox["payload"] and '"decisionId"' in outbox["payload"]
    # a suppression list blocks everything, transactional included
    graph.execute_query("""MATCH (p:Person {userId: 'ann'}) MERGE (l:SuppressionList {listId: 'legal-hold'})
                           MERGE (p)-[:SUPPRESSED {reason: 'test', atMs: 0}]->(l)""",
                        database_=settings.neo4j_database)
    clock.advance(days=2)
    with harness(settings, graph, clock) as h:
        h.send(ev("p4", 3 * 24 * 60, "Promo", userId="ann"))
    assert outcomes(graph, settings)[-1] == ("promo", "suppressed", "suppression:legal-hold")


def test_consent_in_the_same_batch_as_the_action_and_channel_fallback(settings: Settings, graph: Driver,
                                                                      clock: FakeClock) -> None:
    publish(graph, settings, promo_journey(fallback=[{"channel": "push", "template": "cart_reminder_push"}]), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("u1", 0, "Unsubscribed", userId="cy", properties={"channel": "email"}),
               ev("p1", 1, "Promo", userId="cy"),
               ev("p2", 1, "Promo", userId="dee"))
    found = {r["user"]: (r["status"], r["channel"]) for r in rows(graph, settings, """
        MATCH (a:ActionRequest)-[:FOR]->(p:Person)
        RETURN p.userId AS user, a.status AS status, a.channel AS channel""")}
    assert found == {"cy": ("chosen", "push"), "dee": ("chosen", "email")}


def test_priorities_and_exclusion_groups_across_journeys(settings: Settings, graph: Driver,
                                                          clock: FakeClock) -> None:
    publish_constraints(graph, settings, clock, {
        "priorities": {"cart": 80, "promo": 40},
        "exclusion_groups": [{"id": "promotions", "journeys": ["cart", "promo", "other"], "window": "1d"}],
    })
    publish(graph, settings, promo_journey("promo"), clock)
    publish(graph, settings, promo_journey("cart"), clock)
    publish(graph, settings, promo_journey("other", entry="Later", channel="push", template="cart_reminder_push"),
            clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("p1", 0, "Promo", userId="eve"))  # both journeys want the email at once: cart wins
        h.send(ev("l1", 30, "Later", userId="eve"))  # another journey of the group, a different channel
    # promo ranks below cart; cart, chosen first, already took the exclusion group for the day
    assert outcomes(graph, settings) == [("cart", "chosen", None), ("promo", "excluded", "exclusion:promotions"),
                                         ("other", "excluded", "exclusion:promotions")]
    [decision] = rows(graph, settings, """
        MATCH (d:Decision)-[c:CONSIDERED]->(a:ActionRequest) WITH d, count(a) AS n WHERE n = 2
        MATCH (d)-[:IN_VERSION]->(v:JourneyVersion)
        RETURN d.candidateCount AS candidates, d.chosenCount AS chosen, collect(v.key) AS versions""")
    assert decision["candidates"] == 2 and decision["chosen"] == 1
    assert sorted(decision["versions"]) == ["cart@1", "promo@1"]


def test_quiet_hours_defer_across_a_dst_change_then_send(settings: Settings, graph: Driver) -> None:
    # Saturday 31 October 2026, 23:30 in New York; DST ends at 02:00 on Sunday 1 November.
    start = dt.datetime(2026, 10, 31, 23, 30, tzinfo=NY).astimezone(dt.UTC)
    clock = FakeClock(int(start.timestamp() * 1000))
    publish_constraints(graph, settings, clock, {
        "channels": [{"id": "push", "quiet_hours": {"start": "21:00", "end": "08:00"}}]})
    publish(graph, settings, promo_journey(channel="push", template="cart_reminder_push"), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("t1", -60, kind="identify", userId="fay", start=start, traits={"timezone": "America/New_York"}),
               ev("p1", 0, "Promo", userId="fay", start=start))
        [en] = h.enrollments()
        assert (en["status"], en["step"]) == ("active", "send")
        assert h.advance(hours=9) == 0  # 07:30 EST, still quiet (9 hours, one of them given back by DST)
        assert h.advance(minutes=31) == 1  # 08:01 EST
        [en] = h.enrollments()
        assert (en["status"], en["step"]) == ("completed", "done")
    actions = rows(graph, settings, "MATCH (a:ActionRequest) RETURN a.status AS s, a.atMs AS at, "
                                    "a.deferUntilMs AS until ORDER BY a.atMs")
    morning = int(dt.datetime(2026, 11, 1, 8, 0, tzinfo=NY).timestamp() * 1000)
    assert [a["s"] for a in actions] == ["deferred", "chosen"]
    assert actions[0]["until"] == morning and actions[1]["at"] == morning


def test_transactional_messages_pass_marketing_rules(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    publish_constraints(graph, settings, clock, {
        "caps": [{"id": "none", "max": 0, "window": "1d", "scope": {}}],
        "global_control": {"percent": 100, "salt": "all"}})
    publish(graph, settings, promo_journey("receipt", entry="Order Completed", transactional=True), clock)
    publish(graph, settings, promo_journey("promo"), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("o1", 0, "Order Completed", userId="gus"), ev("p1", 1, "Promo", userId="gus"))
    assert outcomes(graph, settings) == [("receipt", "chosen", None), ("promo", "holdout", "global_control")]


def _race_once(driver: Driver, database: str, person_id: str, action_id: str, at_ms: int) -> str:
    """One decision in its own transaction: the ActionRequest, the decision and its graph."""
    request = ActionRequest(action_id=action_id, enrollment_id="none", person_id=person_id, journey_id="race",
                            version=1, step_id="send", channel="email", template="cart_reminder_email", content={},
                            priority=0, tags=[], at_ms=at_ms, trigger="race", variant=None)

    def work(tx: ManagedTransaction) -> str:
        session = ConstraintResolver().session(tx)
        outcome = session.decide([request])[action_id]
        tx.run("""MATCH (p:Person {personId: $pid}) CREATE (a:ActionRequest)-[:FOR]->(p) SET a += $props""",
               pid=person_id, props={"actionId": action_id, "atMs": at_ms, "journeyId": "race",
                                     **{k: v for k, v in outcome.props.items() if v is not None},
                                     "status": outcome.status}).consume()
        session.flush()
        return outcome.status

    with driver.session(database=database) as s:
        return str(s.execute_write(work))


def test_concurrent_decisions_never_share_the_last_cap_slot(settings: Settings, graph: Driver,
                                                            clock: FakeClock) -> None:
    publish_constraints(graph, settings, clock, {
        "caps": [{"id": "email-three", "max": 3, "window": "1d", "scope": {"channel": "email"}}]})
    graph.execute_query("CREATE (:Person {personId: 'racer', userId: 'racer'})", database_=settings.neo4j_database)
    now = clock.now_ms()
    results: list[str] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results.append(_race_once(graph, settings.neo4j_database, "racer", f"race-{i}", now + i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(results).count("chosen") == 3 and results.count("capped") == 13
    assert scalar(graph, settings, "MATCH (a:ActionRequest {status: 'chosen'}) RETURN count(a)") == 3
    assert scalar(graph, settings, "MATCH (d:Decision)-[:CHOSE]->() RETURN count(d)") == 3


def test_concurrent_ingest_transactions_through_the_journeys_share_no_cap_slot(settings: Settings, graph: Driver,
                                                                               clock: FakeClock) -> None:
    """Eight writers (a scaled-out consumer group) each commit a batch that makes the same person reach an
    email step at once; the cap of two lets exactly two through, whatever the interleaving."""
    from app.graph.event_store import EventStore
    from app.intake.normalize import prepare, validate
    from app.runtime import make_engine

    publish_constraints(graph, settings, clock, {
        "caps": [{"id": "email-two", "max": 2, "window": "1d", "scope": {"channel": "email"}}]})
    publish(graph, settings, promo_journey(), clock)
    with harness(settings, graph, clock) as h:  # the person exists before the race
        h.send(ev("seed", 0, kind="identify", userId="zed", traits={"plan": "pro"}))
    engine = make_engine(settings, graph, clock=clock)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        store = EventStore(graph, settings.neo4j_database, session_gap_ms=1_800_000, clock=clock,
                           after_write=engine.after_ingest)
        raw = ev(f"race-{i}", 1 + i / 100, "Promo", userId="zed")
        try:
            barrier.wait(timeout=30)
            store.write([validate(prepare(raw, received_at_ms=clock.now_ms(), default_message_id=raw["messageId"]))])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert errors == []
    statuses = [s for _, s, _ in outcomes(graph, settings)]
    assert sorted(statuses) == ["capped"] * 6 + ["chosen"] * 2
    assert scalar(graph, settings, "MATCH (d:Decision) RETURN count(d)") == 8


def test_a_failing_resolver_is_an_error_outcome_and_loses_no_event(settings: Settings, graph: Driver,
                                                                   clock: FakeClock) -> None:
    """The resolver raising is recorded as the outcome `error`; the step goes on by `on_blocked`; the events land."""
    from app.journeys.runtime import JourneyRuntime
    from app.runtime import build_consumer
    from tests.conftest import wait_until
    from tests.integration.support import produce_events

    class Broken:
        def decide(self, requests: Any) -> Any:
            raise RuntimeError("constraint store unreachable")

        def flush(self) -> None:
            return None

    class BrokenResolver:
        def session(self, tx: ManagedTransaction) -> Broken:
            return Broken()

    publish(graph, settings, promo_journey(on_blocked="blocked"), clock)
    engine = JourneyRuntime(graph, settings.neo4j_database, clock=clock, resolver=BrokenResolver())
    consumer = build_consumer(settings, graph, settings.kafka_bootstrap or "", clock=clock, engine=engine)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        produce_events(settings, [ev("p1", 0, "Promo", userId="hal")])
        wait_until(lambda: consumer.stats.consumed >= 1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert consumer.stats.dead_lettered == 0
    assert scalar(graph, settings, "MATCH (e:Event {messageId: 'p1'}) RETURN count(e)") == 1
    [action] = rows(graph, settings, "MATCH (a:ActionRequest) RETURN a.status AS status, a.reason AS reason")
    assert action["status"] == "error" and "constraint store unreachable" in action["reason"]
    [en] = rows(graph, settings, "MATCH (en:Enrollment)-[:AT]->(s:Step) RETURN s.stepId AS step, en.status AS st")
    assert (en["step"], en["st"]) == ("blocked", "completed")
