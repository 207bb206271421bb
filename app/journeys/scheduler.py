"""Durable timers: due times live in the graph (`Enrollment.wakeAtMs`, indexed); an APScheduler job
fires whatever is due, in batches. A restart loses nothing: the next run picks up every due timer.

Timers follow the events: each tick fires only up to the ingest feed's event-time watermark
(`app/journeys/watermark.py`), so a timer never fires while events before its due time wait in Kafka.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from app.graph.driver import UNAVAILABLE
from app.journeys.runtime import JourneyRuntime
from app.journeys.watermark import Watermark
from app.segments.batch import SegmentEvaluator
from app.segments.membership import SegmentTimers
from app.segments.schedule import ScheduledSends
from app.segments.store import SegmentStore
from graph_models.principal import Principal
from graph_models.segments import EvaluationInfo

log = logging.getLogger("journeys.timers")
TIMER_PRINCIPAL = Principal(name="timer-service", role="admin")  # who the audit names for scheduled evaluations


class TimerService:
    """Runs `runtime.fire_due(watermark=...)` every `interval_s` seconds in a background thread.

    `watermark` is required: `GraphWatermark.from_settings(driver, settings)` in the service;
    `WallClock()` only where no consumer feeds the engine (benchmarks, tools).
    """

    def __init__(self, runtime: JourneyRuntime, interval_s: float = 1.0, batch: int = 500, *,
                 watermark: Watermark) -> None:
        self.runtime = runtime
        self.batch = batch
        self.watermark = watermark
        # Segment windows passing (app/segments): due SegmentTimers re-evaluate people, changes feed the engine.
        self.segments = SegmentTimers(runtime.driver, runtime.database, clock=runtime.clock, sink=runtime.apply_events)
        self.sends = ScheduledSends(runtime.driver, runtime.database, clock=runtime.clock, sink=runtime.apply_events)
        # Segments with `evaluate_every`: due batch evaluations, a few pages per tick (resumed from the cursor).
        self.evaluations = SegmentEvaluator(runtime.driver, runtime.database, clock=runtime.clock,
                                            sink=runtime.apply_events)
        self.scheduler = BackgroundScheduler(daemon=True)
        self.scheduler.add_job(self.tick, "interval", seconds=interval_s, id="fire-due-timers",
                               max_instances=1, coalesce=True)

    def tick(self) -> int:
        """Fire every timer due now and covered by the watermark (also callable directly, e.g. by tests)."""
        try:
            fired = self.segments.fire_due(limit=self.batch, watermark=self.watermark)
            fired += self.runtime.fire_due(limit=self.batch, watermark=self.watermark)
            fired += self.sends.run_due()  # scheduled sends to segments whose moment has come (throttled)
            # scheduled batch evaluations (people evaluated this tick; a finished run gets an audit entry)
            fired += self.evaluations.run_due(on_finished=self._evaluated)
        except UNAVAILABLE as exc:  # the graph is away: the timers stay due and fire on a later tick
            log.warning("timer tick skipped, graph unavailable: %s", exc)
            return 0
        if fired:
            log.info("fired %d due timers", fired)
        return fired

    def _evaluated(self, info: EvaluationInfo) -> None:
        SegmentStore(self.runtime.driver, self.runtime.database, self.runtime.clock).record_evaluation(
            info.segmentId, info.version, TIMER_PRINCIPAL,
            {"scanned": info.scanned, "entered": info.entered, "left": info.left, "scheduled": True})

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
