"""The ingest consumer: Kafka `segment.events` → validated batches → one graph transaction each.

At-least-once: offsets are committed only after the batch is in the graph (and bad messages are on
the dead-letter topic). Writes are idempotent by messageId, so redelivery creates nothing new.
A graph outage pauses the partitions and retries the same batch with back-off until it lands; so does a
failure that hits every event of a batch (a broken schema, a full disk, a hook that always fails): dead
letters are only for events that fail on their own.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from neo4j.exceptions import ClientError, DatabaseError

from app.clock import Clock, SystemClock
from app.errors import JourneysError, PermanentError, RetryableError
from app.graph.driver import UNAVAILABLE, is_unavailable
from app.graph.event_store import EventStore
from app.intake.normalize import AnyEvent, decode
from app.intake.plan import BatchPlan, PreparedBatch
from app.intake.rows import event_props
from app.journeys.watermark import ProgressTracker, ProgressWriter
from app.kafka import AckProducer, OutgoingMessage
from app.metrics import observe_batch
from consumers.dead_letter import dead_letter

log = logging.getLogger("journeys.consumer")

BatchHook = Callable[[Sequence[AnyEvent], BatchPlan], None]
DECODE_GATE_S = 1.0  # the longest the next batch's decoding waits for the current batch's writes to be sent


@dataclass
class _Decoded:
    pairs: list[tuple[Message, AnyEvent]] = field(default_factory=list)
    dead: list[OutgoingMessage] = field(default_factory=list)
    props: dict[str, dict[str, Any]] = field(default_factory=dict)
    prepared: PreparedBatch | None = None  # the graph-independent part of the whole batch's plan


@dataclass
class _Fetched:
    messages: list[Message]
    decoded: Future[_Decoded]


@dataclass
class ConsumerStats:
    batches: int = 0
    consumed: int = 0
    written: int = 0
    duplicates: int = 0
    tombstoned: int = 0  # events of erased people, dropped (app/privacy)
    dead_lettered: int = 0
    graph_retries: int = 0
    systemic_failures: int = 0  # batches refused because every event failed the same way
    paused_now: bool = False
    state: str = "running"  # running | paused_graph (unavailable) | paused_systemic (every write fails)
    paused_reason: str = ""
    last_error: str = ""


class SystemicFailure(RetryableError):
    """Every event of a batch failed with the same error: the fault is not in the events (a broken
    schema, a full disk, a failing hook). Pause and retry with back-off like an outage; dead-letter nothing."""

    def __init__(self, message: str, signature: str) -> None:
        super().__init__(message, reason="systemic")
        self.signature = signature


def error_signature(exc: BaseException) -> str:
    """What kind of failure this is, without the event's own values (quoted text and numbers masked)."""
    text = str(getattr(exc, "message", None) or exc)
    text = re.sub(r"\"[^\"]*\"|'[^']*'|`[^`]*`", "?", text)
    text = re.sub(r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|\d+", "#", text)
    return f"{type(exc).__name__}|{getattr(exc, 'code', '') or ''}|{text[:200]}"


@dataclass
class ConsumerConfig:
    bootstrap: str
    topic: str
    dlq_topic: str
    group_id: str
    batch_size: int = 1000
    poll_timeout_s: float = 0.5  # how long an idle consumer blocks for the first message
    fill_s: float = 0.02  # after the first message, how long to wait for more to fill the batch
    session_timeout_ms: int = 10_000
    heartbeat_ms: int = 1_000
    # librdkafka's default is 500 ms. Kafka answers a waiting fetch as soon as data arrives, but the embedded
    # Tansu broker holds it the whole time, which put ~150 ms (up to 500) on every event's latency there.
    # Under load fetches return full at once, so a short wait costs nothing; idle, it is ~100 empty fetches/s.
    fetch_wait_ms: int = 10
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 15.0
    extra: dict[str, Any] = field(default_factory=dict)

    def kafka_config(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": self.session_timeout_ms,
            "heartbeat.interval.ms": self.heartbeat_ms,
            "fetch.wait.max.ms": self.fetch_wait_ms,
            "max.poll.interval.ms": 300_000,
            "enable.partition.eof": True,  # the caught-up signal for the watermark (never broker lag)
            **self.extra,
        }


class IngestConsumer:
    """One member of the ingest consumer group. `run(stop)` loops until `stop` is set."""

    def __init__(
        self,
        config: ConsumerConfig,
        store: EventStore,
        dlq: AckProducer,
        *,
        clock: Clock | None = None,
        on_batch: BatchHook | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.dlq = dlq
        self.clock = clock or SystemClock()
        self.on_batch = on_batch
        self.stats = ConsumerStats()
        self._systemic: str | None = None  # the signature while every write fails the same way
        self._last_rejected: str | None = None  # signature of the last dead-lettered event, until a success
        self._consumer = Consumer(config.kafka_config())
        self._progress = ProgressTracker()
        self._progress_writer = ProgressWriter(store.driver, store.database, config.group_id, config.topic)
        # Progress marks are written by one background thread, in order, after their batch committed: the next
        # batch does not wait for that small transaction (a crash before it lands only holds timers longer).
        self._progress_out = ThreadPoolExecutor(max_workers=1, thread_name_prefix="progress")
        self._partitions: int | None = None
        self._last_idle: tuple[int, tuple[int, ...]] | None = None
        self._consumer.subscribe([config.topic], on_assign=self._on_rebalance, on_revoke=self._on_rebalance,
                                 on_lost=self._on_rebalance)

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop`: while batch N is written, batch N+1 is consumed and decoded in a worker.

        Kafka calls stay on this thread; only pure decoding (and the graph-independent planning) runs in the
        worker, and it starts when batch N's transaction sends its writes: the reads and the planning before
        them are Python on this thread, which a busy worker would slow down (one GIL), while the writes and
        the commit are the graph server's time. A batch still in hand when stopping is not committed, so it
        is redelivered (and de-duplicated) next time.
        """
        log.info("consuming %s as group %s", self.config.topic, self.config.group_id)
        pending: _Fetched | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode") as decoder:
            try:
                while not stop.is_set():
                    polled_at = self.clock.now_ms()
                    writing = threading.Event()  # set when `pending` sends its writes (or is done)
                    if pending is None:
                        writing.set()
                    # With a batch in hand, take only what is already buffered: the batch is written now.
                    fetched = self._fetch(decoder, 0.0 if pending else self.config.poll_timeout_s, writing)
                    try:
                        if pending is not None and not self._finish(pending, stop, writing.set):
                            break
                    finally:
                        writing.set()
                    self._report_progress(pending, fetched, polled_at)
                    pending = fetched
            finally:
                self.close()

    def close(self) -> None:
        """Write the progress marks still queued, leave the group and flush the dead-letter producer; safe to
        call twice."""
        self._progress_out.shutdown(wait=True)
        with contextlib.suppress(KafkaException, RuntimeError):
            self._consumer.close()
        self.dlq.close()

    def _fetch(self, decoder: ThreadPoolExecutor, wait_s: float, start: threading.Event) -> _Fetched | None:
        """The next batch: what the client has buffered (up to `batch_size`); if none, block up to `wait_s`
        for the first message and up to `fill_s` more for the rest. A batch never waits to be full, so an event's
        latency under a light stream is its own write, not a batch timeout. Its decoding starts once `start` is set
        (at the latest after `DECODE_GATE_S`)."""
        size = self.config.batch_size
        raw = self._consumer.consume(size, 0)
        if not raw and wait_s > 0:
            raw = self._consumer.consume(1, wait_s)
            if raw and size > 1:
                raw += self._consumer.consume(size - 1, self.config.fill_s)
        messages = [m for m in raw if not self._end_of_partition(m) and self._usable(m)]
        if not messages:
            return None
        return _Fetched(messages, decoder.submit(self._decode_when, start, messages))

    def _finish(self, fetched: _Fetched, stop: threading.Event, writing: Callable[[], None] | None = None) -> bool:
        """Write and commit a fetched batch (`writing()` is called when its transaction sends its writes); False
        if asked to stop while the graph was down."""
        decoded = fetched.decoded.result()
        started, dead = time.perf_counter(), self.stats.dead_lettered
        if not self._with_graph_retry(stop, lambda: self._write(decoded, writing)):
            return False
        self._commit(fetched.messages)
        observe_batch(len(fetched.messages), time.perf_counter() - started, self.stats.dead_lettered - dead)
        self.stats.batches += 1
        self.stats.consumed += len(fetched.messages)
        return True

    @staticmethod
    def _usable(msg: Message) -> bool:
        err = msg.error()
        if err is None:
            return True
        if not err.retriable() and err.fatal():
            raise KafkaException(err)
        log.warning("consumer error: %s", err)
        return False

    def _decode_when(self, start: threading.Event, messages: list[Message]) -> _Decoded:
        """The decode worker's job: wait for `start` (the previous batch's writes were sent), then decode."""
        start.wait(DECODE_GATE_S)
        return self._decode(messages)

    def _decode(self, messages: list[Message]) -> _Decoded:
        out = _Decoded()
        for msg in messages:
            ts_type, ts = msg.timestamp()
            received = ts if ts_type and ts > 0 else self.clock.now_ms()
            try:
                event = decode(msg.value(), received_at_ms=received)
            except PermanentError as exc:
                out.dead.append(dead_letter(msg, exc, dlq_topic=self.config.dlq_topic, now_ms=self.clock.now_ms()))
                continue
            except Exception as exc:  # never let one odd payload stop the consumer
                log.exception("decoding message at offset %s failed", msg.offset())
                err = PermanentError(f"processing failed: {type(exc).__name__}: {exc}", reason="processing_error")
                out.dead.append(dead_letter(msg, err, dlq_topic=self.config.dlq_topic, now_ms=self.clock.now_ms()))
                continue
            out.pairs.append((msg, event))
            if event.messageId not in out.props:  # a repeat inside the batch is dropped: the first one is written
                out.props[event.messageId] = event_props(event)
        try:  # planning that needs no graph state, done here (under the previous batch's write), not in the tx
            out.prepared = self.store.prepare([ev for _, ev in out.pairs], out.props)
        except Exception:  # the store prepares again inside the write, where a failure is isolated per event
            log.exception("preparing a batch of %d events failed", len(out.pairs))
        return out

    def status(self) -> dict[str, Any]:
        """What `/health` shows about this consumer."""
        s = self.stats
        return {"state": s.state, "paused": s.paused_now, "reason": s.paused_reason, "batches": s.batches,
                "consumed": s.consumed, "written": s.written, "deadLettered": s.dead_lettered,
                "graphRetries": s.graph_retries, "systemicFailures": s.systemic_failures, "lastError": s.last_error}

    def _write(self, batch: _Decoded, writing: Callable[[], None] | None = None) -> None:
        """Write the batch; a graph-rejected event is isolated by bisection and dead-lettered, unless every
        event fails the same way (systemic: raise, so the consumer pauses and retries). `writing` is handed to
        the store (called when a transaction sends its writes)."""
        plans: list[tuple[list[AnyEvent], BatchPlan]] = []
        failed: list[tuple[Message, AnyEvent, Exception]] = []
        if self._systemic is not None and batch.pairs:
            self._write_whole_while_systemic(batch, plans, writing)
        if not plans:
            self._write_isolating(batch.pairs, plans, failed, batch.props, batch.prepared, writing)
        self._check_systemic(batch.pairs, plans, failed)
        rejected = [self._rejection(msg, ev, exc) for msg, ev, exc in failed]
        if batch.dead or rejected:
            self.dlq.send_all_sync(batch.dead + rejected)
            self.stats.dead_lettered += len(batch.dead) + len(rejected)
        for chunk, plan in plans:
            self.stats.written += len(plan.result.written)
            self.stats.duplicates += len(plan.result.duplicates)
            self.stats.tombstoned += len(plan.result.tombstoned)
            if self.on_batch is not None:
                self.on_batch(chunk, plan)

    def _write_whole_while_systemic(self, batch: _Decoded, plans: list[tuple[list[AnyEvent], BatchPlan]],
                                    writing: Callable[[], None] | None = None) -> None:
        """While systemic, retry the whole batch first: the same failure again stays systemic (no bisection)."""
        chunk = [ev for _, ev in batch.pairs]
        try:
            plans.append((chunk, self.store.write_plan(chunk, batch.props, prepared=batch.prepared,
                                                       writing=writing)))
        except Exception as exc:
            if isinstance(exc, (*UNAVAILABLE, RetryableError)):
                raise
            signature = error_signature(exc)
            if signature == self._systemic:
                self.stats.systemic_failures += 1
                raise SystemicFailure(f"every write still fails: {type(exc).__name__}: {exc}"[:500],
                                      signature) from exc

    def _check_systemic(self, pairs: list[tuple[Message, AnyEvent]], plans: list[tuple[list[AnyEvent], BatchPlan]],
                        failed: list[tuple[Message, AnyEvent, Exception]]) -> None:
        """Raise SystemicFailure when every event failed with one signature (two or more events, or a lone
        one failing like the previous rejected event with no success since); else remember the outcome."""
        if plans:
            self._systemic = self._last_rejected = None
        if not failed:
            return
        signatures = {error_signature(exc) for _, _, exc in failed}
        signature = next(iter(signatures))
        lone_repeat = len(failed) == 1 and signature == self._last_rejected
        if not plans and len(signatures) == 1 and (len(failed) > 1 or lone_repeat):
            self._systemic = signature
            self.stats.systemic_failures += 1
            exc = failed[0][2]
            log.error("every event of a batch of %d failed with the same error; pausing the consumer instead of "
                      "dead-lettering: %s: %s", len(pairs), type(exc).__name__, exc)
            raise SystemicFailure(f"every event fails: {type(exc).__name__}: {exc}"[:500], signature) from exc
        self._last_rejected = None if plans else signature

    def _rejection(self, msg: Message, ev: AnyEvent, exc: Exception) -> OutgoingMessage:
        if isinstance(exc, ClientError | DatabaseError):
            err = PermanentError(f"the graph rejected this event: {exc.message or exc}", reason="graph_rejected")
        else:
            log.error("processing event %s failed; dead-lettering it: %s: %s", ev.messageId, type(exc).__name__, exc)
            err = PermanentError(f"processing failed: {type(exc).__name__}: {exc}", reason="processing_error")
        return dead_letter(msg, err, dlq_topic=self.config.dlq_topic, now_ms=self.clock.now_ms())

    def _write_isolating(self, pairs: list[tuple[Message, AnyEvent]],
                         plans: list[tuple[list[AnyEvent], BatchPlan]],
                         failed: list[tuple[Message, AnyEvent, Exception]],
                         props: dict[str, dict[str, Any]], prepared: PreparedBatch | None = None,
                         writing: Callable[[], None] | None = None) -> None:
        """Write `pairs` (`prepared`: their precomputed plan part, for the whole batch only)."""
        if not pairs:
            return
        chunk = [ev for _, ev in pairs]
        try:
            plans.append((chunk, self.store.write_plan(chunk, props, prepared=prepared, writing=writing)))
        except Exception as exc:
            # Retryable trouble (graph away, conflicts, broker) goes up to the back-off loop. Anything
            # else failed the same way on every try: find the event that causes it (bisection); it is
            # dead-lettered with the error unless every event fails alike (see _check_systemic).
            if isinstance(exc, (*UNAVAILABLE, RetryableError)):
                raise
            if is_unavailable(exc):  # a stale connection after a graph restart: the data is not at fault
                raise RetryableError(f"graph connection failed: {exc}", reason="graph") from exc
            if len(pairs) == 1:
                failed.append((pairs[0][0], chunk[0], exc))
                return
            mid = len(pairs) // 2
            self._write_isolating(pairs[:mid], plans, failed, props, writing=writing)
            self._write_isolating(pairs[mid:], plans, failed, props, writing=writing)

    def _with_graph_retry(self, stop: threading.Event, action: Callable[[], None]) -> bool:
        """Run `action`; while the graph (or DLQ broker) is unavailable pause, back off and retry."""
        delay = self.config.backoff_initial_s
        paused: list[TopicPartition] = []
        try:
            while True:
                try:
                    action()
                    return True
                except (*UNAVAILABLE, RetryableError) as exc:
                    if isinstance(exc, JourneysError) and not exc.retryable:
                        raise
                    self.stats.graph_retries += 1
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    systemic = isinstance(exc, SystemicFailure)
                    self.stats.state = "paused_systemic" if systemic else "paused_graph"
                    self.stats.paused_reason = (f"every write fails: {exc}" if systemic
                                                else f"graph unavailable: {type(exc).__name__}")[:500]
                    log.warning("%s; pausing partitions, retry in %.1fs", self.stats.paused_reason, delay)
                    paused = self._pause()
                    if self._idle(stop, delay):
                        return False
                    delay = min(delay * 2, self.config.backoff_max_s)
        finally:
            if paused:
                self._consumer.resume(self._consumer.assignment())
                self.stats.paused_now = False
            self.stats.state, self.stats.paused_reason = "running", ""

    def _pause(self) -> list[TopicPartition]:
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.pause(assignment)
            self.stats.paused_now = True
        return list(assignment)

    def _idle(self, stop: threading.Event, seconds: float) -> bool:
        """Keep the group membership alive while paused; True when asked to stop."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if stop.is_set():
                return True
            self._pause()
            self._rewind(self._consumer.consume(100, 0.1))
        return stop.is_set()

    def _rewind(self, messages: list[Message]) -> None:
        """Seek back to messages received while paused (a partition assigned mid-outage), losing none."""
        first: dict[tuple[str, int], int] = {}
        for m in messages:
            if m.error() is None:
                key = (m.topic() or "", m.partition() or 0)
                self._progress.saw(key[1], eof=False)  # re-read later: not caught up
                first[key] = min(first.get(key, m.offset() or 0), m.offset() or 0)
        for (topic, partition), offset in first.items():
            self._consumer.seek(TopicPartition(topic, partition, offset))

    # -- progress for the event-time watermark (app/journeys/watermark.py) ------------------------------
    def _on_rebalance(self, _consumer: Consumer, _partitions: list[TopicPartition]) -> None:
        self._progress.forget()  # a (re)assigned partition is caught up only after its next end signal

    def _end_of_partition(self, msg: Message) -> bool:
        """Track messages and end-of-partition signals per partition; True for the signal (not a message)."""
        err = msg.error()
        eof = err is not None and err.code() == KafkaError._PARTITION_EOF
        if err is None or eof:
            self._progress.saw(msg.partition() or 0, eof=eof)
        return eof

    def _partition_count(self) -> int | None:
        if self._partitions is None:
            try:
                topic = self._consumer.list_topics(self.config.topic, timeout=5).topics.get(self.config.topic)
                if topic is not None and topic.error is None and topic.partitions:
                    self._partitions = len(topic.partitions)
            except KafkaException as exc:
                log.warning("no partition count for %s yet: %s", self.config.topic, exc)
        return self._partitions

    def _report_progress(self, done: _Fetched | None, fetched: _Fetched | None, polled_at: int) -> None:
        """After `done` was written: its newest event time per partition, and an idle mark (`polled_at`) for
        each assigned partition at its end with nothing in `fetched` (all fetched before it is applied).
        A failure here only holds timers longer: it is logged, never raised."""
        try:
            batch: dict[int, int] = {}
            if done is not None:
                decoded = done.decoded.result()
                batch = ProgressTracker.batch_rows(
                    ((m.partition() or 0, int(decoded.props[ev.messageId]["timestampMs"])) for m, ev in decoded.pairs),
                    self.clock.now_ms())
            busy = {m.partition() or 0 for m in fetched.messages} if fetched is not None else set()
            assigned = {tp.partition for tp in self._consumer.assignment() if tp.topic == self.config.topic}
            idle = tuple(sorted(p for p in self._progress.at_end if p in assigned and p not in busy))
            if not batch and (not idle or self._last_idle == (polled_at, idle)):
                return
            partitions = self._partition_count()
            if partitions is None:
                return
            rows = self._progress.rows(self._progress_writer.feed, batch, idle, polled_at)
            self._progress_out.submit(self._write_progress, partitions, rows, self.clock.now_ms())
            if idle:
                self._last_idle = (polled_at, idle)
        except Exception as exc:  # never stop ingest for the watermark: timers just hold a little longer
            log.warning("recording consumer progress failed: %s: %s", type(exc).__name__, exc)

    def _write_progress(self, partitions: int, rows: list[dict[str, Any]], now_ms: int) -> None:
        """The progress thread's work: one small transaction; a failure only holds timers longer."""
        try:
            self._progress_writer.write(partitions, rows, now_ms)
        except Exception as exc:
            log.warning("recording consumer progress failed: %s: %s", type(exc).__name__, exc)

    def _commit(self, messages: list[Message]) -> None:
        latest: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (m.topic() or "", m.partition() or 0)
            latest[key] = max(latest.get(key, -1), m.offset() or 0)
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in latest.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # e.g. a rebalance took the partition away: the new owner re-reads, and idempotent writes
            # make that harmless.
            log.warning("offset commit failed (%s); messages may be redelivered", exc)
