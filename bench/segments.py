"""Segments benchmark: batch evaluation people/s beside a bare Cypher count of the same condition, and the
ingest pipeline's rate with 20 streaming segments published against none, in one run.

    PYTHONPATH=. .venv/bin/python -m bench.segments --people 200000 --events 2000000

Goals (issue 10): batch evaluation at least 20,000 people/s; streaming segments cost at most 20% of ingest
throughput (rate with / rate without >= 0.8). The people and events for the batch are seeded with direct
`UNWIND` writes (`cypher/segments/bench_seed_*.cypher`), not through Kafka.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from typing import Any

from neo4j import Driver

from app.clock import FakeClock
from app.graph.queries import query
from app.graph.schema import apply_schema
from app.runtime import connect
from app.segments.batch import SegmentEvaluator
from app.segments.definitions import validate_segment
from app.segments.store import SegmentStore
from bench.common import BASE_MS, bench_settings, clear_graph, synthetic_events
from bench.ingest import run_pipeline
from bench.results import record
from graph_models.principal import Principal

DAY_MS = 86_400_000
NOW_MS = BASE_MS + 14 * DAY_MS  # the batch evaluation's "now": events span the 14 days before it
AUTHOR = Principal(name="bench", role="author")
APPROVER = Principal(name="bench-approver", role="approver")
EVENTS = ("Product Viewed", "Added To Cart", "Order Completed")
BATCH: dict[str, Any] = {  # the batch segment; bench_count.cypher counts the same condition
    "id": "bench-viewers", "name": "Pro users who viewed products 3+ times this week",
    "condition": {"all": [{"trait": "plan", "op": "eq", "value": "pro"},
                          {"count": {"event": "Product Viewed", "within": "7d"}, "op": "gte", "value": 3}]},
}


def streaming_segments(n: int) -> list[dict[str, Any]]:
    """`n` segments over what bench.common.synthetic_events sends: traits, counts, recency, accounts."""
    shapes: list[dict[str, Any]] = [
        {"trait": "plan", "op": "eq", "value": "pro"},
        {"count": {"event": "Product Viewed", "within": "7d"}, "op": "gte", "value": 3},
        {"recency": {"event": "Order Completed"}, "within": "30d"},
        {"all": [{"trait": "plan", "op": "eq", "value": "free"},
                 {"count": {"event": "Added To Cart", "within": "1d"}, "op": "gte", "value": 1}]},
        {"account": {"traits": [{"trait": "name", "op": "exists"}]}},
        {"any": [{"count": {"event": "page", "within": "2d"}, "op": "gte", "value": 5},
                 {"not": {"recency": {"event": "Product Viewed"}, "within": "3d"}}]},
    ]
    return [{"id": f"live-{i}", "name": f"Live {i}", "condition": shapes[i % len(shapes)]} for i in range(n)]


def publish(driver: Driver, database: str, data: dict[str, Any]) -> None:
    store = SegmentStore(driver, database)
    info = store.push(validate_segment(data), AUTHOR)
    store.submit(info.segmentId, info.version, AUTHOR)
    store.approve(info.segmentId, info.version, APPROVER)
    store.publish(info.segmentId, info.version, APPROVER)


def _write(driver: Driver, database: str, name: str, rows: list[dict[str, Any]]) -> None:
    driver.execute_query(query(name), rows=rows, database_=database)


def seed(driver: Driver, database: str, people: int, events: int, chunk: int = 5000, seed_: int = 11) -> float:
    """People (half on pro) and `events` track events spread over 14 days; returns seconds taken."""
    rng = random.Random(seed_)
    t0 = time.perf_counter()
    for start in range(0, people, chunk):
        _write(driver, database, "segments/bench_seed_people", [
            {"personId": f"bp-{i:07d}", "userId": f"bu-{i}", "plan": "pro" if i % 2 else "free"}
            for i in range(start, min(start + chunk, people))])
    for start in range(0, events, chunk):
        _write(driver, database, "segments/bench_seed_events", [
            {"personId": f"bp-{rng.randrange(people):07d}", "messageId": f"be-{i}",
             "event": EVENTS[0] if rng.random() < 0.6 else rng.choice(EVENTS[1:]),
             "t": BASE_MS + rng.randrange(14 * DAY_MS)} for i in range(start, min(start + chunk, events))])
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--page", type=int, default=2000, help="batch evaluation page size")
    parser.add_argument("--ingest-events", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=5_000, help="people in the ingest stream")
    parser.add_argument("--segments", type=int, default=20, help="streaming segments live")
    parser.add_argument("--no-record", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)

    with bench_settings() as settings:
        settings = settings.model_copy(update={"consumer_batch_size": 1000})
        database = settings.neo4j_database
        driver = connect(settings, settings.neo4j_uri or "")
        apply_schema(driver, database)

        # 1. Ingest with no segments and with `--segments` streaming segments (a warm-up pass first).
        stream = synthetic_events(args.ingest_events, args.users)
        run_pipeline(settings, driver, stream, "warmup")
        clear_graph(driver, database)
        none_rate, _ = run_pipeline(settings, driver, stream, "none")
        clear_graph(driver, database)
        for data in streaming_segments(args.segments):
            publish(driver, database, data)
        live_rate, _ = run_pipeline(settings, driver, stream, "live")
        store = SegmentStore(driver, database)
        memberships = sum(store.size(s["id"]) for s in streaming_segments(args.segments))
        clear_graph(driver, database)

        # 2. Batch: seed, publish the segment, evaluate everyone; then the bare count of the same condition.
        seed_s = seed(driver, database, args.people, args.events)
        publish(driver, database, BATCH)
        evaluator = SegmentEvaluator(driver, database, clock=FakeClock(NOW_MS), page=args.page)
        t0 = time.perf_counter()
        info = evaluator.evaluate(BATCH["id"], resume=False)
        batch_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        records, _, _ = driver.execute_query(query("segments/bench_count"), plan="pro", event="Product Viewed",
                                             fromMs=NOW_MS - 7 * DAY_MS, min=3, database_=database)
        bare_s = time.perf_counter() - t0
        driver.close()

    bare_size = records[0]["size"]
    batch_rate, bare_rate = info.scanned / batch_s, args.people / bare_s
    ingest_ratio = live_rate / none_rate
    print(f"people={args.people} events={args.events} page={args.page} seeded in {seed_s:.0f} s")
    print(f"batch evaluation: {info.scanned} people, {info.entered} entered in {batch_s:.1f} s: "
          f"{batch_rate:,.0f} people/s (goal >= 20,000: {batch_rate / 20_000:.2f} of it)")
    agree = "agree" if bare_size == info.entered else "DIFFER"
    print(f"bare Cypher count of the same condition: size {bare_size} in {bare_s:.1f} s: {bare_rate:,.0f} people/s "
          f"(evaluator / bare: {batch_rate / bare_rate:.2f}); sizes {agree}")
    print(f"ingest {args.ingest_events} events: {none_rate:,.0f} events/s with no segments, {live_rate:,.0f} with "
          f"{args.segments} streaming segments ({memberships} memberships): ratio {ingest_ratio:.2f} (goal >= 0.80)")
    if not args.no_record:
        record("Segments", [
            ("people / events / page (batch); ingest events / users", f"{args.people} / {args.events} / {args.page}; "
                                                                      f"{args.ingest_events} / {args.users}"),
            ("batch evaluation people/s (goal >= 20,000)", f"{batch_rate:,.0f} ({batch_rate / 20_000:.2f} of goal)"),
            ("bare Cypher count of the same condition, people/s", f"{bare_rate:,.0f}"),
            ("segment size: evaluator / bare count", f"{info.entered} / {bare_size}"),
            ("ingest events/s, no segments", f"{none_rate:,.0f}"),
            (f"ingest events/s, {args.segments} streaming segments", f"{live_rate:,.0f}"),
            ("ratio with / without (goal >= 0.80)", f"{ingest_ratio:.2f}"),
        ])


if __name__ == "__main__":
    main()
