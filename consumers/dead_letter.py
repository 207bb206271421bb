"""Dead-letter messages: the original bytes, key and headers, plus headers naming the error.

If the broker cannot take a dead letter for a while (timeouts, no leader), the producer raises
RetryableError and the consumer backs off and retries the batch. If it never will (the DLQ topic does not
exist, no write permission, the message is over the broker's size limit), it raises `app.kafka.DeliveryFailed`
(a PermanentError naming the topic and the cause): the consumer stops with that error instead of retrying
forever, and the batch's offsets stay uncommitted, so nothing is lost once the broker or config is fixed.
"""

from __future__ import annotations

from confluent_kafka import Message

from app.errors import JourneysError
from app.kafka import Headers, OutgoingMessage

DLQ_HEADER_PREFIX = "dlq."


def header_pairs(msg: Message) -> list[tuple[str, bytes]]:
    """A message's headers as (name, bytes) pairs, whichever shape the client returned."""
    raw = msg.headers() or []
    items = list(raw.items()) if isinstance(raw, dict) else list(raw)
    out: list[tuple[str, bytes]] = []
    for name, value in items:
        out.append((str(name), value if isinstance(value, bytes) else str(value or "").encode()))
    return out


def dead_letter(msg: Message, error: JourneysError, *, dlq_topic: str, now_ms: int) -> OutgoingMessage:
    """The message to put on the dead-letter topic for `msg`, which failed with `error`."""
    headers: Headers = list(header_pairs(msg))
    key = msg.key()
    field = getattr(error, "field", "")
    headers += [
        ("dlq.reason", error.reason.encode()),
        ("dlq.error", str(error).encode()[:4096]),
        ("dlq.field", field.encode()),
        ("dlq.retryable", b"true" if error.retryable else b"false"),
        ("dlq.source.topic", (msg.topic() or "").encode()),
        ("dlq.source.partition", str(msg.partition()).encode()),
        ("dlq.source.offset", str(msg.offset()).encode()),
        ("dlq.failedAtMs", str(now_ms).encode()),
    ]
    return OutgoingMessage(
        topic=dlq_topic,
        key=key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
        value=msg.value() or b"",
        headers=headers,
    )


def dlq_headers(msg: Message) -> dict[str, str]:
    """The `dlq.*` headers of a dead-lettered message as a dict (for tools and tests)."""
    return {
        k: v.decode("utf-8", "replace") for k, v in header_pairs(msg) if k.startswith(DLQ_HEADER_PREFIX)
    }
