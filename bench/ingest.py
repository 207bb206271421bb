"""Ingest benchmark: Kafka → consumer → graph events/s vs the raw UNWIND ceiling, measured in one run.

The raw ceiling writes *the same rows* (the write plans the pipeline produced, captured batch by batch)
with bare `UNWIND` transactions: no Kafka, no validation, no reads, no planning. The bare ceiling writes
the same count of events as a bare person + event + PERFORMED edge `UNWIND MERGE` (what an event costs at
least), so write amplification shows too.

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
from bench.common import RecordingTx, bench_settings, clear_graph, produce, replay, synthetic_events
from bench.results import record
from graph_models.ingest import WritePlan

BARE_CYPHER = """
    UNWIND $rows AS r
    MERGE (p:Person {personId: r.personId})
    MERGE (e:Event {messageId: r.messageId})
    ON CREATE SET e.timestampMs = r.t
    MERGE (p)-[:PERFORMED]->(e)"""

Statements = list[tuple[str, dict[str, Any]]]


def bare_rows(plans: list[WritePlan]) -> list[list[dict[str, Any]]]:
    """Per batch: one (person, event) row per event the pipeline wrote."""
    return [[{"personId": r["personId"], "messageId": r["messageId"], "t": r["props"].get("timestampMs")}
             for r in plan.rows.get("ingest/create_events", [])] for plan in plans]


def bare_rate(driver: Driver, database: str, batches: list[list[dict[str, Any]]]) -> float:
    """Events/s of the bare person + event + edge `UNWIND MERGE`, one transaction per batch."""
    t0 = time.perf_counter()
    with driver.session(database=database) as session:
        for rows in batches:
            def work(tx: Any, rows: list[dict[str, Any]] = rows) -> None:
                tx.run(BARE_CYPHER, rows=rows).consume()
            session.execute_write(work)
    return sum(len(b) for b in batches) / (time.perf_counter() - t0)


def raw_rate(driver: Driver, database: str, plans: list[WritePlan], extra: list[Statements] | None = None,
             count: int = 0) -> float:
    """`count` events/s when the batches' write rows (plus `extra` statements per batch, e.g. the engine's)
    are replayed as bare transactions, one per batch."""
    t0 = time.perf_counter()
    with driver.session(database=database) as session:
        for i, plan in enumerate(plans):
            more = extra[i] if extra else []

            def work(tx: Any, plan: WritePlan = plan, more: Statements = more) -> None:
                apply_plan(tx, plan)
                replay(tx, more)
            session.execute_write(work)
    return count / (time.perf_counter() - t0)


def run_pipeline(settings: Settings, driver: Driver, events: list[dict[str, Any]], tag: str,
                 engine: JourneyRuntime | None = None,
                 captured: list[Statements] | None = None) -> tuple[float, list[WritePlan]]:
    """Produce `events` to a fresh topic, consume them all; (sustained events/s, write plans).

    With `captured`, the write statements run after the ingest writes (person state, engine, resolver) of
    each committed batch are appended to it, one list per batch, in the order of the plans."""
    settings = settings.model_copy(update={"events_topic": f"{settings.events_topic}.{tag}",
                                           "consumer_group": f"bench-{tag}"})
    ensure_topics(settings.kafka_bootstrap or "", {settings.events_topic: settings.topic_partitions})
    produce(settings, events)
    plans: list[WritePlan] = []
    marks: list[tuple[float, int]] = []

    last: list[Statements] = [[]]

    def on_batch(_events: Sequence[AnyEvent], plan: BatchPlan) -> None:
        plans.append(plan.writes)
        marks.append((time.perf_counter(), len(plan.result.written)))
        if captured is not None:
            captured.append(last[0])
            last[0] = []

    consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", on_batch=on_batch, engine=engine)
    hook = consumer.store.after_write
    if captured is not None and hook is not None:
        def recording(tx: Any, plan: BatchPlan, hook: Any = hook) -> object:
            rec = RecordingTx(tx)
            try:
                return hook(rec, plan)
            finally:
                last[0] = rec.writes  # the attempt that commits is the last one before on_batch
        consumer.store.after_write = recording
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
        raw = raw_rate(driver, settings.neo4j_database, plans, count=args.events)
        clear_graph(driver, settings.neo4j_database)
        # 3. Bare ceiling: person + event + edge only, same events and batches.
        bare = bare_rate(driver, settings.neo4j_database, bare_rows(plans))
        clear_graph(driver, settings.neo4j_database)
        # 4. The pipeline, measured warm, on a fresh topic and consumer group.
        pipeline_rate, _ = run_pipeline(settings, driver, events, "measured")
        driver.close()

    ratio, bare_ratio = pipeline_rate / raw, pipeline_rate / bare
    print(f"events={args.events} users={args.users} batch={args.batch}")
    print(f"pipeline, cold server (warm-up pass):               {cold_rate:,.0f} events/s")
    print(f"pipeline (Kafka → validate → plan → graph → commit): {pipeline_rate:,.0f} events/s")
    print(f"raw ceiling (same rows, bare UNWIND batches):      {raw:,.0f} events/s")
    print(f"bare ceiling (person + event + edge UNWIND MERGE): {bare:,.0f} events/s")
    print(f"ratio pipeline / raw: {ratio:.2f} (goal >= 0.8)")
    print(f"ratio pipeline / bare: {bare_ratio:.2f} (goal >= 0.5)")
    if not args.no_record:
        record("ingest", [
            ("events / users / batch size", f"{args.events} / {args.users} / {args.batch}"),
            ("pipeline events/s, cold server (warm-up pass, not compared)", f"{cold_rate:,.0f}"),
            ("pipeline events/s (Kafka → graph, offsets committed)", f"{pipeline_rate:,.0f}"),
            ("raw ceiling events/s (same rows, bare UNWIND)", f"{raw:,.0f}"),
            ("bare ceiling events/s (person + event + edge UNWIND MERGE, same count)", f"{bare:,.0f}"),
            ("ratio pipeline / raw (goal >= 0.8)", f"{ratio:.2f}"),
            ("ratio pipeline / bare (goal >= 0.5)", f"{bare_ratio:.2f}"),
        ])


if __name__ == "__main__":
    main()
