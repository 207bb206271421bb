"""Injected time, so a three-day wait is tested in milliseconds."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time in epoch milliseconds."""

    def now_ms(self) -> int:
        return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> int:
        delta = ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000
        with self._lock:
            self._now += int(delta)
            return self._now


_MINUTES: dict[int, str] = {}  # epoch minute -> 'YYYY-MM-DDTHH:MM:' (ingest formats thousands per batch)
_FAST_UNTIL_MS = 4_000_000_000_000  # year 2096: below it the float path below gives exactly these digits


def to_iso(ms: int) -> str:
    """Epoch milliseconds as an ISO-8601 UTC string with millisecond precision (`2026-03-01T10:00:00.000Z`)."""
    minute, rest = divmod(ms, 60_000)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if not 0 <= ms < _FAST_UNTIL_MS:
            return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z")
        t = time.gmtime(minute * 60)
        prefix = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
        if len(_MINUTES) >= 4096:
            _MINUTES.clear()
        _MINUTES[minute] = prefix
    seconds, millis = divmod(rest, 1000)
    return f"{prefix}{seconds:02d}.{millis:03d}Z"
