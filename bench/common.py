"""Shared benchmark plumbing: servers (embedded unless NEO4J_URI/KAFKA_BOOTSTRAP), synthetic events."""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from app.embedded import free_port
from app.kafka import AckProducer, OutgoingMessage, ensure_topics
from app.runtime import tune_gc_for_batches
from app.settings import Settings
from tests.servers import test_servers

BASE_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z


def _exit_on_sigterm() -> None:
    """SIGTERM unwinds (SystemExit) so the servers started below are stopped, not orphaned."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextmanager
def bench_settings(partitions: int = 3) -> Iterator[Settings]:
    _exit_on_sigterm()
    if os.environ.get("BENCH_DEFAULT_GC") != "1":  # BENCH_DEFAULT_GC=1: CPython's defaults, for an A/B run
        tune_gc_for_batches()  # as `journeys up` / `consume` run the consumer
    with tempfile.TemporaryDirectory(prefix="journeys-bench-") as tmp, test_servers(Path(tmp)) as found:
        settings = Settings(
            neo4j_uri=found.bolt_uri, neo4j_user=found.user, neo4j_password=found.password,
            kafka_bootstrap=found.bootstrap, JOURNEYS_DATA_DIR=Path(tmp), JOURNEYS_TOPIC_PARTITIONS=partitions,
            JOURNEYS_SESSION_TIMEOUT_MS=2000, JOURNEYS_HEARTBEAT_MS=300,
            JOURNEYS_EVENTS_TOPIC=f"bench.events.{free_port()}", JOURNEYS_DLQ_TOPIC=f"bench.dlq.{free_port()}",
        )
        ensure_topics(found.bootstrap, {settings.events_topic: partitions, settings.dlq_topic: 1})
        yield settings


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def synthetic_events(n: int, users: int = 10_000, seed: int = 7) -> list[dict[str, Any]]:
    """Mixed Segment calls from ~`users` people: anonymous browsing, identifies, tracks, groups, aliases."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    clock = [BASE_MS + rng.randrange(0, 3_600_000) for _ in range(users)]
    for i in range(n):
        u = rng.randrange(users)
        clock[u] += rng.choice((20_000, 60_000, 300_000, 2_400_000))
        ids: dict[str, Any] = {"anonymousId": f"anon-{u}"} if u % 3 == 0 else {"userId": f"user-{u}"}
        roll = rng.random()
        base = {"messageId": f"bench-{i}", "timestamp": iso(clock[u]), **ids,
                "context": {"library": {"name": "bench"}}}
        if roll < 0.55:
            ev = {"type": "track", "event": rng.choice(("Product Viewed", "Added To Cart", "Order Completed")),
                  "properties": {"sku": f"sku-{rng.randrange(500)}", "price": rng.randrange(5, 500)}}
        elif roll < 0.75:
            ev = {"type": "page", "name": rng.choice(("Home", "Pricing", "Docs")), "properties": {"path": "/"}}
        elif roll < 0.80:
            ev = {"type": "screen", "name": "Feed"}
        elif roll < 0.93:
            ev = {"type": "identify", "userId": f"user-{u}", "traits": {"plan": rng.choice(("free", "pro")),
                                                                        "email": f"u{u}@example.com"}}
        elif roll < 0.98:
            ev = {"type": "group", "userId": f"user-{u}", "groupId": f"acct-{u % 700}",
                  "traits": {"name": f"Account {u % 700}"}}
        else:
            ev = {"type": "alias", "userId": f"user-{u}", "previousId": f"anon-{u}"}
        out.append({**base, **ev})
    return out


def produce(settings: Settings, events: list[dict[str, Any]]) -> None:
    producer = AckProducer(settings.kafka_bootstrap or "", extra={"linger.ms": 20})
    try:
        for start in range(0, len(events), 5000):
            chunk = events[start:start + 5000]
            producer.send_all_sync([
                OutgoingMessage(settings.events_topic, e.get("userId") or e.get("anonymousId"),
                                json.dumps(e).encode(), []) for e in chunk
            ], timeout=60)
    finally:
        producer.close()


def clear_graph(driver: Any, database: str) -> None:
    while True:
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:SchemaMigration WITH n LIMIT 20000 "
            "DETACH DELETE n RETURN count(*) AS c", database_=database)
        if not records or records[0]["c"] == 0:
            return


_WRITE_WORDS = ("MERGE ", "CREATE ", "SET ", "DELETE ", "REMOVE ")


@cache
def _pure_write(cypher: str) -> bool:
    """A write statement with no `RETURN` (classified once per query text: the recording is the benchmark's
    own overhead inside the measured run, so it is kept small)."""
    upper = "\n".join(line for line in cypher.upper().splitlines() if not line.lstrip().startswith("//"))
    return "RETURN " not in upper and any(w in upper for w in _WRITE_WORDS)


class RecordingTx:
    """A transaction wrapper that keeps every pure write statement run through it (no `RETURN`), so a
    benchmark can replay exactly those rows later as bare transactions (the raw ceiling)."""

    def __init__(self, tx: Any) -> None:
        self.tx = tx
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def run(self, cypher: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        params = {**(parameters or {}), **kwargs}
        if _pure_write(cypher):
            self.writes.append((cypher, params))
        return self.tx.run(cypher, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tx, name)


def replay(tx: Any, statements: list[tuple[str, dict[str, Any]]]) -> None:
    """Run recorded write statements again (one transaction)."""
    for cypher, params in statements:
        tx.run(cypher, params).consume()
