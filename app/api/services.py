"""What routes depend on: settings, the graph driver and the acknowledged producer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from app.clock import Clock, SystemClock
from app.decisions.onsite import OnsiteResolver
from app.kafka import AckProducer
from app.settings import Settings


@dataclass
class Services:
    settings: Settings
    driver: Driver
    producer: AckProducer
    bootstrap: str
    clock: Clock = SystemClock()  # noqa: RUF009 - stateless
    consumer_status: Callable[[], dict[str, Any]] | None = None  # the in-process consumer's, for /health
    # One onsite resolver per process: it keeps the published documents it last read, and each decision's
    # person load checks their stamps (a resolver per request would read both documents again every time).
    onsite: OnsiteResolver | None = None

    def onsite_resolver(self) -> OnsiteResolver:
        """The process's onsite resolver (made on first use)."""
        if self.onsite is None:
            self.onsite = OnsiteResolver(self.driver, self.settings.neo4j_database, self.clock)
        return self.onsite

    def close(self) -> None:
        self.producer.close()
        self.driver.close()
