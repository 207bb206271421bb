"""Soak under faults: a stream of Segment events through `journeys consume` processes while they are
killed (SIGKILL) and restarted, the graph server and then the broker restart, and two consumers share
one group with identity merges split across partitions; then the graph is checked and the counts printed.

    PYTHONPATH=. .venv/bin/python -m bench.soak --events 100000 --kills 20

Exit status 1 when any check fails. `run_soak` and `check_graph` are reused by tests/integration/test_soak.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition
from neo4j import Driver

from app.clock import FakeClock
from app.embedded import EmbeddedStack, free_port
from app.journeys.samples import load_samples
from app.journeys.store import JourneyStore
from app.kafka import ensure_topics
from app.runtime import connect, make_engine
from app.settings import Settings

DAY_MS = 86_400_000
Log = Callable[[str], None]


def say(line: str) -> None:
    """Print a progress line now (not at exit when stdout is a file)."""
    print(line, flush=True)


@dataclass
class SoakConfig:
    events: int = 100_000
    kills: int = 20
    partitions: int = 4
    graph_restart: bool = True
    broker_restart: bool = True
    two_consumers: bool = True
    batch_size: int = 500
    seed: int = 11
    timeout_s: float = 900.0  # per wait; a stuck consumer fails the run instead of hanging it


@dataclass
class Planned:
    key: str
    partition: int
    value: bytes


@dataclass
class Stream:
    messages: list[Planned]
    valid_ids: set[str]
    invalid_keys: set[str]
    people: int
    merges: int
    cross_partition_merges: int


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def expect(self, name: str, actual: int, expected: int) -> None:
        self.counts[name] = actual
        if actual != expected:
            self.violations.append(f"{name}: {actual} (expected {expected})")


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def make_stream(n: int, partitions: int, *, seed: int = 11, now_ms: int | None = None) -> Stream:
    """`n` valid events (identify/track/page, carts that enroll people in abandoned-cart, orders that end
    it, sign-ups, anonymous -> identified merges whose anonymous events travel on another partition than
    the identified ones) plus a few invalid ones (non-JSON, no event name, no identity, unknown type)."""
    rng = random.Random(seed)
    users = max(30, n // 25)
    base = (now_ms if now_ms is not None else int(time.time() * 1000)) - 3 * DAY_MS
    span = 2 * DAY_MS
    merged: set[int] = set()
    last_cart: dict[int, str] = {}
    carts: Counter[int] = Counter()
    used: dict[int, set[str]] = {}
    out: list[Planned] = []
    valid: set[str] = set()
    cross = 0

    def part(key: str) -> int:
        return zlib.crc32(key.encode()) % partitions

    for i in range(n):
        u = rng.randrange(users)
        user, anon = f"soak-user-{u}", f"soak-anon-{u}"
        user_part = part(user)
        anon_part = (user_part + 1 + u % max(1, partitions - 1)) % partitions
        ts = base + i * span // n + rng.randrange(30_000)
        mid = f"soak-{seed}-{i}"
        ctx = {"library": {"name": "soak"}, "timezone": "UTC"}
        ids: dict[str, Any]
        if u % 4 == 0 and u not in merged and rng.random() < 0.2:  # the merge: both ids, on the user's partition
            merged.add(u)
            cross += anon_part != user_part
            ev: dict[str, Any] = {"type": "identify", "userId": user, "anonymousId": anon,
                                  "traits": {"email": f"{user}@example.com", "plan": "free"}}
            out.append(Planned(user, user_part, _dump({**ev, "messageId": mid, "timestamp": _iso(ts),
                                                       "context": ctx})))
            valid.add(mid)
            used.setdefault(u, set()).update((user, anon))
            continue
        anonymous = u % 4 == 0 and rng.random() < (0.2 if u in merged else 0.6)
        ids = {"anonymousId": anon} if anonymous else {"userId": user}
        roll = rng.random()
        if roll < 0.12:
            ev = {"type": "identify", **ids, "traits": {"plan": rng.choice(("free", "pro")),
                                                        "email": f"{user}@example.com"}}
        elif roll < 0.42:
            ev = {"type": "track", **ids, "event": "Product Viewed", "properties": {"sku": f"sku-{rng.randrange(300)}"}}
        elif roll < 0.57:
            carts[u] += 1
            last_cart[u] = f"cart-{u}-{carts[u]}"
            ev = {"type": "track", **ids, "event": "Product Added", "properties": {"cart_id": last_cart[u]}}
        elif roll < 0.67:
            cart = last_cart.get(u, f"cart-{u}-0")
            ev = {"type": "track", **ids, "event": "Order Completed", "properties": {"cart_id": cart}}
        elif roll < 0.70:
            ev = {"type": "track", **ids, "event": "Signed Up", "properties": {}}
        else:
            ev = {"type": "page", **ids, "name": rng.choice(("Home", "Pricing", "Docs")), "properties": {"path": "/"}}
        key = anon if anonymous else user
        used.setdefault(u, set()).add(key)
        out.append(Planned(key, anon_part if anonymous else user_part,
                           _dump({**ev, "messageId": mid, "timestamp": _iso(ts), "context": ctx})))
        valid.add(mid)
    invalid: set[str] = set()
    bad = [b"not json {",
           _dump({"type": "track", "userId": "soak-user-0"}),                 # no event name
           _dump({"type": "track", "event": "Product Viewed"}),               # no identity
           _dump({"type": "bogus", "userId": "soak-user-0"})]                 # unknown type
    for k in range(max(4, n // 5000)):
        key = f"soak-invalid-{k}"
        invalid.add(key)
        value = bad[k % len(bad)]
        if value.startswith(b"{"):
            value = _dump({**json.loads(value), "messageId": f"{key}-{uuid.uuid4().hex[:6]}"})
        out.insert(rng.randrange(len(out) + 1), Planned(key, rng.randrange(partitions), value))
    people = sum(1 if u in merged else len(keys) for u, keys in used.items())
    return Stream(out, valid, invalid, people, len(merged), cross)


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def produce(bootstrap: str, topic: str, messages: list[Planned]) -> None:
    """Send with explicit partitions, acks=all; raise on any delivery error."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20,
                         "message.timeout.ms": 120_000})
    errors: list[str] = []

    def report(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(str(err))

    for m in messages:
        while True:
            try:
                producer.produce(topic, m.value, m.key.encode(), partition=m.partition, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.5)
        producer.poll(0)
    left = producer.flush(120)
    if left or errors:
        raise RuntimeError(f"produce failed: {left} undelivered, errors {errors[:3]}")


def read_dlq(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[str]:
    """Keys of every message on the (one-partition) dead-letter topic, read up to its high watermark."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"soak-dlq-{uuid.uuid4().hex[:6]}",
                         "enable.auto.commit": False})
    keys: list[str] = []
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout_s
        seen = 0
        while seen < high and time.monotonic() < deadline:
            for msg in consumer.consume(100, 0.5):
                if msg.error() is None:
                    seen = (msg.offset() or 0) + 1
                    raw = msg.key()
                    keys.append(raw.decode() if isinstance(raw, bytes) else str(raw))
    finally:
        consumer.close()
    return keys


class ConsumerProcess:
    """One `journeys consume` OS process (SIGKILL-able), restarted with the same env and group."""

    def __init__(self, settings: Settings, log_path: Path, batch_size: int) -> None:
        self.env = {
            **os.environ,
            "NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password, "KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
            "JOURNEYS_EVENTS_TOPIC": settings.events_topic, "JOURNEYS_DLQ_TOPIC": settings.dlq_topic,
            "JOURNEYS_CONSUMER_GROUP": settings.consumer_group, "JOURNEYS_BATCH_SIZE": str(batch_size),
            "JOURNEYS_TOPIC_PARTITIONS": str(settings.topic_partitions),
            "JOURNEYS_SESSION_TIMEOUT_MS": "2000", "JOURNEYS_HEARTBEAT_MS": "300",
            "JOURNEYS_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "consume"], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.starts += 1

    def ensure_running(self) -> None:
        """Raise if the process ended without being told to (a crash: its log tail says why)."""
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError(f"consumer exited by itself with code {self.proc.returncode}: " + " | ".join(tail))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM (clean shutdown), SIGKILL after 60 s; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        return self.proc.returncode


def _scalar(driver: Driver, database: str, cypher: str) -> int:
    records = driver.execute_query(cypher, database_=database).records
    return int(records[0][0] or 0) if records else 0


def _column(driver: Driver, database: str, cypher: str) -> list[Any]:
    return [r[0] for r in driver.execute_query(cypher, database_=database).records]


def event_count(driver: Driver, database: str) -> int:
    """Events in the graph; 0 while the graph server is unreachable is never returned (it raises)."""
    return _scalar(driver, database, "MATCH (e:Event) RETURN count(e)")


def _dups(values: list[Any]) -> int:
    return sum(c - 1 for c in Counter(values).values() if c > 1)


def check_graph(driver: Driver, settings: Settings, stream: Stream, dlq_keys: list[str], report: Report) -> None:
    """Every check the soak makes after the stream, counts into `report`, failures into its violations."""
    db = settings.neo4j_database
    ids = _column(driver, db, "MATCH (e:Event) RETURN e.messageId")
    found = Counter(ids)
    report.counts["events produced (valid)"] = len(stream.valid_ids)
    report.expect("events in graph", len(ids), len(stream.valid_ids))
    report.expect("events written twice (same messageId)", sum(c - 1 for c in found.values() if c > 1), 0)
    report.expect("produced events missing from graph", len(stream.valid_ids - set(found)), 0)
    report.expect("graph events never produced", len(set(found) - stream.valid_ids), 0)
    report.expect("PERFORMED edges", _scalar(driver, db, "MATCH (:Person)-[r:PERFORMED]->(:Event) RETURN count(r)"),
                  len(stream.valid_ids))
    report.expect("session eventCount sum", _scalar(driver, db, "MATCH (s:Session) RETURN sum(s.eventCount)"),
                  len(stream.valid_ids))
    report.expect("persons (one per simulated person, merges collapsed)",
                  _scalar(driver, db, "MATCH (p:Person) RETURN count(p)"), stream.people)
    report.counts["merges produced"] = stream.merges
    report.counts["merges across partitions"] = stream.cross_partition_merges
    report.expect("merged persons holding both ids",
                  _scalar(driver, db, "MATCH (a:Identity)-[:IDENTIFIES]->(p:Person)<-[:IDENTIFIES]-(u:Identity) "
                                      "WHERE a.kind = 'anonymousId' AND u.kind = 'userId' "
                                      "RETURN count(DISTINCT p)"), stream.merges)
    report.expect("identities not pointing at exactly one person",
                  _scalar(driver, db, "MATCH (i:Identity) OPTIONAL MATCH (i)-[:IDENTIFIES]->(p:Person) "
                                      "WITH i, count(p) AS c WHERE c <> 1 RETURN count(i)"), 0)

    enrollments = _column(driver, db, "MATCH (en:Enrollment) RETURN en.enrollmentId")
    report.counts["enrollments"] = len(enrollments)
    report.expect("duplicated enrollments (same enrollmentId)", _dups(enrollments), 0)
    report.expect("enrollments without exactly one person",
                  _scalar(driver, db, "MATCH (en:Enrollment) OPTIONAL MATCH (p:Person)-[:ENROLLED]->(en) "
                                      "WITH en, count(p) AS c WHERE c <> 1 RETURN count(en)"), 0)
    live = driver.execute_query("MATCH (p:Person)-[:ENROLLED]->(en:Enrollment) WHERE en.status = 'active' "
                                "RETURN p.personId AS p, en.journeyId AS j", database_=db).records
    report.counts["live enrollments"] = len(live)
    report.expect("persons with two live enrollments in one journey", _dups([(r["p"], r["j"]) for r in live]), 0)
    visits = driver.execute_query("MATCH (en:Enrollment)-[v:VISITED]->(:Step) RETURN en.enrollmentId AS e, "
                                  "v.seq AS s", database_=db).records
    report.counts["VISITED edges"] = len(visits)
    report.expect("duplicated VISITED (same enrollment, same seq)", _dups([(r["e"], r["s"]) for r in visits]), 0)
    actions = _column(driver, db, "MATCH (a:ActionRequest) RETURN a.actionId")
    report.counts["action requests"] = len(actions)
    report.expect("duplicated action requests (same actionId)", _dups(actions), 0)
    decisions = _column(driver, db, "MATCH (d:Decision) RETURN d.decisionId")
    report.counts["decisions"] = len(decisions)
    report.expect("duplicated decisions (same decisionId)", _dups(decisions), 0)

    # Timers: nothing live and due may sit below the TimerCursor (the sweep has passed it: lost).
    cursor = _scalar(driver, db, "OPTIONAL MATCH (c:TimerCursor {id: 'journeys'}) RETURN c.bucket")
    paused = _scalar(driver, db, "MATCH (v:JourneyVersion) WHERE v.status = 'paused' RETURN count(v)")
    report.expect("paused journey versions", paused, 0)
    report.counts["timer cursor bucket"] = cursor
    report.counts["live timers pending"] = _scalar(
        driver, db, "MATCH (en:Enrollment) WHERE en.status = 'active' AND en.wakeAtMs IS NOT NULL RETURN count(en)")
    report.expect("timers lost (live, wakeBucket below the TimerCursor)", _scalar(
        driver, db, f"MATCH (en:Enrollment) WHERE en.status = 'active' AND en.wakeBucket < {cursor} "
                    "RETURN count(en)"), 0)
    # ... and every pending timer fires when the timer service runs with a clock far in the future.
    far = int(time.time() * 1000) + 30 * DAY_MS
    engine = make_engine(settings, driver, clock=FakeClock(far))
    fired = 0
    for _ in range(10):
        step = engine.fire_due(now_ms=far)
        fired += step
        if step == 0:
            break
    report.counts["timers fired by a far-future sweep"] = fired
    report.expect("live timers still due after the far-future sweep", _scalar(
        driver, db, f"MATCH (en:Enrollment) WHERE en.status = 'active' AND en.wakeAtMs <= {far} RETURN count(en)"), 0)
    report.expect("persons with two live enrollments in one journey after timers", _dups([
        (r["p"], r["j"]) for r in driver.execute_query(
            "MATCH (p:Person)-[:ENROLLED]->(en:Enrollment) WHERE en.status = 'active' "
            "RETURN p.personId AS p, en.journeyId AS j", database_=db).records]), 0)

    dlq = Counter(dlq_keys)
    report.counts["invalid events produced"] = len(stream.invalid_keys)
    report.expect("dead letters that were not made invalid on purpose", len(set(dlq) - stream.invalid_keys), 0)
    report.expect("invalid events missing from the dead-letter topic", len(stream.invalid_keys - set(dlq)), 0)
    report.counts["dead letters delivered more than once (at-least-once, allowed)"] = sum(
        c - 1 for c in dlq.values() if c > 1)


class Stalled(Exception):
    """The graph stopped gaining events before a phase's target (events lost, or a stuck consumer)."""


STALL_S = 120.0  # no new event in the graph for this long while short of a target: stalled


def _wait(what: str, predicate: Callable[[], bool], timeout: float, interval: float = 0.5,
          running: tuple[ConsumerProcess, ...] = (), progress: Callable[[], int] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last, moved = (progress() if progress else 0), time.monotonic()
    while not predicate():
        for proc in running:
            proc.ensure_running()
        now = time.monotonic()
        if progress is not None:
            seen = progress()
            if seen != last:
                last, moved = seen, now
            elif now - moved > STALL_S:
                raise Stalled(f"{what}: no new event in the graph for {STALL_S:.0f}s (stuck at {seen})")
        if now > deadline:
            raise Stalled(f"{what} not reached within {timeout:.0f}s")
        time.sleep(interval)


def _count_or(driver: Driver, database: str, default: int) -> int:
    try:
        return event_count(driver, database)
    except Exception:  # the graph is restarting
        return default


def run_soak(settings: Settings, driver: Driver, stack: EmbeddedStack | None, cfg: SoakConfig,
             log: Log = say) -> Report:
    """Run the whole soak on fresh topics and group (the graph should be empty); return the report."""
    t0 = time.monotonic()
    report = Report()
    rng = random.Random(cfg.seed)
    suffix = uuid.uuid4().hex[:8]
    settings = settings.model_copy(update={
        "events_topic": f"soak.events.{suffix}", "dlq_topic": f"soak.dlq.{suffix}",
        "consumer_group": f"soak-{suffix}", "topic_partitions": cfg.partitions})
    bootstrap = settings.kafka_bootstrap or ""
    db = settings.neo4j_database

    def topics() -> None:
        ensure_topics(bootstrap, {settings.events_topic: cfg.partitions, settings.dlq_topic: 1})

    topics()
    from app.graph.schema import apply_schema
    apply_schema(driver, db)
    published = load_samples(JourneyStore(driver, db))
    log(f"published {len(published)} sample journeys; topic {settings.events_topic} ({cfg.partitions} partitions)")
    stream = make_stream(cfg.events, cfg.partitions, seed=cfg.seed)
    msgs = stream.messages
    total = len(msgs)
    restarts = stack is not None and (cfg.graph_restart or cfg.broker_restart)
    if stack is None and (cfg.graph_restart or cfg.broker_restart):
        log("servers not started here: skipping the graph and broker restarts")
    cut1 = int(total * (0.6 if restarts or cfg.two_consumers else 1.0))
    cut2 = int(total * 0.8) if restarts else cut1

    def valid_of(part: list[Planned]) -> int:
        return sum(1 for m in part if not m.key.startswith("soak-invalid-"))

    logs = Path(settings.data_dir) / f"soak-{suffix}"
    logs.mkdir(parents=True, exist_ok=True)
    first = ConsumerProcess(settings, logs / "consumer-1.log", cfg.batch_size)
    second = ConsumerProcess(settings, logs / "consumer-2.log", cfg.batch_size)
    dlq_keys: list[str] = []
    try:
        # Phase 1: one consumer, killed with SIGKILL K times at random points of the stream.
        produce(bootstrap, settings.events_topic, msgs[:cut1])
        target1 = valid_of(msgs[:cut1])
        first.start()
        points = sorted(rng.sample(range(max(1, target1 // 50), max(2, target1 * 95 // 100)), cfg.kills)) \
            if cfg.kills else []
        for k, point in enumerate(points, 1):
            at_start = _count_or(driver, db, 0)

            def reached(point: int = point, at_start: int = at_start) -> bool:
                # (or everything of the phase is in already: a fast consumer may outrun the kill points)
                count = _count_or(driver, db, 0)
                return (count >= point and count > at_start) or count >= target1

            _wait(f"kill {k} point", reached, cfg.timeout_s, 0.2, (first,))
            time.sleep(rng.uniform(0, 0.5))
            first.kill9()
            first.start()
        _wait("phase 1 consumed", lambda: _count_or(driver, db, 0) >= target1, cfg.timeout_s,
              running=(first,), progress=lambda: _count_or(driver, db, 0))
        report.timings["phase 1 (kills)"] = time.monotonic() - t0
        log(f"phase 1: {target1} events, {len(points)} SIGKILLs, {time.monotonic() - t0:.0f}s")
        if restarts and stack is not None:
            t1 = time.monotonic()
            part = msgs[cut1:cut2]
            half = len(part) // 2
            produce(bootstrap, settings.events_topic, part[:half])
            target = target1 + valid_of(part[:half])
            if cfg.graph_restart:
                _wait("progress before the graph restart",
                      lambda: _count_or(driver, db, 0) >= target1 + max(1, (target - target1) // 4), cfg.timeout_s, 0.2,
                      (first,))
                graph = stack.processes[0]
                graph.stop()
                time.sleep(5)
                if not first.alive():
                    report.violations.append("consumer exited while the graph server was down")
                graph.start()
                log(f"graph server restarted; consumer alive: {first.alive()}")
            _wait("graph restart: resumed", lambda: _count_or(driver, db, 0) >= target, cfg.timeout_s,
                  running=(first,), progress=lambda: _count_or(driver, db, 0))
            if cfg.broker_restart:
                # Tansu keeps messages in memory: drain what was produced (and its dead letters) first.
                dlq_keys += read_dlq(bootstrap, settings.dlq_topic)
                broker = stack.processes[1]
                broker.stop()
                time.sleep(5)
                if not first.alive():
                    report.violations.append("consumer exited while the broker was down")
                broker.start()
                topics()
                log(f"broker restarted (in-memory: topics recreated); consumer alive: {first.alive()}")
            produce(bootstrap, settings.events_topic, part[half:])
            target += valid_of(part[half:])
            _wait("phase 2 consumed", lambda: _count_or(driver, db, 0) >= target, cfg.timeout_s,
                  running=(first,), progress=lambda: _count_or(driver, db, 0))
            report.timings["phase 2 (graph + broker restarts)"] = time.monotonic() - t1
            log(f"phase 2: {valid_of(part)} events, {time.monotonic() - t1:.0f}s")
        # Phase 3: two consumers in one group; cross-partition merges land on both.
        t3 = time.monotonic()
        if cfg.two_consumers:
            second.start()
            time.sleep(3)
        produce(bootstrap, settings.events_topic, msgs[cut2:])
        _wait("everything consumed", lambda: _count_or(driver, db, 0) >= len(stream.valid_ids), cfg.timeout_s,
              running=(first, second) if cfg.two_consumers else (first,),
              progress=lambda: _count_or(driver, db, 0))
        time.sleep(3)  # let the timer services run on the final watermark
        report.timings["phase 3 (two consumers)"] = time.monotonic() - t3
        log(f"phase 3: {valid_of(msgs[cut2:])} events, {time.monotonic() - t3:.0f}s")
    except Stalled as exc:
        report.violations.append(f"stream stalled: {exc} (events lost or dead-lettered? see the checks below)")
        log(f"STALLED: {exc}")
    finally:
        codes = [first.stop(), second.stop()]
    report.counts["consumer starts"] = first.starts + second.starts
    report.counts["SIGKILLs"] = cfg.kills
    if any(c not in (0, None) for c in codes):
        report.violations.append(f"consumer exit codes on SIGTERM: {codes} (see {logs})")
    dlq_keys += read_dlq(bootstrap, settings.dlq_topic)
    t_check = time.monotonic()
    check_graph(driver, settings, stream, dlq_keys, report)
    report.timings["checks"] = time.monotonic() - t_check
    report.timings["total"] = time.monotonic() - t0
    return report


def print_report(report: Report, log: Log = say) -> None:
    width = max(len(k) for k in report.counts) if report.counts else 10
    for name, value in report.counts.items():
        log(f"  {name:<{width}}  {value}")
    for name, secs in report.timings.items():
        log(f"  time {name}: {secs:.1f}s")
    if report.violations:
        log("VIOLATIONS:")
        for v in report.violations:
            log(f"  - {v}")
    else:
        log("all checks passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--no-restarts", action="store_true", help="skip the graph and broker restarts")
    args = parser.parse_args()
    from bench.common import _exit_on_sigterm
    from tests.servers import test_servers

    _exit_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="journeys-soak-") as tmp, test_servers(Path(tmp)) as found:
        settings = Settings(neo4j_uri=found.bolt_uri, neo4j_user=found.user, neo4j_password=found.password,
                            kafka_bootstrap=found.bootstrap, JOURNEYS_DATA_DIR=Path(tmp),
                            JOURNEYS_EVENTS_TOPIC=f"soak.events.{free_port()}")
        driver = connect(settings, found.bolt_uri)
        try:
            cfg = SoakConfig(events=args.events, kills=args.kills, seed=args.seed, batch_size=args.batch_size,
                             graph_restart=not args.no_restarts, broker_restart=not args.no_restarts)
            report = run_soak(settings, driver, found.stack, cfg)
        finally:
            driver.close()
    say(f"soak: {args.events} events, {args.kills} kills")
    print_report(report)
    sys.exit(1 if report.violations else 0)


if __name__ == "__main__":
    main()
