"""Segment definitions, the linter and the per-person evaluator (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.journeys.engine import EngineEvent
from app.segments.definitions import SegmentInvalid, checked_segment, lint_segment, load_segment, parse_segment
from app.segments.evaluate import (
    FactEvent,
    PersonFacts,
    evaluate,
    explain,
    fact_event,
    needs_properties,
    next_change_ms,
    trait_gate,
)
from graph_models.journey import Entry, ExitCriterion
from graph_models.segments import SegmentDefinition, is_segment_change, mentions

DAY = 86_400_000
NOW = 100 * DAY
EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "segments" / "examples"


def seg(condition: dict[str, object]) -> SegmentDefinition:
    return SegmentDefinition.model_validate({"id": "s", "name": "S", "condition": condition})


def facts(*events: tuple[str, int, dict[str, object]], traits: dict[str, object] | None = None,
          accounts: list[dict[str, object]] | None = None) -> PersonFacts:
    return PersonFacts("p1", traits or {}, accounts or [],
                       sorted((FactEvent(n, t, p) for n, t, p in events), key=lambda e: e.timestamp_ms))


PRICING = seg({"all": [
    {"trait": "plan", "op": "eq", "value": "pro"},
    {"count": {"event": "Viewed Pricing", "within": "7d"}, "op": "gte", "value": 3},
    {"not": {"recency": {"event": "Order Completed"}, "within": "30d"}},
]})


def test_traits_counts_in_window_and_recency() -> None:
    views = [("Viewed Pricing", NOW - d * DAY, {}) for d in (1, 2, 3)]
    assert evaluate(PRICING.condition, facts(*views, traits={"plan": "pro"}), NOW)
    assert not evaluate(PRICING.condition, facts(*views, traits={"plan": "free"}), NOW)
    assert not evaluate(PRICING.condition, facts(*views[:2], traits={"plan": "pro"}), NOW)
    ordered = facts(*views, ("Order Completed", NOW - 10 * DAY, {}), traits={"plan": "pro"})
    assert not evaluate(PRICING.condition, ordered, NOW)
    old_view = facts(("Viewed Pricing", NOW - 8 * DAY, {}), *views[:2], traits={"plan": "pro"})
    assert not evaluate(PRICING.condition, old_view, NOW)


def test_property_conditions_on_counted_events() -> None:
    cond = seg({"count": {"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 100}],
                          "within": "30d"}, "op": "gte", "value": 2}).condition
    f = facts(("Order Completed", NOW - DAY, {"total": 150}), ("Order Completed", NOW - 2 * DAY, {"total": 50}))
    assert not evaluate(cond, f, NOW)
    f.events.append(FactEvent("Order Completed", NOW - 3 * DAY, {"total": 500}))
    assert evaluate(cond, f, NOW)


def test_accounts_any_and_not() -> None:
    big = seg({"account": {"traits": [{"trait": "seats", "op": "gt", "value": 50}]}}).condition
    assert evaluate(big, facts(accounts=[{"groupId": "a", "seats": 10}, {"groupId": "b", "seats": 80}]), NOW)
    assert not evaluate(big, facts(accounts=[{"groupId": "a", "seats": 10}]), NOW)
    assert not evaluate(big, facts(), NOW)
    named = seg({"account": {"id": "acme"}}).condition
    assert evaluate(named, facts(accounts=[{"groupId": "acme"}]), NOW)
    either = seg({"any": [{"trait": "vip", "op": "eq", "value": True}, {"not": big}]}).condition
    assert evaluate(either, facts(), NOW)


def test_next_change_is_when_the_first_counted_event_leaves_its_window() -> None:
    views = [("Viewed Pricing", NOW - d * DAY, {}) for d in (1, 2, 3)]
    f = facts(*views, ("Order Completed", NOW - 40 * DAY, {}), traits={"plan": "pro"})
    assert next_change_ms(PRICING.condition, f, NOW) == NOW - 3 * DAY + 7 * DAY + 1
    assert evaluate(PRICING.condition, f, NOW - 3 * DAY + 7 * DAY)
    assert not evaluate(PRICING.condition, f, NOW - 3 * DAY + 7 * DAY + 1)
    assert next_change_ms(seg({"trait": "plan", "op": "eq", "value": "pro"}).condition, f, NOW) is None
    assert "yes: plan = 'pro'" in explain(PRICING.condition, f, NOW)


def test_what_the_facts_queries_are_given() -> None:
    assert trait_gate(PRICING.condition) == [["plan", ["pro"]]]
    assert trait_gate(seg({"trait": "plan", "op": "in", "value": ["pro", "team"]}).condition) == [
        ["plan", ["pro", "team"]]]
    for no_gate in ({"trait": "seats", "op": "eq", "value": 5}, {"trait": "a.b", "op": "eq", "value": "x"},
                    {"trait": "plan", "op": "neq", "value": "pro"},
                    {"any": [{"trait": "plan", "op": "eq", "value": "pro"}, {"trait": "x", "op": "exists"}]},
                    {"not": {"trait": "plan", "op": "eq", "value": "pro"}}):
        assert trait_gate(seg(no_gate).condition) == []
    assert not needs_properties([PRICING.condition])
    assert needs_properties([seg({"count": {"event": "A", "where": [{"property": "p", "op": "eq", "value": 1}]},
                                  "op": "gte", "value": 1}).condition])
    assert fact_event(["A", 5, '{"p": 1}']) == FactEvent("A", 5, {"p": 1})
    assert fact_event(["A", 5, None]) == FactEvent("A", 5, {})


def test_mentions_drive_streaming_selection() -> None:
    found = mentions(PRICING.condition)
    assert found.events == {"Viewed Pricing", "Order Completed"} and found.traits == {"plan"}
    assert found.windowed and found.max_window_ms == 30 * DAY and not found.accounts


def test_lint_and_parse_errors_name_the_field() -> None:
    with pytest.raises(SegmentInvalid, match="condition"):
        parse_segment("id: x\nname: X\ncondition: {count: {event: A}, op: gte, value: 'lots'}\n")
    always = seg({"count": {"event": "A", "within": "1d"}, "op": "gte", "value": 0})
    with pytest.raises(SegmentInvalid, match="count_always_same"):
        checked_segment(always)
    warnings = lint_segment(seg({"count": {"event": "A"}, "op": "gte", "value": 1}))
    assert [w.code for w in warnings] == ["count_without_window"] and warnings[0].severity == "warning"
    for path in EXAMPLES.glob("*.yaml"):
        assert not checked_segment(load_segment(path))


def test_journey_entry_and_exit_by_segment() -> None:
    entry = Entry.model_validate({"segment": "pricing-interest"})
    assert entry.segment == "pricing-interest" and entry.event is None
    with pytest.raises(ValueError, match="one of"):
        Entry.model_validate({"segment": "a", "event": "B"})
    assert ExitCriterion.model_validate({"left_segment": "a"}).left_segment == "a"
    left = EngineEvent("m#segment:a:left", "p1", "left", "segment", NOW, {"segment": "a"})
    assert is_segment_change(left, "left", "a") and not is_segment_change(left, "entered", "a")
