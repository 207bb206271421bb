"""Durable timers: due times live in the graph (`Enrollment.wakeAtMs`, indexed); an APScheduler job
fires whatever is due, in batches. A restart loses nothing: the next run picks up every due timer."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from app.graph.driver import UNAVAILABLE
from app.journeys.runtime import JourneyRuntime

log = logging.getLogger("journeys.timers")


class TimerService:
    """Runs `runtime.fire_due()` every `interval_s` seconds in a background thread."""

    def __init__(self, runtime: JourneyRuntime, interval_s: float = 1.0, batch: int = 500) -> None:
        self.runtime = runtime
        self.batch = batch
        self.scheduler = BackgroundScheduler(daemon=True)
        self.scheduler.add_job(self.tick, "interval", seconds=interval_s, id="fire-due-timers",
                               max_instances=1, coalesce=True)

    def tick(self) -> int:
        """Fire every due timer now (also callable directly, e.g. by tests)."""
        try:
            fired = self.runtime.fire_due(limit=self.batch)
        except UNAVAILABLE as exc:  # the graph is away: the timers stay due and fire on a later tick
            log.warning("timer tick skipped, graph unavailable: %s", exc)
            return 0
        if fired:
            log.info("fired %d due timers", fired)
        return fired

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
