"""Engine benchmark, one run: ingest-only vs ingest + journey engine (20 published journeys) events/s,
and due timers fired/s with 100k pending.

Two loads: `stress` (every common event enters about four journeys: ~3 enrollments per event) and
`realistic` (entry conditions on price bands: about one enrollment per ten events). Each runs with the
constraint resolver (app.runtime.make_engine: decisions, candidates, deliveries) and is compared with the
raw ceiling of its own rows: the same batches' ingest rows plus every write statement the person state,
engine and resolver ran, replayed as bare transactions. The accepting-resolver rate is printed beside it.

    python -m bench.engine --events 20000 --timers 100000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from neo4j import Driver

from app.clock import FakeClock
from app.graph.schema import apply_schema
from app.journeys.loader import example_paths, load_definition
from app.journeys.runtime import JourneyRuntime, step_key, version_key
from app.journeys.store import JourneyStore
from app.runtime import connect, make_engine
from app.settings import Settings
from bench.common import BASE_MS, bench_settings, clear_graph, synthetic_events
from bench.ingest import Statements, raw_rate, run_pipeline
from bench.results import record
from graph_models.journey import JourneyDefinition
from graph_models.principal import Principal

ENTRY_EVENTS = ("Product Viewed", "Added To Cart", "Order Completed", "Product Viewed", "Added To Cart")
AUTHOR, APPROVER = Principal(name="bench-author", role="author"), Principal(name="bench-approver", role="approver")


def twenty_journeys() -> list[JourneyDefinition]:
    """The three example journeys, re-keyed onto the synthetic events' names, 20 in all."""
    bases = [load_definition(p) for p in example_paths()]
    out: list[JourneyDefinition] = []
    for i in range(20):
        base = bases[i % len(bases)].model_dump(by_alias=True, exclude_none=True, mode="json")
        base["id"] = f"{base['id']}-{i}"
        base["entry"]["event"] = ENTRY_EVENTS[i % len(ENTRY_EVENTS)]
        base["entry"].pop("where", None)
        out.append(JourneyDefinition.model_validate(base))
    return out


def realistic_journeys() -> list[JourneyDefinition]:
    """The same 20 journeys, each entered only by events in its own price band (13 of 495 price points):
    about one enrollment per ten events, as when many journeys each target a narrow audience."""
    out: list[JourneyDefinition] = []
    for i, j in enumerate(twenty_journeys()):
        data = j.model_dump(by_alias=True, exclude_none=True, mode="json")
        data["entry"]["where"] = [{"property": "price", "op": "gte", "value": 5 + 13 * i},
                                  {"property": "price", "op": "lt", "value": 5 + 13 * (i + 1)}]
        out.append(JourneyDefinition.model_validate(data))
    return out


def publish_all(driver: Driver, settings: Settings, journeys: list[JourneyDefinition], clock: FakeClock) -> None:
    store = JourneyStore(driver, settings.neo4j_database, clock=clock)
    for j in journeys:
        info = store.push(j, AUTHOR)
        store.submit(j.id, info.version, AUTHOR)
        store.approve(j.id, info.version, APPROVER)
        store.publish(j.id, info.version, APPROVER)


