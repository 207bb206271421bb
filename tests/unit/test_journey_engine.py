"""The journey state machine without a graph: each step type, timers, exits, re-entry, determinism."""

from __future__ import annotations

from typing import Any

from app.journeys.engine import Effects, EngineEvent, Enrollment, Walker, bucket, wait_until_ms
from graph_models.journey import CountSpec, JourneyDefinition, WaitUntil

T0 = 1_772_359_200_000  # 2026-03-01T10:00:00Z
H = 3_600_000
D = 24 * H


def journey(**over: Any) -> JourneyDefinition:
    body: dict[str, Any] = {
        "id": "cart", "name": "Cart", "entry": {"event": "Product Added"}, "start": "wait",
        "steps": [
            {"id": "wait", "type": "wait_for_event", "event": "Order Completed", "match_entry": ["cart_id"],
             "timeout": "4h", "next": "done", "on_timeout": "remind"},
            {"id": "remind", "type": "action", "channel": "email", "template": "cart", "next": "done"},
            {"id": "done", "type": "end"},
        ],
    }
    body.update(over)
    return JourneyDefinition.model_validate(body)


def event(mid: str, name: str, at: int, **props: Any) -> EngineEvent:
    return EngineEvent(mid, "p1", name, "track", at, props)


def walker(defn: JourneyDefinition, traits: dict[str, Any] | None = None,
           counts: dict[str, int] | None = None) -> tuple[Walker, Effects]:
    fx = Effects()
    w = Walker(defn, 1, fx, lambda _pid: traits or {}, lambda _pid, spec, _b: (counts or {}).get(spec.event, 0))
    return w, fx


def test_abandoned_cart_times_out_to_the_reminder() -> None:
    w, fx = walker(journey())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    assert (en.step_id, en.due_at_ms, en.waiting_since_ms) == ("wait", T0 + 4 * H, T0)
    assert en.wake_at_ms == T0 + 4 * H
    w.fire_due(en, T0 + 3 * H)
    assert en.step_id == "wait" and en.live
    w.fire_due(en, T0 + 5 * H)
    assert en.status == "completed" and en.wake_at_ms is None
    assert [(a.channel, a.template, a.at_ms) for a in fx.actions] == [("email", "cart", T0 + 4 * H)]
    assert [(v.step_id, v.path) for v in fx.visits] == [("wait", "entry"), ("remind", "timeout"), ("done", "next")]


def test_wait_for_event_needs_the_matching_entry_property() -> None:
    w, fx = walker(journey())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.on_event(en, event("m2", "Order Completed", T0 + H, cart_id="other"))
    assert en.step_id == "wait"
    w.on_event(en, event("m3", "Order Completed", T0 + 2 * H, cart_id="c1"))
    assert en.status == "completed" and fx.actions == []


def test_a_late_event_after_the_timeout_fires_the_timeout_first() -> None:
    w, fx = walker(journey())
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.on_event(en, event("m2", "Order Completed", T0 + 5 * H, cart_id="c1"))
    assert [a.at_ms for a in fx.actions] == [T0 + 4 * H]  # the reminder went out at the timeout


def test_exit_criteria_apply_mid_wait() -> None:
    defn = journey(exit=[{"event": "Unsubscribed"}, {"traits": {"trait": "vip", "op": "eq", "value": True},
                                                      "name": "vip"}])
    w, _ = walker(defn)
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w.on_event(en, event("m2", "Unsubscribed", T0 + H))
    assert (en.status, en.exit_reason, en.ended_at_ms) == ("exited", "exit:Unsubscribed", T0 + H)
    w2, _ = walker(defn, traits={"vip": True})
    en2 = w2.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    w2.on_event(en2, event("m3", "Page", T0 + H))
    assert en2.exit_reason == "exit:vip"


def test_journey_timeout_exits() -> None:
    defn = journey(timeout="2h")
    w, _ = walker(defn)
    en = w.enter("p1", event("m1", "Product Added", T0, cart_id="c1"))
    assert en.wake_at_ms == T0 + 2 * H
    w.fire_due(en, T0 + 10 * H)
    assert (en.status, en.exit_reason, en.ended_at_ms) == ("exited", "journey_timeout", T0 + 2 * H)


def test_branch_on_traits_and_counts() -> None:
    defn = journey(start="b", steps=[
        {"id": "b", "type": "branch", "branches": [
            {"name": "pro", "when": {"trait": "plan", "op": "eq", "value": "pro"}, "next": "a"},
            {"name": "loyal", "when": {"count": {"event": "Order Completed", "within": "30d"}, "op": "gte",
                                       "value": 2}, "next": "b2"},
        ], "default": "end"},
        {"id": "a", "type": "action", "channel": "push", "template": "t", "next": "end"},
        {"id": "b2", "type": "action", "channel": "sms", "template": "t", "next": "end"},
        {"id": "end", "type": "end"},
    ])
    for traits, counts, expect in [({"plan": "pro"}, {}, ["push"]), ({}, {"Order Completed": 2}, ["sms"]),
                                   ({}, {"Order Completed": 1}, [])]:
        w, fx = walker(defn, traits, counts)
        w.enter("p1", event("m1", "Product Added", T0))
        assert [a.channel for a in fx.actions] == expect


