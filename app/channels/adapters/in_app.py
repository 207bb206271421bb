"""In-app adapter: nothing leaves the process. A chosen in_app journey message is written by the resolver as a
Delivery with status `held` and `expiresAtMs` (decision time + the constraint set's `in_app_ttl`, default 7d);
/v1/next-action returns it and marks it `delivered` at pickup, and the dispatcher marks it `expired` after
`expiresAtMs`. The dispatcher never claims held deliveries; if one reaches `send` anyway (an in_app Delivery
left `pending`, or another channel mapped to `in_app`), the result is outcome `held`: leave the Delivery held
for pickup, count no failed attempt.
"""

from __future__ import annotations

from app.channels.adapter import OutboundMessage, SendResult

HELD_REASON = "held in the graph for pickup by /v1/next-action until it expires"


class InAppAdapter:
    """Holds every message for pickup: `send` answers outcome `held` and does no I/O."""

    name = "in_app"

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult("held", error=HELD_REASON)

    def close(self) -> None:
        return None
