"""Raw payload → validated Segment event, the same way on the HTTP path and in the consumer."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson
from pydantic import ValidationError

from app.clock import to_iso
from app.errors import InvalidEvent
from graph_models.segment import (
    MAX_EVENT_BYTES,
    Alias,
    FieldError,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    adjust_timestamp,
    field_errors,
    parse_event,
)

AnyEvent = Track | Identify | Page | Screen | Group | Alias


class EventValidationError(InvalidEvent):
    """Validation failed; `errors` lists every field problem."""

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0] if errors else FieldError(field="body", message="invalid")
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        super().__init__(summary, field=first.field)
        self.errors = errors


def content_message_id(raw: bytes) -> str:
    """A deterministic messageId for payloads that lack one, so redelivery stays idempotent."""
    return "sha256-" + hashlib.sha256(raw).hexdigest()[:32]


def prepare(
    data: Any,
    *,
    received_at_ms: int,
    default_message_id: str,
    expected_type: str | None = None,
    defaults: dict[str, Any] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """Fill what Segment fills (type, messageId, receivedAt, timestamp) without overriding the sender."""
    if not isinstance(data, dict):
        raise EventValidationError([FieldError(field=prefix or "body", message="must be a JSON object")])
    event = dict(data)
    for key, value in (defaults or {}).items():
        event.setdefault(key, value)
    if expected_type is not None:
        given = event.setdefault("type", expected_type)
        if given != expected_type:
            path = f"{prefix}.type" if prefix else "type"
            raise EventValidationError([FieldError(field=path, message=f"must be {expected_type!r} on this endpoint")])
    event.setdefault("messageId", default_message_id)
    event.setdefault("receivedAt", to_iso(received_at_ms))
    if event.get("timestamp") is None:
        if event.get("originalTimestamp") is not None:
            event["timestamp"] = event["originalTimestamp"]
        else:
            # No device time at all: receivedAt is server time, so there is no client skew to correct.
            # Recording it as originalTimestamp makes `validate` leave it alone (here and on re-validation).
            event["timestamp"] = event["originalTimestamp"] = event["receivedAt"]
    return event


def validate(event: dict[str, Any], *, prefix: str = "") -> AnyEvent:
    """Validate a prepared event and apply Segment's clock-skew correction once."""
    try:
        model = parse_event(event)
    except ValidationError as exc:
        raise EventValidationError(field_errors(exc, prefix)) from exc
    if model.originalTimestamp is None:
        try:
            corrected = adjust_timestamp(model.timestamp, model.sentAt, model.receivedAt)
        except OverflowError as exc:
            path = f"{prefix}.timestamp" if prefix else "timestamp"
            raise EventValidationError([FieldError(field=path, message="out of range after clock-skew "
                                                   "correction (check timestamp and sentAt)")]) from exc
        # The model was parsed just above and is nobody else's yet: set the two fields in place (a copy of
        # every event cost the consumer's decode thread more than the validation itself).
        model.originalTimestamp, model.timestamp = model.timestamp, corrected
    return model


def encode(model: AnyEvent) -> bytes:
    """The canonical JSON the HTTP path produces to Kafka."""
    return model.model_dump_json(exclude_none=True).encode()


def decode(raw: bytes | None, *, received_at_ms: int) -> AnyEvent:
    """Kafka message value → validated event; raises `EventValidationError` naming the field."""
    if raw is None:
        raise EventValidationError([FieldError(field="body", message="message has no value")])
    if len(raw) > MAX_EVENT_BYTES:
        raise EventValidationError(
            [FieldError(field="body", message=f"event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}")]
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventValidationError([FieldError(field="body", message=f"not valid JSON: {exc}")]) from exc
    # The content-derived id is only needed (and only hashed) when the payload has no messageId key.
    given = isinstance(data, dict) and "messageId" in data
    prepared = prepare(data, received_at_ms=received_at_ms,
                       default_message_id="" if given else content_message_id(raw))
    return validate(prepared)


def epoch_ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)
