"""Ingest benchmark: Kafka → consumer → graph events/s vs the raw UNWIND ceiling, measured in one run.

The raw ceiling writes *the same rows* (the write plans the pipeline produced, captured batch by batch)
with bare `UNWIND` transactions: no Kafka, no validation, no reads, no planning.

    python -m bench.ingest --events 30000
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence
from typing import Any

from neo4j import Driver

from app.graph.event_store import apply_plan
from app.graph.schema import apply_schema
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlan
from app.journeys.runtime import JourneyRuntime
from app.kafka import ensure_topics
from app.runtime import build_consumer, connect
from app.settings import Settings
from bench.common import bench_settings, clear_graph, produce, synthetic_events
from bench.results import record
from graph_models.ingest import WritePlan


def run_pipeline(settings: Settings, driver: Driver, events: list[dict[str, Any]], tag: str,
                 engine: JourneyRuntime | None = None) -> tuple[float, list[WritePlan]]:
    """Produce `events` to a fresh topic, consume them all; (sustained events/s, write plans)."""
    settings = settings.model_copy(update={"events_topic": f"{settings.events_topic}.{tag}",
                                           "consumer_group": f"bench-{tag}"})
    ensure_topics(settings.kafka_bootstrap or "", {settings.events_topic: settings.topic_partitions})
    produce(settings, events)
    plans: list[WritePlan] = []
    marks: list[tuple[float, int]] = []

    def on_batch(_events: Sequence[AnyEvent], plan: BatchPlan) -> None:
        plans.append(plan.writes)
        marks.append((time.perf_counter(), len(plan.result.written)))

    consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", on_batch=on_batch, engine=engine)
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    worker.start()
    while consumer.stats.consumed < len(events):
        time.sleep(0.02)
    stop.set()
    worker.join(timeout=30)
    # Sustained rate: from the end of the first batch to the end of the last (group join excluded).
    rate = sum(n for _, n in marks[1:]) / (marks[-1][0] - marks[0][0])
    return rate, plans


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--no-record", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)

    with bench_settings() as settings:
        settings = settings.model_copy(update={"consumer_batch_size": args.batch})
        driver = connect(settings, settings.neo4j_uri or "")
        apply_schema(driver, settings.neo4j_database)
        events = synthetic_events(args.events, args.users)

        # 1. Warm-up: a full pipeline pass on a cold server (also captures the rows for the raw ceiling).
        cold_rate, plans = run_pipeline(settings, driver, events, "warmup")
        clear_graph(driver, settings.neo4j_database)
        # 2. Raw ceiling: the same write rows, bare UNWIND transactions, no Kafka/validation/reads.
        t0 = time.perf_counter()
        with driver.session(database=settings.neo4j_database) as session:
            for plan in plans:
                session.execute_write(apply_plan, plan)
        raw_rate = args.events / (time.perf_counter() - t0)
        clear_graph(driver, settings.neo4j_database)
        # 3. The pipeline, measured warm, on a fresh topic and consumer group.
        pipeline_rate, _ = run_pipeline(settings, driver, events, "measured")
        driver.close()

    ratio = pipeline_rate / raw_rate
    print(f"events={args.events} users={args.users} batch={args.batch}")
    print(f"pipeline, cold server (warm-up pass):               {cold_rate:,.0f} events/s")
    print(f"pipeline (Kafka → validate → plan → graph → commit): {pipeline_rate:,.0f} events/s")
    print(f"raw ceiling (same rows, bare UNWIND batches):      {raw_rate:,.0f} events/s")
    print(f"ratio pipeline / raw: {ratio:.2f}")
    if not args.no_record:
        record("ingest", [
            ("events / users / batch size", f"{args.events} / {args.users} / {args.batch}"),
            ("pipeline events/s, cold server (warm-up pass, not compared)", f"{cold_rate:,.0f}"),
            ("pipeline events/s (Kafka → graph, offsets committed)", f"{pipeline_rate:,.0f}"),
            ("raw ceiling events/s (same rows, bare UNWIND)", f"{raw_rate:,.0f}"),
            ("ratio pipeline / raw", f"{ratio:.2f}"),
        ])


if __name__ == "__main__":
    main()
