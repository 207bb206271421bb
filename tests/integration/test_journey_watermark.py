"""Timers follow the events: a timer fires only once the events up to its due time have been applied
(end to end on the real servers, fake clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from neo4j import Driver

from app.clock import FakeClock
from app.journeys.scheduler import TimerService
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from tests.conftest import wait_until
from tests.integration.journey_support import harness, publish
from tests.integration.support import produce_events, rows

pytestmark = pytest.mark.integration

START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z

ORDER_WAIT = JourneyDefinition.model_validate({
    "id": "order-wait", "name": "Wait 6 s for the order", "entry": {"event": "Product Added"},
    "start": "wait_for_order",
    "steps": [
        {"id": "wait_for_order", "type": "wait_for_event", "event": "Order Completed", "timeout": "6s",
         "next": "ordered", "on_timeout": "remind"},
        {"id": "remind", "type": "action", "channel": "email", "template": "cart_reminder_email", "next": "gave_up"},
        {"id": "ordered", "type": "end"},
        {"id": "gave_up", "type": "end"},
    ],
})


def ev(mid: str, at_ms: int, name: str, **fields: Any) -> dict[str, Any]:
    stamp = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
    return {"type": "track", "event": name, "messageId": mid, "timestamp": stamp, **fields}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


def path_of(driver: Driver, settings: Settings, user: str) -> list[tuple[str, str]]:
    return [(r["step"], r["path"]) for r in rows(driver, settings, """
        MATCH (:Identity {key: 'userId:' + $user})-[:IDENTIFIES]->(:Person)-[:ENROLLED]->(en)-[v:VISITED]->(s:Step)
        RETURN s.stepId AS step, v.path AS path ORDER BY v.seq""", user=user)]


def test_a_lagging_consumer_holds_the_timeout_until_the_order_is_applied(settings: Settings, graph: Driver,
                                                                         clock: FakeClock) -> None:
    """The reported case: wait 6 s for an order; consumer stopped; an order 2 s after entry goes to Kafka;
    10 s pass; the timer service runs (nothing fires); the consumer restarts; the person takes the event path."""
    publish(graph, settings, ORDER_WAIT, clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("pa-1", START_MS, "Product Added", userId="ann"))
        h.caught_up()
        assert path_of(graph, settings, "ann") == [("wait_for_order", "entry")]

        h.stop_consumer()
        produce_events(settings, [ev("oc-1", START_MS + 2000, "Order Completed", userId="ann")])
        clock.advance(seconds=10)
        timers = TimerService(h.engine, watermark=h.watermark)
        assert timers.tick() == 0  # the order is still in Kafka: the 6 s timeout must not fire
        assert h.actions() == []
        assert path_of(graph, settings, "ann") == [("wait_for_order", "entry")]

        h.start_consumer()
        wait_until(lambda: h.enrollments("order-wait")[0]["status"] == "completed")
        h.caught_up()
        assert timers.tick() == 0
    assert path_of(graph, settings, "ann") == [("wait_for_order", "entry"), ("ordered", "event")]
    assert h.actions() == []


def test_timers_fire_once_the_consumer_has_caught_up(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    """Without the order, the same timeout fires, but only after the watermark passed its due time."""
    publish(graph, settings, ORDER_WAIT, clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("pa-2", START_MS, "Product Added", userId="bo"))
        h.stop_consumer()
        clock.advance(seconds=10)
        timers = TimerService(h.engine, watermark=h.watermark)
        assert timers.tick() == 0  # no consumer: the watermark holds, and so do the timers
        h.start_consumer()
        h.caught_up()
        assert timers.tick() == 1
        assert timers.tick() == 0
    assert path_of(graph, settings, "bo") == [("wait_for_order", "entry"), ("remind", "timeout"), ("gave_up", "next")]
    reading = h.watermark.read()
    assert reading.partitions == settings.topic_partitions and reading.complete
    assert reading.event_time_ms is not None and reading.event_time_ms >= START_MS + 10_000


def test_a_late_anonymous_order_on_another_partition_does_not_move_a_later_step(
        settings: Settings, graph: Driver, clock: FakeClock) -> None:
    """Out of order for one person: the identified cart and the anonymous order travel on different
    partitions (keyed by userId / anonymousId). An order older than the step the enrollment is at does not
    move it (nothing sent is undone); a current one does."""
    publish(graph, settings, "abandoned_cart.yaml", clock)
    hour = 3_600_000
    with harness(settings, graph, clock) as h:
        h.send(ev("k-cart", START_MS, "Product Added", userId="kim", properties={"cart_id": "c1"}),
               {"type": "identify", "messageId": "k-id", "userId": "kim", "anonymousId": "dev-k",
                "timestamp": ev("x", START_MS, "x")["timestamp"]})
        assert h.advance(hours=5) == 1  # the 4 h timeout: reminded, now waiting again since 4 h
        h.send(ev("k-late", START_MS + hour, "Order Completed", anonymousId="dev-k", properties={"cart_id": "c1"}))
        [state] = h.enrollments("abandoned-cart")
        assert (state["status"], state["step"]) == ("active", "wait_again")
        h.send(ev("k-now", START_MS + 5 * hour, "Order Completed", anonymousId="dev-k",
                  properties={"cart_id": "c1"}))
        [state] = h.enrollments("abandoned-cart")
        assert state["status"] == "completed"
    assert path_of(graph, settings, "kim") == [("wait_for_order", "entry"), ("email_reminder", "timeout"),
                                               ("wait_again", "next"), ("ordered", "event")]
    late = rows(graph, settings, """MATCH (:Identity {key: 'userId:kim'})-[:IDENTIFIES]->(:Person)-[:PERFORMED]->
                                    (e:Event {messageId: 'k-late'}) RETURN e.messageId AS m""")
    assert late == [{"m": "k-late"}]  # the late event is in the graph all the same
