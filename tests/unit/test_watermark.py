"""The watermark rule without servers: partition marks, the minimum, lateness, holding, the max hold."""

from __future__ import annotations

from typing import Any

from app.journeys.watermark import GraphWatermark, PartitionMark, ProgressTracker, WatermarkReading


def reading(*marks: tuple[int | None, int | None], partitions: int | None = None) -> WatermarkReading:
    found = [PartitionMark(i, m, idle, None) for i, (m, idle) in enumerate(marks)]
    return WatermarkReading("g/t", len(marks) if partitions is None else partitions, found)


class Fixed(GraphWatermark):
    def __init__(self, value: WatermarkReading, **kw: Any) -> None:
        super().__init__(None, "neo4j", "g/t", **kw)  # type: ignore[arg-type]
        self.value = value

    def read(self) -> WatermarkReading:
        return self.value


def test_the_slowest_partition_sets_the_watermark() -> None:
    r = reading((1000, 5000), (7000, None), (None, 3000))
    assert [m.mark_ms for m in r.marks] == [5000, 7000, 3000]
    assert r.event_time_ms == 3000
    assert r.idle_since() is None  # partition 1 was never seen caught up


def test_a_partition_that_never_reported_holds_everything() -> None:
    assert reading((1000, 5000), partitions=2).event_time_ms is None
    assert reading((None, None)).event_time_ms is None
    assert Fixed(reading((1000, 5000), partitions=2)).limit_ms(10_000) is None


def test_limit_is_min_of_now_and_watermark_minus_lateness() -> None:
    assert Fixed(reading((0, 9000)), lateness_ms=2000).limit_ms(10_000) == 7000
    assert Fixed(reading((0, 50_000)), lateness_ms=2000).limit_ms(10_000) == 10_000


def test_max_hold_fires_up_to_now_minus_the_hold() -> None:
    assert Fixed(reading((0, 1000)), lateness_ms=0, max_hold_ms=5000).limit_ms(100_000) == 95_000
    assert Fixed(reading((0, 1000), partitions=2), max_hold_ms=5000).limit_ms(100_000) == 95_000


def test_tracker_knows_which_partitions_are_at_their_end() -> None:
    t = ProgressTracker()
    t.saw(0, eof=False)
    t.saw(0, eof=True)
    t.saw(1, eof=True)
    t.saw(1, eof=False)  # a message after the end: not caught up any more
    assert t.at_end == {0}
    rows = t.rows("g/t", ProgressTracker.batch_rows([(1, 500), (1, 900), (2, 99_999)], now_ms=1000), [0], 700)
    assert rows == [{"key": "g/t/0", "partition": 0, "maxEventMs": None, "idleAtMs": 700},
                    {"key": "g/t/1", "partition": 1, "maxEventMs": 900, "idleAtMs": None},
                    {"key": "g/t/2", "partition": 2, "maxEventMs": 1000, "idleAtMs": None}]  # capped at now
    t.forget()
    assert t.at_end == set()
