"""Evaluate journey conditions against an event, a person's traits and their event history (pure)."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from graph_models.journey import (
    AllOf,
    AnyOf,
    Condition,
    CountCondition,
    CountSpec,
    NotOf,
    PropertyCondition,
    TraitCondition,
)

_MISSING = object()


def get_path(data: Mapping[str, Any] | None, path: str) -> Any:
    """`a.b.c` inside nested maps; a JSON-text value (nested traits in the graph) is parsed on the way."""
    if "." not in path and (type(data) is dict or isinstance(data, Mapping)):  # the common case: one key
        return data.get(path, _MISSING)
    current: Any = data
    for part in path.split("."):
        if isinstance(current, str) and current[:1] in ("{", "["):
            try:
                current = json.loads(current)
            except json.JSONDecodeError:
                return _MISSING
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


_ORDER: dict[str, Callable[[Any, Any], bool]] = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt,
                                                  "lte": operator.le}


def _number(value: Any) -> float | None:
    kind = type(value)
    if kind is int or kind is float:  # the common case first (bool is neither)
        return float(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def compare(actual: Any, op: str, expected: Any) -> bool:
    """One comparison; a missing value only satisfies `not_exists` (and `neq`)."""
    present = actual is not _MISSING and actual is not None
    if op == "exists":
        return present
    if op == "not_exists":
        return not present
    if op == "neq":
        return not compare(actual, "eq", expected)
    if not present:
        return False
    if op == "eq":
        a, b = _number(actual), _number(expected)
        return a == b if a is not None and b is not None else bool(actual == expected)
    order = _ORDER.get(op)
    if order is not None:
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            if isinstance(actual, str) and isinstance(expected, str):
                return order(actual, expected)
            return False
        return order(a, b)
    if op == "in":
        return isinstance(expected, list) and any(compare(actual, "eq", e) for e in expected)
    if op == "not_in":
        return not compare(actual, "in", expected)
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(expected, str) and expected in actual
        if isinstance(actual, list):
            return any(compare(a, "eq", expected) for a in actual)
        return False
    raise ValueError(f"unknown operator {op!r}")


@dataclass
class EvalContext:
    """What conditions can look at. `count` asks the graph how often the person did something."""

    properties: Mapping[str, Any] | None
    traits: Mapping[str, Any]
    basis_ms: int
    count: Callable[[CountSpec, int], int] = field(default=lambda _spec, _basis: 0)


def matches_properties(conditions: list[PropertyCondition], properties: Mapping[str, Any] | None) -> bool:
    for c in conditions:  # noqa: SIM110 (hot path: a loop is faster than all() over a generator)
        if not compare(get_path(properties, c.property), c.op, c.value):
            return False
    return True


def evaluate(condition: Condition, ctx: EvalContext) -> bool:
    if isinstance(condition, PropertyCondition):
        return compare(get_path(ctx.properties, condition.property), condition.op, condition.value)
    if isinstance(condition, TraitCondition):
        return compare(get_path(ctx.traits, condition.trait), condition.op, condition.value)
    if isinstance(condition, CountCondition):
        return compare(ctx.count(condition.count, ctx.basis_ms), condition.op, condition.value)
    if isinstance(condition, AllOf):
        return all(evaluate(c, ctx) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, ctx) for c in condition.any)
    if isinstance(condition, NotOf):
        return not evaluate(condition.not_, ctx)
    raise TypeError(f"unknown condition {type(condition).__name__}")


def counted_events(node: object) -> set[str]:
    """The event names every count condition inside `node` (a journey definition, a step, ...) counts."""
    if isinstance(node, CountSpec):
        return {node.event}
    if isinstance(node, BaseModel):
        return set().union(*(counted_events(getattr(node, name)) for name in type(node).model_fields))
    if isinstance(node, list | tuple):
        return set().union(*(counted_events(x) for x in node))
    if isinstance(node, dict):
        return set().union(*(counted_events(x) for x in node.values()))
    return set()
