"""The delivery outbox dispatcher: claim due deliveries with a lease, send them through their channel's adapter,
record every attempt in the graph.

One pass (`dispatch_once`):
1. sweep the minute buckets from the DeliveryCursor to now (`dueBucket`, equality-indexed) for deliveries
   `pending`/`retrying` with `dueAtMs <= now`, locking each with a counter bump inside `execute_write`;
2. hold back (a later `dueAtMs`, never dropped) those whose journey version, channel or adapter is paused
   or whose rate-limit bucket is empty; claim the rest: `claimedBy`, `claimToken` and a lease
   (`claimUntilMs`, which is also the new `dueAtMs`: an unrecorded claim is simply due again later);
3. send outside any transaction (a thread pool), with the delivery's idempotency key;
4. record every attempt as a `DeliveryAttempt` and move the delivery to `sent`, `retrying` (exponential
   back-off with jitter) or `dead` (permanent error or attempts exhausted, with `deadReason`).

A crash between 3 and 4 leaves the lease to expire and the delivery is sent again with the same key:
at-least-once, exactly-once in effect wherever the receiver honours the key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from app.channels.adapter import Adapter, OutboundMessage, SendResult
from app.channels.ratelimit import RateLimiter
from app.clock import Clock
from app.graph.driver import UNAVAILABLE
from app.graph.queries import query
from app.measurement.outbox import attempt_measurements, write_records
from app.metrics import count_deliveries
from app.settings import Settings

log = logging.getLogger("journeys.dispatch")

BUCKET_MS = 60_000
SWEEP_BUCKETS = 240  # buckets per due query
NO_ADAPTER_RECHECK_MS = 60_000


def bucket_of(ms: int) -> int:
    """The minute bucket of an epoch-millisecond time."""
    return ms // BUCKET_MS


def backoff_ms(attempt: int, base_ms: float, max_ms: float, rng: random.Random) -> int:
    """Exponential back-off with equal jitter: half the capped delay fixed, half random (attempt >= 1)."""
    delay = min(max_ms, base_ms * (2 ** max(0, attempt - 1)))
    return int(delay / 2 + rng.uniform(0, delay / 2))


def recipient_of(person_id: str, traits: Mapping[str, Any]) -> dict[str, Any]:
    """The person's traits as read at send time (internal `_`-prefixed properties dropped), and personId."""
    out = {k: v for k, v in traits.items() if not k.startswith("_")}
    out["personId"] = person_id
    return out


@dataclass
class DispatchStats:
    """Counters of one dispatcher (since start)."""

    passes: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    held: int = 0
    expired: int = 0
    lost_claims: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Claimed:
    row: Mapping[str, Any]
    adapter: Adapter


@dataclass
class _Pauses:
    channels: set[str]
    adapters: set[str]
    versions: set[str]


