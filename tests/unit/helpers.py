"""Shared builders for unit tests (pure data; no servers)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from app.clock import to_iso
from app.intake.identity import IdentityInput
from app.intake.normalize import AnyEvent, prepare, validate

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MINUTE_MS = 60_000
GAP_MS = 30 * MINUTE_MS


def iso(ms: int) -> str:
    return to_iso(ms)


def utc(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)


def counter(prefix: str) -> Callable[..., str]:
    """A deterministic id factory: prefix1, prefix2, ... (the seed the code passes is ignored)."""
    numbers = itertools.count(1)
    return lambda *_seed: f"{prefix}{next(numbers)}"


def raw(type_: str, *, ts_ms: int | None = T0_MS, **fields: Any) -> dict[str, Any]:
    """A raw Segment payload of `type_`; `ts_ms=None` leaves the timestamp out."""
    data: dict[str, Any] = {"type": type_, **fields}
    if ts_ms is not None:
        data.setdefault("timestamp", iso(ts_ms))
    return data


def event(
    type_: str,
    *,
    ts_ms: int | None = T0_MS,
    received_at_ms: int = T0_MS,
    message_id: str = "m-default",
    **fields: Any,
) -> AnyEvent:
    """A validated event, built the way the HTTP path builds it."""
    prepared = prepare(
        raw(type_, ts_ms=ts_ms, **fields), received_at_ms=received_at_ms, default_message_id=message_id
    )
    return validate(prepared)


def ident(
    type_: str,
    *,
    user: str | None = None,
    anon: str | None = None,
    prev: str | None = None,
    ts: int = 0,
    mid: str | None = None,
) -> IdentityInput:
    return IdentityInput(
        type=type_,
        user_id=user,
        anonymous_id=anon,
        previous_id=prev,
        timestamp_ms=ts,
        message_id=mid or f"{type_}-{user}-{anon}-{prev}-{ts}",
    )
