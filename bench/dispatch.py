"""Dispatch benchmark, one run: deliveries/s through the outbox (claim, signed webhook POST, record) to a local
webhook sink, beside the sink's own ceiling measured in the same run with the same adapter and thread count.

    PYTHONPATH=. .venv/bin/python -m bench.dispatch --deliveries 5000 --workers 8 --batch 200

The sink is a separate process (ThreadingHTTPServer answering 200). Deliveries are seeded straight into the
graph (pending, due now, one Person each); the dispatcher runs passes back to back until every one is sent.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import SecretStr

from app.channels.adapter import OutboundMessage
from app.channels.dispatcher import Dispatcher
from app.channels.registry import build_adapters, close_adapters
from app.clock import SystemClock
from app.embedded import free_port
from app.graph.schema import apply_schema
from app.runtime import connect
from bench.common import bench_settings, clear_graph
from bench.results import record

SEED = """
UNWIND $rows AS r
CREATE (p:Person {personId: r.personId, email: r.email})
CREATE (d:Delivery {deliveryId: r.id, idempotencyKey: r.id, status: 'pending', channel: 'webhook',
  template: 'bench', personId: r.personId, journeyId: 'bench', version: 1, stepId: 'send', createdAtMs: $now,
  dueAtMs: $now, dueBucket: $bucket, attempts: 0, payload: r.payload})
CREATE (d)-[:TO]->(p)
"""


def _sink(port: int, ready: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ready.set()
    server.serve_forever()


def _message(i: int) -> OutboundMessage:
    did = str(uuid.uuid4())
    return OutboundMessage(delivery_id=did, idempotency_key=did, channel="webhook", template="bench",
                           payload={"deliveryId": did, "journeyId": "bench", "n": i}, recipient={"personId": "p"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(10)
    try:
        with bench_settings() as base:
            settings = base.model_copy(update={
                "channel_adapters": {"webhook": "webhook"}, "webhook_url": f"http://127.0.0.1:{port}/hook",
                "webhook_secret": SecretStr("bench-secret"), "webhook_max_connections": args.workers,
                "dispatch_workers": args.workers, "dispatch_batch_size": args.batch})
            driver = connect(settings, settings.neo4j_uri or "")
            apply_schema(driver, settings.neo4j_database)
            clear_graph(driver, settings.neo4j_database)
            clock = SystemClock()
            adapters = build_adapters(settings, clock)
            try:
                # 1. the sink's ceiling: the same adapter and thread count, no graph
                messages = [_message(i) for i in range(args.deliveries)]
                started = time.perf_counter()
                with ThreadPoolExecutor(args.workers) as pool:
                    outcomes = list(pool.map(adapters["webhook"].send, messages))
                sink_s = time.perf_counter() - started
                assert all(o.outcome == "sent" for o in outcomes)
                # 2. the outbox: seed pending deliveries, dispatch until all are sent
                now = clock.now_ms()
                rows = [{"id": str(uuid.uuid4()), "personId": f"bp{i}", "email": f"u{i}@example.com",
                         "payload": json.dumps({"journeyId": "bench", "n": i})} for i in range(args.deliveries)]
                for k in range(0, len(rows), 1000):
                    driver.execute_query(SEED, rows=rows[k:k + 1000], now=now, bucket=now // 60_000,
                                         database_=settings.neo4j_database)
                dispatcher = Dispatcher(driver, settings.neo4j_database, adapters, clock, settings)
                started = time.perf_counter()
                stop = threading.Event()
                passes = 0
                while dispatcher.stats.sent < args.deliveries and not stop.is_set():
                    dispatcher.dispatch_once()
                    passes += 1
                    if passes > 10 * args.deliveries:
                        raise RuntimeError(f"stalled: {dispatcher.stats}")
                outbox_s = time.perf_counter() - started
                dispatcher.close()
                left = driver.execute_query("MATCH (d:Delivery) WHERE d.status <> 'sent' RETURN count(d) AS c",
                                            database_=settings.neo4j_database).records[0]["c"]
                attempts = driver.execute_query("MATCH (a:DeliveryAttempt) RETURN count(a) AS c",
                                                database_=settings.neo4j_database).records[0]["c"]
            finally:
                close_adapters(adapters)
                driver.close()
    finally:
        sink.terminate()
        sink.join(5)
    sink_rate = args.deliveries / sink_s
    outbox_rate = args.deliveries / outbox_s
    rows_out = [
        ("deliveries", f"{args.deliveries} (sender threads {args.workers}, claim batch {args.batch})"),
        ("sink ceiling (webhook adapter straight to the sink)", f"{sink_rate:,.0f} requests/s"),
        ("through the outbox (claim, send, record)", f"{outbox_rate:,.0f} deliveries/s"),
        ("ratio outbox / sink", f"{outbox_rate / sink_rate:.2f}"),
        ("dispatcher passes", str(passes)),
        ("left unsent / attempts recorded", f"{left} / {attempts}"),
    ]
    for name, value in rows_out:
        print(f"{name}: {value}")
    record("Dispatch (bench/dispatch.py)", rows_out)


if __name__ == "__main__":
    main()
