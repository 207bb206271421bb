"""Injected time, so a three-day wait is tested in milliseconds."""

from __future__ import annotations

import datetime as dt
import threading
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


def to_iso(ms: int) -> str:
    """Epoch milliseconds as an ISO-8601 UTC string with millisecond precision."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
