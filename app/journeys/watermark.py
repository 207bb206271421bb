"""Event-time watermark: timers fire only once the events up to their due time have been applied.

The ingest consumer records its progress per partition in the graph, after each batch has committed
(`watermark/record_progress`): `maxEventMs`, the newest event time it applied from that partition, and
`idleAtMs`, the consumer's clock at a poll that found the partition at its end (caught up, everything
fetched before applied). A partition's mark is the larger of the two; the watermark is the smallest mark
over every partition of the topic, minus the allowed lateness. A partition that never reported, or a feed
whose consumers are all stopped, holds the watermark (and so the timers) where it is.

Lag is never computed from broker high-watermark offsets (Tansu reports them wrong); `idleAtMs` comes from
the client's own end-of-partition signal, after the messages before it were written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from neo4j import Driver

from app.graph.queries import query
from app.settings import Settings

log = logging.getLogger("journeys.watermark")


def feed_key(group: str, topic: str) -> str:
    """The key of one consumer group reading one topic (`IngestFeed.key`)."""
    return f"{group}/{topic}"


class Watermark(Protocol):
    """Where timers may fire up to."""

    def limit_ms(self, now_ms: int) -> int | None:
        """The latest due time that may fire at `now_ms` (None: hold every timer)."""
        ...


@dataclass(frozen=True)
class PartitionMark:
    partition: int
    max_event_ms: int | None
    idle_at_ms: int | None
    updated_at_ms: int | None

    @property
    def mark_ms(self) -> int | None:
        """Events up to this time from this partition have been applied (None: never reported)."""
        marks = [t for t in (self.max_event_ms, self.idle_at_ms) if t is not None]
        return max(marks) if marks else None


@dataclass(frozen=True)
class WatermarkReading:
    """What the graph says about one feed: every partition's mark, the smallest of them."""

    feed: str
    partitions: int
    marks: list[PartitionMark] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.partitions > 0 and len(self.marks) == self.partitions and all(
            m.mark_ms is not None for m in self.marks)

    @property
    def event_time_ms(self) -> int | None:
        """min over partitions of their marks (None until every partition has reported)."""
        if not self.complete:
            return None
        return min(m.mark_ms for m in self.marks if m.mark_ms is not None)

    def idle_since(self) -> int | None:
        """The oldest idle mark (None while a partition has none): every partition caught up by then."""
        if not self.complete or any(m.idle_at_ms is None for m in self.marks):
            return None
        return min(m.idle_at_ms for m in self.marks if m.idle_at_ms is not None)


class GraphWatermark:
    """The watermark of one ingest feed (consumer group + topic), read from the graph on each call."""

    def __init__(self, driver: Driver, database: str, feed: str, *, lateness_ms: int = 2000,
                 max_hold_ms: int | None = None) -> None:
        self.driver = driver
        self.database = database
        self.feed = feed
        self.lateness_ms = lateness_ms
        self.max_hold_ms = max_hold_ms

    @classmethod
    def from_settings(cls, driver: Driver, settings: Settings) -> GraphWatermark:
        hold = settings.watermark_max_hold_s
        return cls(driver, settings.neo4j_database, feed_key(settings.consumer_group, settings.events_topic),
                   lateness_ms=settings.watermark_lateness_ms,
                   max_hold_ms=int(hold * 1000) if hold is not None else None)

    def read(self) -> WatermarkReading:
        records = self.driver.execute_query(query("watermark/read"), feed=self.feed, database_=self.database).records
        if not records:
            return WatermarkReading(self.feed, 0)
        marks = [PartitionMark(int(r["partition"]), r["maxEventMs"], r["idleAtMs"], r["updatedAtMs"])
                 for r in records if r["reported"]]
        return WatermarkReading(self.feed, int(records[0]["partitions"]), marks)

    def limit_ms(self, now_ms: int) -> int | None:
        """min(now, watermark - lateness); with a maximum hold, never older than now - max hold."""
        reading = self.read()
        event_time = reading.event_time_ms
        limit = None if event_time is None else min(now_ms, event_time - self.lateness_ms)
        if self.max_hold_ms is not None:
            floor = now_ms - self.max_hold_ms
            if limit is None or limit < floor:
                log.warning("feed %s holds timers longer than the maximum hold (%d ms): firing up to now - max hold",
                            self.feed, self.max_hold_ms)
                limit = floor
        return limit


class WallClock:
    """No watermark: timers fire by the clock alone (tools and benchmarks that run no consumer)."""

    def limit_ms(self, now_ms: int) -> int | None:
        return now_ms


class ProgressTracker:
    """The consumer's side (pure bookkeeping): which partitions are at their end, the newest event time
    per partition of a written batch, and the rows `watermark/record_progress` takes."""

    def __init__(self) -> None:
        self.at_end: set[int] = set()

    def forget(self) -> None:
        """After a rebalance, a pause or a seek nothing is known to be caught up any more."""
        self.at_end.clear()

    def saw(self, partition: int, *, eof: bool) -> None:
        """A message (eof False) or an end-of-partition signal (eof True) from a partition, in order."""
        if eof:
            self.at_end.add(partition)
        else:
            self.at_end.discard(partition)

    @staticmethod
    def batch_rows(event_times: Iterable[tuple[int, int]], now_ms: int) -> dict[int, int]:
        """Newest event time per partition of an applied batch, never later than the consumer's now."""
        newest: dict[int, int] = {}
        for partition, ts in event_times:
            ts = min(ts, now_ms)
            newest[partition] = max(newest.get(partition, ts), ts)
        return newest

    def rows(self, feed: str, batch: dict[int, int], idle: Iterable[int], idle_at_ms: int) -> list[dict[str, Any]]:
        """One row per partition that advanced: `maxEventMs` from a batch, `idleAtMs` when caught up."""
        parts = sorted(set(batch) | set(idle))
        idle_set = set(idle)
        return [{"key": f"{feed}/{p}", "partition": p, "maxEventMs": batch.get(p),
                 "idleAtMs": idle_at_ms if p in idle_set else None} for p in parts]


class ProgressWriter:
    """Writes the consumer's progress for one feed (its own small transaction, after the batch commits)."""

    def __init__(self, driver: Driver, database: str, group: str, topic: str) -> None:
        self.driver = driver
        self.database = database
        self.group = group
        self.topic = topic
        self.feed = feed_key(group, topic)

        self._feed_partitions: int | None = None

    def write(self, partitions: int, rows: list[dict[str, Any]], now_ms: int) -> None:
        """Record the feed (once per partition count) and the partitions' new marks."""
        if self._feed_partitions != partitions:
            self.driver.execute_query(query("watermark/record_feed"), feed=self.feed, group=self.group,
                                      topic=self.topic, partitions=partitions, nowMs=now_ms,
                                      database_=self.database)
            self._feed_partitions = partitions
        if rows:
            self.driver.execute_query(query("watermark/record_progress"), feed=self.feed, rows=rows, nowMs=now_ms,
                                      database_=self.database)
