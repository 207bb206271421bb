"""The adapter interface every channel adapter implements (issue 7 contract)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

# "held": the adapter keeps the message for pickup (in_app): leave the Delivery held, record no failure.
Outcome = Literal["sent", "retryable", "permanent", "held"]


@dataclass(frozen=True)
class OutboundMessage:
    """What an adapter sends: one Delivery, its payload and the recipient's reachable traits."""

    delivery_id: str
    idempotency_key: str
    channel: str
    template: str
    payload: Mapping[str, Any]    # the Delivery.payload JSON (ids, content, data)
    recipient: Mapping[str, Any] = field(default_factory=dict)  # traits (email, phone, ...) and personId


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send attempt; adapters return it instead of raising for delivery errors."""

    outcome: Outcome
    status_code: int | None = None
    error: str = ""
    provider_id: str | None = None
    retry_after_s: float | None = None  # the provider's Retry-After (retryable): wait at least this long


@runtime_checkable
class Adapter(Protocol):
    """A channel adapter: `send` never raises for delivery errors; `close` releases connections."""

    name: str  # 'webhook', 'smtp', 'kafka', 'in_app', 'log'

    def send(self, message: OutboundMessage) -> SendResult: ...

    def close(self) -> None: ...