def seed_timers(driver: Driver, settings: Settings, n: int, journey: JourneyDefinition) -> None:
    """`n` people waiting at the cart journey's second wait, their timers spread over one day (as real
    timers are), all due by the time the benchmark fires them."""
    vkey = version_key(journey.id, 1)
    skey = step_key(journey.id, 1, "wait_again")
    cypher = """
        UNWIND $rows AS r
        MATCH (v:JourneyVersion {key: $vkey}), (s:Step {key: $skey})
        CREATE (p:Person {personId: r.pid, userId: r.pid})
        CREATE (en:Enrollment {enrollmentId: r.eid, journeyId: $jid, version: 1, personId: r.pid,
                status: 'active', stepId: 'wait_again', enteredAtMs: r.t, entryMessageId: r.eid,
                entryProperties: '{}', dueAtMs: r.t, waitingSinceMs: r.t, wakeAtMs: r.t,
                wakeBucket: r.t / 60000, seq: 1, updatedAtMs: r.t})
        CREATE (p)-[:ENROLLED]->(en), (en)-[:IN]->(v), (en)-[:AT]->(s)"""
    spacing = max(1, 86_400_000 // max(n, 1))
    driver.execute_query("MERGE (c:TimerCursor {id: 'journeys'}) SET c.bucket = $b", b=BASE_MS // 60_000,
                         database_=settings.neo4j_database)
    for start in range(0, n, 5000):
        stop = min(n, start + 5000)
        rows = [{"pid": f"timer-{i}", "eid": f"timer-{i}", "t": BASE_MS + i * spacing} for i in range(start, stop)]
        driver.execute_query(cypher, rows=rows, vkey=vkey, skey=skey, jid=journey.id,
                             database_=settings.neo4j_database)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--loads", default="stress,realistic", help="comma list: stress, realistic")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    loads = {"stress": twenty_journeys, "realistic": realistic_journeys}

    with bench_settings() as settings:
        driver = connect(settings, settings.neo4j_uri or "")
        apply_schema(driver, settings.neo4j_database)
        events = synthetic_events(args.events, args.users)
        journeys = twenty_journeys()
        clock = FakeClock(BASE_MS)
        db = settings.neo4j_database

        run_pipeline(settings, driver, events, "warmup")  # warm the server; not compared
        clear_graph(driver, settings.neo4j_database)
        ingest_rate, _ = run_pipeline(settings, driver, events, "ingest-only")
        print(f"ingest only: {ingest_rate:,.0f} events/s", flush=True)
        for load in [x.strip() for x in args.loads.split(",") if x.strip()]:
            load_journeys = loads[load]()
            clear_graph(driver, db)
            publish_all(driver, settings, load_journeys, clock)
            engine = make_engine(settings, driver, clock=clock)
            captured: list[Statements] = []
            rate, plans = run_pipeline(settings, driver, events, f"{load}-resolver", engine=engine,
                                       captured=captured)
            print(f"{load}: ingest + engine (constraint resolver): {rate:,.0f} events/s", flush=True)
            clear_graph(driver, db)
            publish_all(driver, settings, load_journeys, clock)
            raw = raw_rate(driver, db, plans, captured, count=args.events)
            print(f"{load}: raw ceiling of its rows: {raw:,.0f} events/s", flush=True)
            clear_graph(driver, db)
            publish_all(driver, settings, load_journeys, clock)
            accepting = JourneyRuntime(driver, db, clock=clock)
            acc_rate, _ = run_pipeline(settings, driver, events, f"{load}-accepting", engine=accepting)
            print(f"{load}: ingest + engine (accepting resolver): {acc_rate:,.0f} events/s", flush=True)
            results[load] = {"rate": rate, "raw": raw, "accepting": acc_rate, "enrolled": engine.stats.enrolled,
                             "actions": engine.stats.actions,
                             "statements": sum(len(c) for c in captured) / max(1, len(captured))}

        if args.timers <= 0:
            driver.close()
            _report(args, ingest_rate, results, None)
            return
        clear_graph(driver, settings.neo4j_database)
        publish_all(driver, settings, journeys[:1], clock)
        seed_timers(driver, settings, args.timers, journeys[0])
        print(f"seeded {args.timers} pending timers", flush=True)
        timer_engine = JourneyRuntime(driver, settings.neo4j_database, clock=clock)
        t0 = time.perf_counter()
        fired = timer_engine.fire_due(limit=1000, now_ms=BASE_MS + 86_400_000 + 1)
        timer_rate = fired / (time.perf_counter() - t0)
        driver.close()
    _report(args, ingest_rate, results, (fired, timer_rate))


def _report(args: argparse.Namespace, ingest_rate: float, results: dict[str, Any],
            timers: tuple[int, float] | None) -> None:
    print(f"events={args.events} users={args.users} journeys=20 timers={args.timers}")
    print(f"ingest only:            {ingest_rate:,.0f} events/s")
    rows: list[tuple[str, str]] = [
        ("events / users / published journeys", f"{args.events} / {args.users} / 20"),
        ("ingest-only events/s", f"{ingest_rate:,.0f}"),
    ]
    for load, r in results.items():
        ratio = r["rate"] / r["raw"]
        print(f"{load}: ingest + engine {r['rate']:,.0f} events/s (constraint resolver), "
              f"{r['accepting']:,.0f} (accepting resolver); raw ceiling of its rows {r['raw']:,.0f}; "
              f"ratio {ratio:.2f} (goal >= 0.7); {r['enrolled']} enrollments "
              f"({r['enrolled'] / args.events:.2f} per event), {r['actions']} action requests, "
              f"{r['statements']:.0f} engine write statements per batch")
        rows += [
            (f"{load}: enrollments / action requests created",
             f"{r['enrolled']} / {r['actions']} ({r['enrolled'] / args.events:.2f} enrollments per event)"),
            (f"{load}: ingest + engine events/s, constraint resolver", f"{r['rate']:,.0f}"),
            (f"{load}: ingest + engine events/s, accepting resolver", f"{r['accepting']:,.0f}"),
            (f"{load}: raw ceiling events/s (same ingest + engine rows, bare)", f"{r['raw']:,.0f}"),
            (f"{load}: ratio ingest + engine / raw (goal >= 0.7)", f"{ratio:.2f}"),
            (f"{load}: ratio ingest + engine / ingest-only", f"{r['rate'] / ingest_rate:.2f}"),
        ]
    if timers is not None:
        print(f"timers fired:           {timers[1]:,.0f} /s ({timers[0]} of {args.timers} pending)")
        rows.append(("pending timers / fired per second", f"{args.timers} / {timers[1]:,.0f}"))
    if not args.no_record:
        record("engine", rows)


if __name__ == "__main__":
    main()
