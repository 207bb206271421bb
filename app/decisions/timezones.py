"""A person's time zone: the `timezone` trait, else the latest event's `context.timezone`, else a default."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_ZONE_LENGTH = 64


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_or_none(value: Any) -> ZoneInfo | None:
    """The IANA zone `value` names ('Europe/Paris'), or None for anything else (non-strings, bad names)."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    if not name or len(name) > MAX_ZONE_LENGTH or name.startswith(("/", ".")) or ".." in name:
        return None
    return _zone(name)


def context_timezone(context: Mapping[str, Any]) -> str | None:
    """An event's `context.timezone` when it names a real zone (stripped), else None."""
    value = context.get("timezone")
    return value.strip() if zone_or_none(value) is not None and isinstance(value, str) else None


def person_timezone(traits: Mapping[str, Any], default: str) -> ZoneInfo:
    """The zone for a person's properties: a valid `timezone` trait, else a valid `contextTimezone`
    (written by ingest), else `default` (UTC when that is invalid too). Invalid names fall through."""
    for value in (traits.get("timezone"), traits.get("contextTimezone"), default):
        zone = zone_or_none(value)
        if zone is not None:
            return zone
    return ZoneInfo("UTC")
