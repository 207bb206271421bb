"""The measurement relay: publishes pending outbox batches (`MeasurementBatch`) to Kafka and deletes them.

One pass (`relay_once`): find pending batches by shard equality (oldest first), claim them with a lease
(a counter bump before the lease is read, so several relays never claim the same batch at once), publish
every record with acks=all (key = personId), then delete the batches this relay still holds. A relay that
dies after publishing and before deleting leaves its batches to be published again when the lease runs out:
the stream is at-least-once and every record carries a stable `recordId` to drop duplicates by.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.kafka import AckProducer, OutgoingMessage, ensure_topics
from app.measurement.outbox import SHARDS
from app.metrics import MEASUREMENTS

log = logging.getLogger("journeys.measurement")
ALL_SHARDS = list(range(SHARDS))


@dataclass
class RelayStats:
    batches: int = 0
    records: int = 0
    failures: int = 0
    last_error: str = ""


@dataclass
class MeasurementRelay:
    """Publishes the measurement outbox (see the module docstring)."""

    driver: Driver
    database: str
    producer: AckProducer
    topic: str
    clock: Clock = field(default_factory=SystemClock)
    lease_ms: int = 30_000
    limit: int = 200
    relay_id: str = field(default_factory=lambda: f"{socket.gethostname()}/{uuid.uuid4().hex[:8]}")
    stats: RelayStats = field(default_factory=RelayStats)

    def _claim(self) -> list[dict[str, Any]]:
        now = self.clock.now_ms()

        def find(tx: ManagedTransaction) -> list[str]:
            return [r["batchId"] for r in tx.run(query("measurement/relay_pending"), shards=ALL_SHARDS, nowMs=now,
                                                 limit=self.limit)]

        def claim(tx: ManagedTransaction, ids: list[str]) -> list[dict[str, Any]]:
            return tx.run(query("measurement/relay_claim"), ids=ids, relay=self.relay_id, nowMs=now,
                          untilMs=now + self.lease_ms).data()

        with self.driver.session(database=self.database) as session:
            ids = session.execute_read(find)
            return session.execute_write(claim, ids) if ids else []

    def relay_once(self) -> int:
        """Publish what is pending now; the number of records published."""
        claimed = self._claim()
        if not claimed:
            return 0
        messages = [message for b in claimed for message in _messages(self.topic, b["records"])]
        self.producer.send_all_sync(messages)
        ids = [b["batchId"] for b in claimed]
        with self.driver.session(database=self.database) as session:
            session.execute_write(lambda tx: tx.run(query("measurement/relay_delete"), ids=ids,
                                                    relay=self.relay_id).consume())
        self.stats.batches += len(claimed)
        self.stats.records += len(messages)
        MEASUREMENTS.inc(len(messages))
        return len(messages)

    def drain(self, max_passes: int = 1000) -> int:
        """Publish until nothing is pending (tests, `journeys measure relay --once`)."""
        total = 0
        for _ in range(max_passes):
            done = self.relay_once()
            if not done:
                break
            total += done
        return total

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """Relay until `stop` is set; errors are logged and retried next pass (nothing is lost meanwhile)."""
        while not stop.is_set():
            try:
                busy = self.relay_once() > 0
            except Exception as exc:  # keep relaying: a down broker or graph is retried next pass
                self.stats.failures += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("measurement relay pass failed (retried): %s", self.stats.last_error)
                busy = False
            if not busy:
                stop.wait(interval_s)


def _messages(topic: str, raw: str) -> list[OutgoingMessage]:
    records = json.loads(raw)
    out = []
    for r in records if isinstance(records, list) else []:
        key = r.get("personId") or r.get("deliveryId") or r.get("journeyId")
        out.append(OutgoingMessage(
            topic=topic, key=str(key) if key else None,
            value=json.dumps(r, sort_keys=True, separators=(",", ":")).encode(),
            headers=[("schema", str(r.get("schema", ""))), ("kind", str(r.get("kind", ""))),
                     ("recordId", str(r.get("recordId", "")))]))
    return out


def pending(driver: Driver, database: str) -> dict[str, Any]:
    """Pending batches and records in the outbox, and the oldest batch's time."""
    records, _, _ = driver.execute_query(query("measurement/pending_count"), shards=ALL_SHARDS, database_=database)
    row = records[0] if records else None
    return {"batches": int(row["batches"]) if row else 0, "records": int(row["records"]) if row else 0,
            "oldestMs": row["oldestMs"] if row else None}


class RelayThread:
    """A relay on a daemon thread (inside `journeys up`)."""

    def __init__(self, relay: MeasurementRelay, interval_s: float) -> None:
        self.relay = relay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=relay.run, args=(self._stop, interval_s), name="measurement-relay",
                                        daemon=True)

    def start(self) -> RelayThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self.relay.producer.close()


def start_relay(driver: Driver, database: str, bootstrap: str, topic: str, *, partitions: int = 6,
                interval_s: float = 1.0, lease_s: float = 30.0, clock: Clock | None = None) -> RelayThread:
    """Create the topic if needed and start a relay thread (stop it with `.stop()`)."""
    ensure_topics(bootstrap, {topic: partitions})
    relay = MeasurementRelay(driver, database, AckProducer(bootstrap), topic, clock=clock or SystemClock(),
                             lease_ms=int(lease_s * 1000))
    return RelayThread(relay, interval_s).start()
