"""Evaluate a segment condition for one person against facts read by fixed named queries (pure; no I/O).

No query text is ever built from a definition: `cypher/segments/facts.cypher` (per person) and
`facts_scan.cypher` (the batch's range scan) read the person's traits, accounts and events of the names the
segments mention since the largest window, and this module answers every condition in Python. What a
definition passes to those queries (names, whether event properties are needed, a trait gate) is computed
here as parameters. Streaming (the ingest transaction), timers and the batch evaluation all use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.journeys.conditions import compare, get_path, matches_properties
from graph_models.journey import CountCondition, PropertyCondition, TraitCondition
from graph_models.segments import (
    AccountCondition,
    RecencyCondition,
    SegAll,
    SegAny,
    SegmentCondition,
    SegNot,
    walk,
)


@dataclass(frozen=True)
class FactEvent:
    """One event as conditions see it: its name (track `event`, else the call type), time and properties."""

    name: str
    timestamp_ms: int
    properties: Mapping[str, Any]


@dataclass
class PersonFacts:
    """Everything a segment condition may look at for one person."""

    person_id: str
    traits: Mapping[str, Any] = field(default_factory=dict)
    accounts: list[Mapping[str, Any]] = field(default_factory=list)
    events: list[FactEvent] = field(default_factory=list)  # only the names asked for, since the window start
    user_id: str | None = None


def fact_event(entry: Sequence[Any]) -> FactEvent:
    """A `facts` event entry `[name, timestampMs, properties JSON text or null]` as a FactEvent."""
    name, ts, raw = [*entry, None, None, None][:3]
    try:
        props = json.loads(raw) if isinstance(raw, str) and raw else {}
    except json.JSONDecodeError:
        props = {}
    return FactEvent(str(name or ""), int(ts or 0), props if isinstance(props, dict) else {})


def needs_properties(conditions: Sequence[SegmentCondition]) -> bool:
    """Does some count or recency filter events by property (`where`)? Only then are properties read."""
    for cond in conditions:
        for c in walk(cond):
            if isinstance(c, CountCondition) and c.count.where:
                return True
            if isinstance(c, RecencyCondition) and c.recency.where:
                return True
    return False


def trait_gate(condition: SegmentCondition) -> list[list[Any]]:
    """Trait tests every member passes, as `[trait, [string values]]` pairs a query checks in the graph
    (`p[trait] IN values`): top-level `eq`/`in` trait conditions on strings, directly or inside `all`.
    A person failing one is out whatever their events, so their events need not be read. Only strings:
    for them the graph's equality is exactly `compare`'s (numbers and booleans differ)."""
    if isinstance(condition, SegAll):
        return [g for c in condition.all for g in trait_gate(c)]
    if not isinstance(condition, TraitCondition) or "." in condition.trait:
        return []
    if condition.op == "eq":
        values: Any = [condition.value]
    elif condition.op == "in" and isinstance(condition.value, list):
        values = condition.value
    else:
        return []
    if not values or not all(isinstance(v, str) for v in values):
        return []
    return [[condition.trait, list(values)]]


def _matching(events: Iterable[FactEvent], name: str, where: list[PropertyCondition]) -> list[FactEvent]:
    if not where:
        return [e for e in events if e.name == name]
    return [e for e in events if e.name == name and matches_properties(where, e.properties)]


def _in_window(events: Iterable[FactEvent], now_ms: int, window_ms: int | None) -> int:
    start = 0 if window_ms is None else now_ms - window_ms
    return sum(1 for e in events if start <= e.timestamp_ms <= now_ms)


def _account_matches(account: Mapping[str, Any], cond: AccountCondition) -> bool:
    spec = cond.account
    if spec.id is not None and account.get("groupId") != spec.id:
        return False
    return all(compare(get_path(account, t.trait), t.op, t.value) for t in spec.traits)


def evaluate(condition: SegmentCondition, facts: PersonFacts, now_ms: int) -> bool:
    """Does the person satisfy `condition` at `now_ms` (windows end at `now_ms`, inclusive)?"""
    if isinstance(condition, TraitCondition):
        return compare(get_path(facts.traits, condition.trait), condition.op, condition.value)
    if isinstance(condition, CountCondition):
        spec = condition.count
        hits = _in_window(_matching(facts.events, spec.event, spec.where), now_ms,
                          spec.within.ms if spec.within is not None else None)
        return compare(hits, condition.op, condition.value)
    if isinstance(condition, RecencyCondition):
        spec_r = condition.recency
        return _in_window(_matching(facts.events, spec_r.event, spec_r.where), now_ms, condition.within.ms) > 0
    if isinstance(condition, AccountCondition):
        return any(_account_matches(a, condition) for a in facts.accounts)
    if isinstance(condition, SegAll):
        return all(evaluate(c, facts, now_ms) for c in condition.all)
    if isinstance(condition, SegAny):
        return any(evaluate(c, facts, now_ms) for c in condition.any)
    if isinstance(condition, SegNot):
        return not evaluate(condition.not_, facts, now_ms)
    raise TypeError(f"unknown segment condition {type(condition).__name__}")


def _change_times(condition: SegmentCondition, facts: PersonFacts, now_ms: int) -> list[int]:
    times: list[int] = []
    for c in walk(condition):
        if isinstance(c, CountCondition) and c.count.within is not None:
            name, where, window = c.count.event, c.count.where, c.count.within.ms
        elif isinstance(c, RecencyCondition):
            name, where, window = c.recency.event, c.recency.where, c.within.ms
        else:
            continue
        for e in _matching(facts.events, name, where):
            leaves = e.timestamp_ms + window + 1
            if e.timestamp_ms > now_ms:
                times.append(e.timestamp_ms)
            elif leaves > now_ms:
                times.append(leaves)
    return times


def next_change_ms(condition: SegmentCondition, facts: PersonFacts, now_ms: int) -> int | None:
    """The earliest time after `now_ms` at which a windowed count or recency could change by time alone
    (an event leaving its window, or a future-stamped event entering it); None if none can. The durable
    segment timer re-evaluates the person then."""
    times = _change_times(condition, facts, now_ms)
    return min(times) if times else None


def explain(condition: SegmentCondition, facts: PersonFacts, now_ms: int) -> str:
    """A short sentence of why the person is (or is not) in: each top-level clause and whether it held."""
    clauses = condition.all if isinstance(condition, SegAll) else [condition]
    parts = []
    for c in clauses:
        held = evaluate(c, facts, now_ms)
        parts.append(f"{'yes' if held else 'no'}: {describe(c)}")
        if len(parts) >= 6:
            break
    return "; ".join(parts)[:500]


def describe(condition: SegmentCondition) -> str:
    """The condition in a few words (`plan eq 'pro'`, `Viewed Pricing >= 3 in 7d`)."""
    ops = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
    if isinstance(condition, TraitCondition):
        return f"{condition.trait} {ops.get(condition.op, condition.op)} {condition.value!r}"
    if isinstance(condition, CountCondition):
        window = f" in {condition.count.within.text}" if condition.count.within else ""
        return f"{condition.count.event} {ops.get(condition.op, condition.op)} {condition.value}{window}"
    if isinstance(condition, RecencyCondition):
        return f"{condition.recency.event} within {condition.within.text}"
    if isinstance(condition, AccountCondition):
        what = ", ".join(describe(t) for t in condition.account.traits) or "any"
        return f"account {condition.account.id or ''}({what})"
    if isinstance(condition, SegAll):
        return "all of " + ", ".join(describe(c) for c in condition.all)
    if isinstance(condition, SegAny):
        return "any of " + ", ".join(describe(c) for c in condition.any)
    if isinstance(condition, SegNot):
        return "not " + describe(condition.not_)
    return type(condition).__name__


def trait_keys(conditions: Sequence[SegmentCondition]) -> list[str]:
    """The person properties the conditions read (each trait path's first key), and `userId` (members are
    shown by it): what a batch scan ships as traits."""
    keys = {"userId"}
    for cond in conditions:
        for c in walk(cond):
            if isinstance(c, TraitCondition):
                keys.add(c.trait.split(".")[0])
    return sorted(keys)


def event_names(conditions: Sequence[SegmentCondition]) -> set[str]:
    """Every event name the conditions count."""
    names: set[str] = set()
    for cond in conditions:
        for c in walk(cond):
            if isinstance(c, CountCondition):
                names.add(c.count.event)
            elif isinstance(c, RecencyCondition):
                names.add(c.recency.event)
    return names
