"""Token buckets per channel and per adapter, per second and per minute (pure logic, injected time).

A delivery that finds no token is not dropped: the dispatcher gives it a later `dueAtMs` (the time the
bucket will hold a token again) and leaves it pending.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

_PERIOD_MS = {"s": 1000, "m": 60_000}


def parse_rate_limits(text: str) -> dict[str, float]:
    """`channel:email=10/s,adapter:webhook=300/m` -> {'channel:email/s': 10.0, 'adapter:webhook/m': 300.0}."""
    out: dict[str, float] = {}
    for item in (x.strip() for x in text.split(",") if x.strip()):
        scope, eq, rate = item.partition("=")
        kind, colon, name = scope.strip().partition(":")
        count, slash, unit = rate.strip().partition("/")
        if not eq or not colon or not slash or kind not in ("channel", "adapter") or not name or unit not in _PERIOD_MS:
            raise ValueError(f"JOURNEYS_RATE_LIMITS: {item!r} is not channel:<id>=<n>/s|m or adapter:<name>=<n>/s|m")
        value = float(count)
        if value <= 0:
            raise ValueError(f"JOURNEYS_RATE_LIMITS: {item!r} needs a positive rate")
        out[f"{kind}:{name}/{unit}"] = value
    return out


@dataclass
class TokenBucket:
    """`capacity` tokens refilled evenly over `period_ms`."""

    capacity: float
    period_ms: int
    tokens: float
    updated_ms: int

    def _refill(self, now_ms: int) -> None:
        if now_ms > self.updated_ms:
            rate = self.capacity / self.period_ms
            self.tokens = min(self.capacity, self.tokens + (now_ms - self.updated_ms) * rate)
            self.updated_ms = now_ms

    def wait_ms(self, now_ms: int) -> int:
        """Milliseconds until one token is available (0: now)."""
        self._refill(now_ms)
        if self.tokens >= 1:
            return 0
        return int((1 - self.tokens) * self.period_ms / self.capacity) + 1

    def take(self, now_ms: int) -> None:
        self._refill(now_ms)
        self.tokens -= 1


class RateLimiter:
    """All buckets of one dispatcher; `acquire` takes one token from every bucket of a (channel, adapter)."""

    def __init__(self, limits: dict[str, float]) -> None:
        self._limits = dict(limits)
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: str, now_ms: int) -> TokenBucket | None:
        rate = self._limits.get(key)
        if rate is None:
            return None
        bucket = self._buckets.get(key)
        if bucket is None:
            period = _PERIOD_MS[key.rsplit("/", 1)[1]]
            bucket = self._buckets[key] = TokenBucket(rate, period, rate, now_ms)
        return bucket

    def acquire(self, channel: str, adapter: str, now_ms: int) -> int:
        """Take a token from each applicable bucket and return 0, or take none and return the wait in ms."""
        keys = [f"channel:{channel}/s", f"channel:{channel}/m", f"adapter:{adapter}/s", f"adapter:{adapter}/m"]
        with self._lock:
            buckets = [b for b in (self._bucket(k, now_ms) for k in keys) if b is not None]
            wait = max((b.wait_ms(now_ms) for b in buckets), default=0)
            if wait:
                return wait
            for b in buckets:
                b.take(now_ms)
            return 0

    @property
    def enabled(self) -> bool:
        return bool(self._limits)
