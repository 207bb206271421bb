"""The zero-configuration adapter: logs the message (ids only) and reports it sent.

The payload itself stays on the Delivery node in the graph, so `journeys up` delivers end to end with no
external service. A crash between send and record re-logs the message under the same idempotency key.
"""

from __future__ import annotations

import logging
import threading

from app.channels.adapter import OutboundMessage, SendResult

log = logging.getLogger("journeys.delivery.log")


class LogAdapter:
    """Records every message it is handed (log line plus an in-memory count for tests)."""

    name = "log"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[str] = []

    def send(self, message: OutboundMessage) -> SendResult:
        """Log the message's ids; always `sent`."""
        log.info("delivery %s channel=%s template=%s idempotencyKey=%s", message.delivery_id,
                 message.channel, message.template, message.idempotency_key)
        with self._lock:
            self.sent.append(message.idempotency_key)
        return SendResult("sent", status_code=None, provider_id=message.idempotency_key)

    def close(self) -> None:
        """Nothing to release."""
