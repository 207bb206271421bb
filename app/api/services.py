"""What routes depend on: settings, the graph driver and the acknowledged producer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from app.clock import Clock, SystemClock
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

    def close(self) -> None:
        self.producer.close()
        self.driver.close()
