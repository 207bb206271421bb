"""Consent from ingested events, as pure logic: which CONSENT edges one batch writes.

Rules (documented in cypher/README.md, "Consent, suppression and time zone"):
- **identify traits** named in `mapping.traits`: a true value sets the rule's `on_true` status on its
  channel, a false value its `on_false` status; a status the rule leaves unset means "no change" (so
  `unsubscribed: false` changes nothing by default). True/false are booleans, the strings
  `true`/`false`/`yes`/`no` (any case) or the numbers 1/0; any other value (null included) changes
  nothing. Source `trait:<name>`. `marketingOnly` is the rule's `marketing_only` on an opt-out, false on
  an opt-in.
- **track events** `mapping.subscribe_event` (opted_in) and `mapping.unsubscribe_event` (opted_out):
  the channels are the property `channel` (a string) or `channels` (a list of strings); neither means
  every channel. Unknown channel names are ignored; an event that names only unknown channels changes
  nothing (it never falls back to "every channel"). An optional boolean property `marketingOnly` marks
  an opt-out of marketing only. Source `event:<name>`.
- Per person and channel the row with the latest time wins within the batch; at equal times an opt-out
  beats an opt-in, and otherwise the later event in batch order (timestamp, messageId) wins. The
  writer (`decisions/write_consent`) then replaces the stored edge only when the row's `atMs` is at
  least the stored one, so events arriving out of order across batches keep the latest state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.intake.normalize import AnyEvent
from graph_models.constraints import ConsentMapping, ConsentStatus
from graph_models.journey import CHANNELS
from graph_models.segment import Identify, Track

_TRUE = frozenset({"true", "yes"})
_FALSE = frozenset({"false", "no"})


def truth(value: Any) -> bool | None:
    """A trait value read as true/false, or None when it says neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def event_channels(properties: Mapping[str, Any]) -> list[str]:
    """The channels a (un)subscribe event names: `channel`, else `channels`, else every channel."""
    if "channel" in properties and properties["channel"] is not None:
        named: list[Any] = [properties["channel"]]
    elif "channels" in properties and properties["channels"] is not None:
        raw = properties["channels"]
        named = list(raw) if isinstance(raw, list) else [raw]
    else:
        return list(CHANNELS)
    found: list[str] = []
    for c in named:
        if isinstance(c, str) and c.strip().lower() in CHANNELS and c.strip().lower() not in found:
            found.append(c.strip().lower())
    return found


def _row(person_id: str, channel: str, status: ConsentStatus, source: str, at_ms: int, marketing_only: bool,
         message_id: str) -> dict[str, Any]:
    return {"personId": person_id, "channelId": channel, "status": status, "source": source, "atMs": at_ms,
            "marketingOnly": marketing_only and status == "opted_out", "messageId": message_id}


def event_consent(ev: AnyEvent, person_id: str, at_ms: int, mapping: ConsentMapping) -> list[dict[str, Any]]:
    """The consent rows one event implies (in the order they appear in the event)."""
    out: list[dict[str, Any]] = []
    if isinstance(ev, Identify):
        for name, rule in mapping.traits.items():
            if name not in ev.traits:
                continue
            flag = truth(ev.traits[name])
            status = None if flag is None else (rule.on_true if flag else rule.on_false)
            if status is not None:
                out.append(_row(person_id, rule.channel, status, f"trait:{name}", at_ms, rule.marketing_only,
                                ev.messageId))
    elif isinstance(ev, Track) and ev.event in (mapping.subscribe_event, mapping.unsubscribe_event):
        status_of: ConsentStatus = "opted_in" if ev.event == mapping.subscribe_event else "opted_out"
        marketing_only = truth(ev.properties.get("marketingOnly")) is True
        for channel in event_channels(ev.properties):
            out.append(_row(person_id, channel, status_of, f"event:{ev.event}", at_ms, marketing_only,
                            ev.messageId))
    return out


def _wins(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    if new["atMs"] != old["atMs"]:
        return bool(new["atMs"] > old["atMs"])
    return not (old["status"] == "opted_out" and new["status"] == "opted_in")


def consent_rows(events: Sequence[tuple[AnyEvent, str, int]], mapping: ConsentMapping) -> list[dict[str, Any]]:
    """Rows for `decisions/write_consent`: one per (person, channel), the batch's latest consent.

    `events` are (event, the personId it was written to, its timestampMs), in batch order. Rows are
    `{personId, channelId, status, source, atMs, marketingOnly, messageId}`, sorted by person and channel.
    """
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for ev, person_id, at_ms in events:
        for row in event_consent(ev, person_id, at_ms, mapping):
            key = (person_id, row["channelId"])
            old = latest.get(key)
            if old is None or _wins(row, old):
                latest[key] = row
    return [latest[k] for k in sorted(latest)]
