"""Validated Segment events → property maps for graph rows (Segment field names kept)."""

from __future__ import annotations

from typing import Any

import orjson

from app.clock import to_iso
from app.intake.normalize import AnyEvent, epoch_ms
from graph_models.segment import Group, Identify, Page, Screen, Track

# Person properties the system owns; a trait with one of these names is stored as `trait_<name>`.
RESERVED_PERSON_KEYS = frozenset(
    {"personId", "userId", "createdAtMs", "firstSeenAtMs", "lastSeenAtMs", "traitsUpdatedAtMs", "_lock", "_rev",
     "contextTimezone", "contextTimezoneAtMs"}
)
RESERVED_ACCOUNT_KEYS = frozenset({"groupId", "createdAtMs", "traitsUpdatedAtMs", "_lock"})


def to_json(value: Any) -> str:
    """Compact JSON text with sorted keys (stable for diffs and Browser reading)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()


def _storable(value: Any) -> Any:
    """A value Neo4j can hold as a property: primitives and homogeneous primitive lists; else JSON text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and value:
        kinds = {type(v) for v in value}
        if len(kinds) == 1 and kinds <= {str, int, float, bool}:
            return value
    return to_json(value)


def flatten_traits(traits: dict[str, Any], reserved: frozenset[str] = RESERVED_PERSON_KEYS) -> dict[str, Any]:
    """Top-level traits as properties; nested values as JSON text; `null` clears a trait."""
    return {(f"trait_{k}" if k in reserved else k): _storable(v) for k, v in traits.items()}


def event_props(ev: AnyEvent) -> dict[str, Any]:
    """The Event node's properties. Times are ISO strings plus `...Ms` epoch integers for logic."""
    ts = epoch_ms(ev.timestamp)
    props: dict[str, Any] = {
        "messageId": ev.messageId,
        "type": ev.type,
        "userId": ev.userId,
        "anonymousId": ev.anonymousId,
        "timestamp": to_iso(ts),
        "timestampMs": ts,
        "receivedAt": to_iso(epoch_ms(ev.receivedAt)),
        "receivedAtMs": epoch_ms(ev.receivedAt),
        "originalTimestamp": ev.originalTimestamp.isoformat() if ev.originalTimestamp else None,
        "sentAt": ev.sentAt.isoformat() if ev.sentAt else None,
        "context": to_json(ev.context) if ev.context else None,
        "integrations": to_json(ev.integrations) if ev.integrations else None,
    }
    if isinstance(ev, Track):
        props["event"] = ev.event
    if isinstance(ev, Page | Screen):
        props["name"] = ev.name
        props["category"] = ev.category
    if isinstance(ev, Track | Page | Screen) and ev.properties:
        props["properties"] = to_json(ev.properties)
    if isinstance(ev, Identify | Group) and ev.traits:
        props["traits"] = to_json(ev.traits)
    if isinstance(ev, Group):
        props["groupId"] = ev.groupId
    if ev.type == "alias":
        props["previousId"] = getattr(ev, "previousId", None)
    return {k: v for k, v in props.items() if v is not None}