class Dispatcher:
    """Sends due deliveries; several may run at once against one graph (leases and locks keep sends single)."""

    def __init__(self, driver: Driver, database: str, adapters: Mapping[str, Adapter], clock: Clock,
                 settings: Settings, *, name: str | None = None, rng: random.Random | None = None) -> None:
        self.driver = driver
        self.database = database
        self.adapters = dict(adapters)
        self.clock = clock
        self.settings = settings
        self.name = name or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self.rng = rng or random.Random()
        self.limiter = RateLimiter(settings.rate_limits)
        self.stats = DispatchStats()
        self._pool = ThreadPoolExecutor(max_workers=settings.dispatch_workers, thread_name_prefix="dispatch-send")
        self.lease_ms = int(settings.dispatch_lease_s * 1000)
        self.lookback = settings.dispatch_lookback_min
        self.pause_recheck_ms = int(settings.dispatch_pause_recheck_s * 1000)

    # -- loop ------------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Dispatch until `stop` is set: passes back to back while work is found, else every interval."""
        while not stop.is_set():
            try:
                done = self.dispatch_once(self.clock.now_ms())
            except UNAVAILABLE as exc:
                log.warning("dispatcher %s: graph unavailable (%s); retrying", self.name, type(exc).__name__)
                done = 0
            except Exception:  # a bad pass must not stop delivery for good
                log.exception("dispatcher %s: pass failed", self.name)
                done = 0
            if not done:
                stop.wait(self.settings.dispatch_interval_s)

    def close(self) -> None:
        """Stop the send pool (the adapters belong to the caller)."""
        self._pool.shutdown(wait=True)

    # -- one pass --------------------------------------------------------------------------------
    def dispatch_once(self, now: int | None = None) -> int:
        """One pass at `now`: claim up to a batch of due deliveries, send, record. Returns the attempts made
        plus the deliveries held back or expired (0: nothing was due)."""
        now = self.clock.now_ms() if now is None else now
        self.stats.passes += 1
        last = bucket_of(now)
        target = last - self.lookback
        sweep_id = uuid.uuid4().hex
        cursor = self._begin_sweep(sweep_id, target)
        limit = self.settings.dispatch_batch_size
        pauses = self._pauses()
        claimed: list[_Claimed] = []
        touched = 0
        stop_at: int | None = None
        for first in range(cursor, last + 1, SWEEP_BUCKETS):
            buckets = list(range(first, min(first + SWEEP_BUCKETS, last + 1)))
            with self.driver.session(database=self.database) as session:
                expired = session.execute_write(self._expire, buckets, now)
                seen, got = session.execute_write(self._claim, buckets, now, limit - touched, pauses)
            self.stats.expired += expired
            touched += seen + expired
            claimed.extend(got)
            if touched >= limit:
                stop_at = first
                break
        self._advance(sweep_id, target if stop_at is None else min(stop_at, target))
        if claimed:
            self._send_and_record(claimed, now)
        return touched

    # -- cursor ----------------------------------------------------------------------------------
    def _begin_sweep(self, sweep_id: str, target: int) -> int:
        for _ in range(3):
            rows = self.driver.execute_query(query("channels/cursor_begin_sweep"), sweepId=sweep_id, target=target,
                                             database_=self.database).records
            if rows:
                return int(rows[0]["bucket"])
            self._create_cursor(target)
        raise RuntimeError("the delivery cursor could not be created")

    def _create_cursor(self, target: int) -> None:
        rows = self.driver.execute_query(query("channels/cursor_scan_lowest"), database_=self.database).records
        lowest = rows[0]["bucket"] if rows else None
        start = target if lowest is None else min(int(lowest), target)
        with contextlib.suppress(ConstraintError):  # another dispatcher created it first
            self.driver.execute_query(query("channels/cursor_create"), bucket=start, database_=self.database)

    def _advance(self, sweep_id: str, bucket: int) -> None:
        self.driver.execute_query(query("channels/cursor_advance"), sweepId=sweep_id, bucket=bucket,
                                  database_=self.database)

    # -- kill switches ---------------------------------------------------------------------------
    def _pauses(self) -> _Pauses:
        with self.driver.session(database=self.database) as session:
            return session.execute_read(self._read_pauses)

    @staticmethod
    def _read_pauses(tx: ManagedTransaction) -> _Pauses:
        row = tx.run(query("channels/pause_state")).single()
        versions = {r["key"] for r in tx.run(query("journeys/engine_versions")) if r["status"] == "paused"}
        return _Pauses(set(row["channels"]) if row else set(), set(row["adapters"]) if row else set(), versions)

    # -- claim -----------------------------------------------------------------------------------
    def _expire(self, tx: ManagedTransaction, buckets: list[int], now: int) -> int:
        row = tx.run(query("channels/expire"), buckets=buckets, nowMs=now).single()
        return int(row["expired"]) if row else 0

    def _claim(self, tx: ManagedTransaction, buckets: list[int], now: int, limit: int,
               pauses: _Pauses) -> tuple[int, list[_Claimed]]:
        """Lock due deliveries, hold back the paused and rate-limited ones, claim the rest (one transaction)."""
        due = list(tx.run(query("channels/due"), buckets=buckets, nowMs=now, limit=max(1, limit)))
        holds: list[dict[str, Any]] = []
        ids: list[str] = []
        for r in due:
            channel = str(r["channel"])
            adapter = self.adapters.get(channel)
            reason: str | None = None
            until = now + self.pause_recheck_ms
            if f"{r['journeyId']}@{r['version']}" in pauses.versions:
                reason = "journey_paused"
            elif channel in pauses.channels:
                reason = "channel_paused"
            elif adapter is None:
                reason, until = "no_adapter", now + NO_ADAPTER_RECHECK_MS
            elif adapter.name in pauses.adapters:
                reason = "adapter_paused"
            else:
                wait = self.limiter.acquire(channel, adapter.name, now)
                if wait:
                    reason, until = "rate_limited", now + wait
            if reason is None:
                ids.append(str(r["deliveryId"]))
            else:
                holds.append({"deliveryId": r["deliveryId"], "dueAtMs": until, "dueBucket": bucket_of(until),
                              "reason": reason})
        if holds:
            tx.run(query("channels/hold"), rows=holds, nowMs=now).consume()
        claimed: list[_Claimed] = []
        if ids:
            until = now + self.lease_ms
            for row in tx.run(query("channels/claim"), ids=ids, nowMs=now, claimedBy=self.name, untilMs=until,
                              untilBucket=bucket_of(until)):
                claimed.append(_Claimed(row.data(), self.adapters[str(row["channel"])]))
        self.stats.held += len(holds)
        return len(due), claimed

    # -- send and record -------------------------------------------------------------------------
    def _send_and_record(self, claimed: Sequence[_Claimed], now: int) -> None:
        self.stats.claimed += len(claimed)
        futures = [self._pool.submit(self._send, c) for c in claimed]
        results = [f.result() for f in futures]  # a BaseException (a kill) propagates: nothing is recorded
        rows: list[dict[str, Any]] = []
        for c, (result, latency_ms, sent_at) in zip(claimed, results, strict=True):
            rows.append(self._record_row(c, result, latency_ms, max(now, sent_at)))
        with self.driver.session(database=self.database) as session:
            recorded = session.execute_write(self._record, rows, [c.row for c in claimed])
        count_deliveries((c.row for c in claimed), recorded)
        self.stats.lost_claims += len(rows) - len(recorded)
        for status in recorded.values():
            self.stats.by_outcome[status] = self.stats.by_outcome.get(status, 0) + 1
        self.stats.sent += sum(1 for s in recorded.values() if s == "sent")
        self.stats.retrying += sum(1 for s in recorded.values() if s == "retrying")
        self.stats.dead += sum(1 for s in recorded.values() if s == "dead")

    def _send(self, c: _Claimed) -> tuple[SendResult, int, int]:
        r = c.row
        payload_text = r.get("payload")
        payload = json.loads(payload_text) if isinstance(payload_text, str) and payload_text else {}
        message = OutboundMessage(
            delivery_id=str(r["deliveryId"]), idempotency_key=str(r.get("idempotencyKey") or r["deliveryId"]),
            channel=str(r["channel"]), template=str(r.get("template") or ""), payload=payload,
            recipient=recipient_of(str(r.get("personId") or ""), r.get("traits") or {}))
        started = time.perf_counter()
        try:
            result = c.adapter.send(message)
        except Exception as exc:  # adapters should not raise for delivery errors; if one does, retry later
            log.exception("adapter %s raised for delivery %s", c.adapter.name, message.delivery_id)
            result = SendResult("retryable", error=f"{type(exc).__name__}: {exc}"[:500])
        latency_ms = int((time.perf_counter() - started) * 1000)
        return result, latency_ms, self.clock.now_ms()

    def _record_row(self, c: _Claimed, result: SendResult, latency_ms: int, at_ms: int) -> dict[str, Any]:
        r = c.row
        n = int(r.get("attempts") or 0) + 1
        props: dict[str, Any] = {"attempts": n, "lastAttemptAtMs": at_ms, "lastError": result.error or None,
                                 "lastStatusCode": result.status_code, "adapter": c.adapter.name}
        max_attempts = self.settings.dispatch_max_attempts
        if result.outcome == "sent":
            props.update(status="sent", sentAtMs=at_ms, providerId=result.provider_id, dueAtMs=None, dueBucket=None)
        elif result.outcome == "held":  # the adapter keeps it for pickup (in_app)
            expires = r.get("expiresAtMs")
            props.update(status="held", dueAtMs=None, dueBucket=bucket_of(int(expires)) if expires else None)
        elif result.outcome == "retryable" and n < max_attempts:
            wait = backoff_ms(n, self.settings.dispatch_backoff_base_s * 1000,
                              self.settings.dispatch_backoff_max_s * 1000, self.rng)
            if result.retry_after_s:  # the provider asked for at least this long
                wait = max(wait, int(result.retry_after_s * 1000))
            due = at_ms + wait
            props.update(status="retrying", dueAtMs=due, dueBucket=bucket_of(due))
        else:
            reason = (f"permanent error: {result.error or result.status_code}" if result.outcome == "permanent"
                      else f"retries exhausted after {n} attempts: {result.error or result.status_code}")
            props.update(status="dead", deadReason=reason[:1000], deadAtMs=at_ms, dueAtMs=None, dueBucket=None)
        return {"deliveryId": r["deliveryId"], "claimToken": r["claimToken"], "props": props, "attempt": {
            "attemptId": uuid.uuid4().hex, "n": n, "atMs": at_ms, "adapter": c.adapter.name,
            "statusCode": result.status_code, "error": result.error or None, "latencyMs": latency_ms,
            "outcome": result.outcome, "providerId": result.provider_id, "dispatcher": self.name}}

    @staticmethod
    def _record(tx: ManagedTransaction, rows: list[dict[str, Any]], deliveries: Sequence[Mapping[str, Any]] = ()
                ) -> dict[str, str]:
        recorded = {str(r["deliveryId"]): str(r["status"]) for r in tx.run(query("channels/record"), rows=rows)}
        if deliveries:  # the measurement outbox, in the same transaction
            write_records(tx, attempt_measurements(deliveries, rows, recorded),
                          max(int(r["attempt"]["atMs"]) for r in rows))
        dead = sorted(d for d, s in recorded.items() if s == "dead")
        if dead:
            tx.run(query("channels/dead_link"), ids=dead).consume()
        return recorded


def start_dispatcher(dispatcher: Dispatcher, stop: threading.Event,
                     on_exit: Callable[[], None] | None = None) -> threading.Thread:
    """Run `dispatcher` in a daemon thread until `stop` is set."""

    def target() -> None:
        try:
            dispatcher.run(stop)
        finally:
            if on_exit is not None:
                on_exit()

    thread = threading.Thread(target=target, name=f"journeys-{dispatcher.name}", daemon=True)
    thread.start()
    return thread
