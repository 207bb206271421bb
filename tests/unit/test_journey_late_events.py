"""Events older than the step an enrollment is at (late, or out of order across partitions): the rule.

- An event older than the enrollment's entry is ignored by that enrollment.
- A `wait_for_event` step matches only events at or after the moment the step started (`waitingSinceMs`):
  an older event, even a matching one, does not move it. Nothing already done is undone (a reminder sent
  at a timeout stays sent).
- Exit criteria (goal events) apply to any event at or after entry, however late: the journey ends, stamped
  with the event's time.
- Timers due before a late event's time have already fired; the event fires none.
"""

from __future__ import annotations

from typing import Any

from app.journeys.engine import Effects, EngineEvent, Walker
from graph_models.journey import JourneyDefinition

T0 = 1_772_359_200_000
H = 3_600_000


def cart(**over: Any) -> JourneyDefinition:
    body: dict[str, Any] = {
        "id": "cart", "name": "Cart", "entry": {"event": "Product Added"}, "start": "wait",
        "steps": [
            {"id": "wait", "type": "wait_for_event", "event": "Order Completed", "match_entry": ["cart_id"],
             "timeout": "4h", "next": "done", "on_timeout": "remind"},
            {"id": "remind", "type": "action", "channel": "email", "template": "cart", "next": "again"},
            {"id": "again", "type": "wait_for_event", "event": "Order Completed", "match_entry": ["cart_id"],
             "timeout": "1d", "next": "done", "on_timeout": "gave_up"},
            {"id": "done", "type": "end"},
            {"id": "gave_up", "type": "end"},
        ],
    }
    body.update(over)
    return JourneyDefinition.model_validate(body)


def event(mid: str, name: str, at: int, **props: Any) -> EngineEvent:
    return EngineEvent(mid, "p1", name, "track", at, props)


def walker(defn: JourneyDefinition) -> tuple[Walker, Effects]:
    fx = Effects()
    return Walker(defn, 1, fx, lambda _pid: {}, lambda _pid, _spec, _basis: 0), fx


def test_an_event_older_than_the_entry_is_ignored() -> None:
    w, fx = walker(cart())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.on_event(en, event("m0", "Order Completed", T0 - 1, cart_id="c1"))
    assert (en.status, en.step_id) == ("active", "wait")
    assert [(v.step_id, v.path) for v in fx.visits] == [("wait", "entry")]


def test_a_matching_event_older_than_the_current_step_does_not_move_it() -> None:
    w, fx = walker(cart())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.fire_due(en, T0 + 5 * H)  # the timeout fired at T0+4h: reminded, now at `again` since T0+4h
    assert (en.step_id, en.waiting_since_ms) == ("again", T0 + 4 * H)
    w.on_event(en, event("late", "Order Completed", T0 + H, cart_id="c1"))  # ordered at T0+1h, arrives late
    assert (en.status, en.step_id) == ("active", "again")
    assert [a.at_ms for a in fx.actions] == [T0 + 4 * H]  # the reminder is not undone
    w.on_event(en, event("now", "Order Completed", T0 + 5 * H, cart_id="c1"))
    assert en.status == "completed"
    assert [(v.step_id, v.path, v.trigger) for v in fx.visits][-1] == ("done", "event", "now")


def test_an_event_at_the_step_start_matches() -> None:
    w, _ = walker(cart())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.on_event(en, event("same-ms", "Order Completed", T0, cart_id="c1"))
    assert en.status == "completed"


def test_a_late_goal_event_still_exits() -> None:
    w, _ = walker(cart(exit=[{"event": "Unsubscribed", "name": "unsubscribed"}]))
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.fire_due(en, T0 + 5 * H)
    w.on_event(en, event("late", "Unsubscribed", T0 + H))
    assert (en.status, en.exit_reason, en.ended_at_ms) == ("exited", "exit:unsubscribed", T0 + H)


def test_a_late_event_fires_no_timer() -> None:
    w, fx = walker(cart())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.on_event(en, event("m2", "Page", T0 + H))
    assert en.step_id == "wait" and fx.actions == []