def test_split_is_deterministic_and_weighted() -> None:
    defn = journey(start="s", steps=[
        {"id": "s", "type": "split", "variants": [
            {"name": "A", "weight": 45, "next": "end"}, {"name": "B", "weight": 45, "next": "end"},
            {"name": "holdout", "weight": 10, "next": "end", "holdout": True}]},
        {"id": "end", "type": "end"},
    ])
    seen: dict[str, int] = {}
    for i in range(2000):
        w, _ = walker(defn)
        en = w.enter(f"p{i}", EngineEvent(f"m{i}", f"p{i}", "Product Added", "track", T0, {}))
        w2, _ = walker(defn)
        again = w2.enter(f"p{i}", EngineEvent(f"x{i}", f"p{i}", "Product Added", "track", T0 + 1, {}))
        assert en.variant == again.variant
        seen[en.variant or ""] = seen.get(en.variant or "", 0) + 1
    assert 800 < seen["A"] < 1000 and 800 < seen["B"] < 1000 and 120 < seen["holdout"] < 280
    assert 0 <= bucket("a", "b") < 1


def test_reentry_rules() -> None:
    ended = Enrollment("cart@1/m0", "cart", 1, "p1", T0, "m0", status="completed")
    live = Enrollment("cart@1/m0", "cart", 1, "p1", T0, "m0")
    ev = event("m9", "Product Added", T0 + 2 * D)
    for rule, history, expect in [
        ("never", [ended], False), ("always", [ended], True), ("always", [live], False),
        ({"after": "1d"}, [ended], True), ({"after": "3d"}, [ended], False), ("never", [], True),
    ]:
        w, _ = walker(journey(entry={"event": "Product Added", "reentry": rule}))
        assert w.wants(ev, "p1", history) is expect, rule


def test_entry_conditions_on_properties_and_traits() -> None:
    defn = journey(entry={"event": "Product Added", "where": [{"property": "price", "op": "gte", "value": 10}],
                          "traits": {"trait": "country", "op": "in", "value": ["NO", "SE"]}})
    w, _ = walker(defn, traits={"country": "NO"})
    assert w.wants(event("m1", "Product Added", T0, price=12), "p1", [])
    assert not w.wants(event("m1", "Product Added", T0, price=5), "p1", [])
    w2, _ = walker(defn, traits={"country": "DK"})
    assert not w2.wants(event("m1", "Product Added", T0, price=12), "p1", [])


def test_waits_until_time_of_day_date_and_trait() -> None:
    at_9_oslo = wait_until_ms(WaitUntil(time_of_day="09:00", timezone="Europe/Oslo"), T0, {})
    assert at_9_oslo == T0 + 22 * H  # 10:00Z is 11:00 in Oslo; next 09:00 Oslo is 08:00Z tomorrow
    assert wait_until_ms(WaitUntil(date="2026-03-05T00:00:00Z"), T0, {}) == T0 + 4 * D - 10 * H
    trait_wait = WaitUntil.model_validate({"trait": "trial_ends_at", "offset": "-2d"})
    assert wait_until_ms(trait_wait, T0, {"trial_ends_at": "2026-03-10T10:00:00Z"}) == T0 + 7 * D
    assert wait_until_ms(trait_wait, T0, {}) is None


def test_a_wait_step_then_replay_is_identical() -> None:
    defn = journey(start="w", steps=[
        {"id": "w", "type": "wait", "duration": "3d", "next": "a"},
        {"id": "a", "type": "action", "channel": "email", "template": "t", "next": "end"},
        {"id": "end", "type": "end"}])
    runs = []
    for _ in range(2):
        w, fx = walker(defn)
        en = w.enter("p1", event("m1", "Product Added", T0))
        w.fire_due(en, T0 + 3 * D)
        runs.append((en.to_props(), fx.visits, fx.actions))
    assert runs[0] == runs[1]
    assert runs[0][0]["status"] == "completed" and runs[0][2][0].at_ms == T0 + 3 * D


def test_count_spec_window_is_passed_through() -> None:
    seen: list[tuple[str, int]] = []
    defn = journey(start="b", steps=[
        {"id": "b", "type": "branch", "branches": [
            {"when": {"count": {"event": "Order Completed", "within": "30d"}}, "next": "end"}], "default": "end"},
        {"id": "end", "type": "end"}])
    fx = Effects()

    def count(pid: str, spec: CountSpec, basis: int) -> int:
        seen.append((spec.event, basis))
        return 0

    Walker(defn, 1, fx, lambda _p: {}, count).enter("p1", event("m1", "Product Added", T0))
    assert seen == [("Order Completed", T0)]


def test_counted_events_finds_every_count_condition_of_a_definition() -> None:
    from app.journeys.conditions import counted_events
    from app.journeys.loader import example_paths, load_definition

    found = {p.stem: counted_events(load_definition(p)) for p in example_paths()}
    assert found == {"abandoned_cart": set(), "trial_conversion": {"Feature Used"},
                     "welcome_series": {"Project Created"}}
