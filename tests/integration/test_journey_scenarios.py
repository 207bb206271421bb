"""Journeys end to end on the real servers with a fake clock: Kafka → ingest + engine → graph."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from app.clock import FakeClock
from app.journeys.runtime import JourneyRuntime
from app.settings import Settings
from tests.integration.journey_support import canonical_journey_state, harness, publish
from tests.integration.support import rows, scalar

pytestmark = pytest.mark.integration

T0 = "2026-03-01T10:00:00Z"
START_MS = 1_772_359_200_000


def at(minutes: float) -> str:
    import datetime as dt
    return (dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def ev(mid: str, minutes: float, name: str | None = None, kind: str = "track", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "messageId": mid, "timestamp": at(minutes), **fields}
    if name is not None:
        body["event"] = name
    return body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


def test_abandoned_cart_reminds_after_timeout_and_stops_on_purchase(settings: Settings, graph: Driver,
                                                                    clock: FakeClock) -> None:
    publish(graph, settings, "abandoned_cart.yaml", clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("a1", 0, "Product Added", userId="ann", properties={"cart_id": "c1"}),
               ev("b1", 0, "Product Added", userId="bob", properties={"cart_id": "c2"}))
        assert [e["step"] for e in h.enrollments()] == ["wait_for_order", "wait_for_order"]
        h.send(ev("b2", 60, "Order Completed", userId="bob", properties={"cart_id": "c2"}))
        assert h.advance(hours=3) == 0
        assert h.advance(hours=2) == 1  # ann's 4h timeout
        assert [(a["userId"], a["channel"]) for a in h.actions()] == [("ann", "email")]
        states = {e["userId"]: (e["status"], e["step"]) for e in h.enrollments()}
        assert states["bob"][0] == "completed"
        assert states["ann"] == ("active", "wait_again")
        h.advance(days=2)
        assert [(a["userId"], a["channel"]) for a in h.actions()] == [("ann", "email"), ("ann", "sms")]
    path = rows(graph, settings, """
        MATCH (p:Person {userId:'ann'})-[:ENROLLED]->(en)-[v:VISITED]->(s:Step)
        RETURN s.stepId AS step, v.path AS path ORDER BY v.seq""")
    assert path[0]["path"] == "entry" and path[1]["path"] == "timeout"
    assert scalar(graph, settings, "MATCH (en:Enrollment)-[:ENTERED_BY]->(e:Event) RETURN count(e)") == 2
    assert scalar(graph, settings, "MATCH (a:ActionRequest)-[:FROM_STEP]->(:Step) RETURN count(a)") == 2


def test_reentry_after_a_day_and_one_live_enrollment(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    publish(graph, settings, "abandoned_cart.yaml", clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("r1", 0, "Product Added", userId="u", properties={"cart_id": "c1"}))
        h.send(ev("r2", 30, "Product Added", userId="u", properties={"cart_id": "c2"}))  # live: no second
        assert len(h.enrollments()) == 1
        h.send(ev("r3", 60, "Order Completed", userId="u", properties={"cart_id": "c1"}))
        h.send(ev("r4", 120, "Product Added", userId="u", properties={"cart_id": "c3"}))  # < 1d: no
        assert len(h.enrollments()) == 1
        h.send(ev("r5", 60 * 26, "Product Added", userId="u", properties={"cart_id": "c4"}))  # > 1d: yes
        assert [e["status"] for e in h.enrollments()] == ["completed", "active"]


def test_welcome_series_branches_and_exits_mid_wait(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    publish(graph, settings, "welcome_series.yaml", clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("w0", -1, kind="identify", userId="pro-user", traits={"plan": "pro"}),
               ev("w1", 0, "Signed Up", userId="pro-user"),
               ev("w2", 0, "Signed Up", userId="quitter"))
        first = {a["userId"] for a in h.actions()}
        assert first == {"pro-user", "quitter"}  # both got the welcome email at once
        h.send(ev("w3", 60, kind="identify", userId="quitter", traits={"unsubscribed": True}))
        assert {e["userId"]: e["status"] for e in h.enrollments()}["quitter"] == "exited"
        h.advance(days=10)
        by_user: dict[str, list[str]] = {}
        for a in h.actions():
            by_user.setdefault(a["userId"], []).append(a["template"])
        assert len(by_user["quitter"]) == 1
        assert len(by_user["pro-user"]) >= 2
        assert {e["userId"]: e["status"] for e in h.enrollments()} == {"pro-user": "completed",
                                                                       "quitter": "exited"}
    reason = scalar(graph, settings, "MATCH (p:Person {userId:'quitter'})-[:ENROLLED]->(en) RETURN en.exitReason")
    assert reason.startswith("exit:")


def test_trial_conversion_split_holdout_and_trait_date(settings: Settings, graph: Driver,
                                                       clock: FakeClock) -> None:
    publish(graph, settings, "trial_conversion.yaml", clock)
    users = [f"t{i}" for i in range(30)]
    with harness(settings, graph, clock) as h:
        h.send(*[ev(f"id-{u}", -1, kind="identify", userId=u, traits={"trial_ends_at": at(60 * 24 * 14)})
                 for u in users])
        h.send(*[ev(f"ts-{u}", 0, "Trial Started", userId=u) for u in users])
        variants = {e["userId"]: e["variant"] for e in h.enrollments()}
        assert set(variants.values()) <= {"A", "B", "holdout"} and len(variants) == 30
        converter = next(u for u in users if variants[u] != "holdout")  # holdouts end at once
        h.send(ev("sub", 60, "Subscription Started", userId=converter))
        h.advance(days=20)
        final = {e["userId"]: e for e in h.enrollments()}
        assert (final[converter]["status"], final[converter]["reason"]) == ("exited", "exit:converted")
        assert all(e["status"] != "active" for e in final.values())
        holdouts = [u for u, v in variants.items() if v == "holdout"]
        acted = {a["userId"] for a in h.actions()}
        assert not acted & set(holdouts)


def test_identity_merge_mid_journey_keeps_one_enrollment(settings: Settings, graph: Driver,
                                                         clock: FakeClock) -> None:
    publish(graph, settings, "abandoned_cart.yaml", clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("m1", 0, "Product Added", anonymousId="anon-7", properties={"cart_id": "c1"}))
        h.send(ev("m2", 5, "Product Added", userId="kim", properties={"cart_id": "c9"}))
        assert len(h.enrollments()) == 2
        h.send(ev("m3", 10, kind="identify", anonymousId="anon-7", userId="kim"))
        states = sorted((e["status"], e["reason"] or "") for e in h.enrollments())
        assert states == [("active", ""), ("exited", "merged_duplicate")]
        assert scalar(graph, settings, "MATCH (p:Person) RETURN count(p)") == 1
        h.send(ev("m4", 20, "Order Completed", userId="kim", properties={"cart_id": "c1"}))
        assert sorted(e["status"] for e in h.enrollments()) == ["completed", "exited"]


def test_restart_with_pending_timers_loses_none(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    publish(graph, settings, "abandoned_cart.yaml", clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("p1", 0, "Product Added", userId="pat", properties={"cart_id": "c1"}))
    # The consumer and its engine are gone; a new runtime (a restarted process) finds the timer in the graph.
    clock.advance(hours=5)
    fresh = JourneyRuntime(graph, settings.neo4j_database, clock=clock)
    assert fresh.fire_due() == 1
    assert scalar(graph, settings, "MATCH (a:ActionRequest) RETURN count(a)") == 1
    assert fresh.fire_due() == 0  # nothing fires twice


def test_replaying_the_same_events_gives_identical_journey_state(settings: Settings, graph: Driver,
                                                                 clock: FakeClock) -> None:
    events = [
        ev("x1", 0, "Product Added", userId="u1", properties={"cart_id": "c1"}),
        ev("x2", 1, "Product Added", userId="u2", properties={"cart_id": "c2"}),
        ev("x3", 2, "Signed Up", userId="u3"),
        ev("x4", 50, "Order Completed", userId="u1", properties={"cart_id": "c1"}),
        ev("x5", 70, "Trial Started", userId="u3"),
    ]
    dumps = []
    for run in range(2):
        if run:
            graph.execute_query("MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:SchemaMigration DETACH DELETE n",
                                database_=settings.neo4j_database)
        clock = FakeClock(START_MS)
        for name in ("abandoned_cart.yaml", "welcome_series.yaml", "trial_conversion.yaml"):
            publish(graph, settings, name, clock)
        run_settings = settings.model_copy(update={"consumer_group": f"{settings.consumer_group}-{run}"})
        with harness(run_settings, graph, clock) as h:
            if run == 0:
                h.send(*events)
            else:
                for e in events:  # one event per batch the second time
                    h.send(e)
                h.send(*events)  # and every event again: duplicates change nothing
            h.advance(days=3)
        dumps.append(canonical_journey_state(graph, settings))
    assert dumps[0] == dumps[1]
    assert dumps[0]["enrollments"] and dumps[0]["visits"] and dumps[0]["actions"]


def test_a_paused_journey_holds_its_people_without_blocking_other_timers(settings: Settings, graph: Driver,
                                                                         clock: FakeClock) -> None:
    from app.journeys.store import JourneyStore
    from tests.integration.journey_support import APPROVER

    welcome = publish(graph, settings, "welcome_series.yaml", clock)
    publish(graph, settings, "abandoned_cart.yaml", clock)
    store = JourneyStore(graph, settings.neo4j_database, clock=clock)
    with harness(settings, graph, clock) as h:
        h.send(*[ev(f"s{i}", 0, "Signed Up", userId=f"new-{i}") for i in range(3)])
        h.send(ev("cart", 10, "Product Added", userId="shopper", properties={"cart_id": "c1"}))
        store.pause("welcome-series", APPROVER)
        clock.advance(days=2)
        # Small pages: the three paused welcome timers are due first and must not block the cart's.
        h.engine.fire_due(limit=2, now_ms=clock.now_ms())
        assert ("shopper", "email") in {(a["userId"], a["channel"]) for a in h.actions()}
        held = [e for e in h.enrollments("welcome-series") if e["status"] == "active"]
        assert [e["step"] for e in held] == ["wait_1d"] * 3
        store.publish("welcome-series", welcome, APPROVER)  # resume
        h.engine.fire_due(limit=2, now_ms=clock.now_ms())
        assert all(e["step"] != "wait_1d" for e in h.enrollments("welcome-series"))


def test_count_branch_at_ingest_counts_earlier_and_same_batch_events(settings: Settings, graph: Driver,
                                                                     clock: FakeClock) -> None:
    """A count condition evaluated on the ingest path (read once per batch for the people who may need it)
    counts the person's events from earlier batches and from the batch itself, and no one else's."""
    from app.journeys.loader import example_paths, load_definition
    from graph_models.journey import JourneyDefinition

    base = load_definition(next(p for p in example_paths() if p.stem == "welcome_series"))
    data = base.model_dump(by_alias=True, exclude_none=True, mode="json")
    data["id"], data["entry"]["event"], data["start"] = "count-at-ingest", "Go", "which_onboarding"
    data["steps"] = [s for s in data["steps"] if s["id"] not in ("welcome", "wait_1d")]
    publish(graph, settings, JourneyDefinition.model_validate(data), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("c1", 0, "Project Created", userId="builder"))
        h.send(ev("c2", 5, "Project Created", userId="same-batch"), ev("c3", 10, "Go", userId="same-batch"),
               ev("c4", 10, "Go", userId="builder"), ev("c5", 10, "Go", userId="idle"))
        templates = {a["userId"]: a["template"] for a in h.actions()}
    assert templates == {"builder": "onboarding_project_email", "same-batch": "onboarding_project_email",
                         "idle": "getting_started_email"}
