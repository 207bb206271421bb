"""The dispatcher as a background service (`journeys up`, `journeys dispatch`): adapters built and validated
from settings at start, one dispatcher thread, closed in order at stop."""

from __future__ import annotations

import threading

from neo4j import Driver

from app.channels.adapter import Adapter
from app.channels.dispatcher import Dispatcher, start_dispatcher
from app.channels.registry import build_adapters, close_adapters
from app.clock import Clock, SystemClock
from app.settings import Settings


class DispatchService:
    """Build adapters (fails fast on bad adapter settings), run one Dispatcher in a thread until `stop`."""

    def __init__(self, settings: Settings, driver: Driver, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.adapters: dict[str, Adapter] = build_adapters(settings, self.clock)
        self.dispatcher = Dispatcher(driver, settings.neo4j_database, self.adapters, self.clock, settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = start_dispatcher(self.dispatcher, self._stop)

    def run(self, stop: threading.Event) -> None:
        """Run in the calling thread until `stop` is set, then close."""
        try:
            self.dispatcher.run(stop)
        finally:
            self._close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._close()

    def _close(self) -> None:
        self.dispatcher.close()
        close_adapters(self.adapters)

    def describe(self) -> str:
        """`channel -> adapter` pairs for banners."""
        return ", ".join(f"{ch}->{a.name}" for ch, a in sorted(self.adapters.items()))
