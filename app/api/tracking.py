"""Segment HTTP Tracking API: /v1/track identify page screen group alias batch (and import).

Validates, stamps receivedAt, produces to `segment.events`, and answers only after the broker
acknowledged, so there is one path into the graph (the consumer).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError

from app.api.body import api_error, read_json
from app.api.deps import ServicesDep, basic_username, check_write_key
from app.api.responses import json_body, responses
from app.errors import RetryableError
from app.intake.normalize import AnyEvent, EventValidationError, encode, prepare, validate
from app.kafka import DeliveryFailed, OutgoingMessage
from graph_models.segment import (
    EVENT_TYPES,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Alias,
    BatchEnvelope,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    field_errors,
)

router = APIRouter(prefix="/v1", tags=["tracking"])
OK = {"success": True}
# Every status a tracking route answers (the fuzz test in tests/integration checks the spec says so).
STATUSES = responses(400, 401, 413, 500, 503)
CALL_MODELS: dict[str, type[BaseModel]] = {"track": Track, "identify": Identify, "page": Page, "screen": Screen,
                                           "group": Group, "alias": Alias}
_SERVER_FILLED = ("messageId", "timestamp", "receivedAt")  # filled in when missing (app.intake.normalize.prepare)


def call_schema(kind: str, *, in_batch: bool = False) -> dict[str, Any]:
    """The JSON schema of one Segment call as sent, generated from its pydantic model (graph_models/segment.py):
    what the server fills in is optional, `userId` or `anonymousId` is required, and in a batch `type` is."""
    schema = CALL_MODELS[kind].model_json_schema(mode="validation")
    required = [f for f in schema.get("required", []) if f not in _SERVER_FILLED]
    if in_batch:
        required.insert(0, "type")
    else:
        schema["properties"]["writeKey"] = {"type": "string", "description": "write key, when not sent as the "
                                                                              "HTTP Basic username"}
    if "userId" not in required:
        schema["anyOf"] = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
    schema["required"] = required
    schema["description"] = f"A Segment `{kind}` call (Segment Spec); at most {MAX_EVENT_BYTES} bytes."
    return schema


def batch_schema() -> dict[str, Any]:
    """The JSON schema of `POST /v1/batch`: the envelope's model, each item one of the six calls."""
    schema = BatchEnvelope.model_json_schema(mode="validation")
    schema["properties"]["batch"]["items"] = {"oneOf": [call_schema(k, in_batch=True) for k in EVENT_TYPES]}
    schema["description"] = (f"A Segment batch: all events valid or none produced; at most {MAX_BATCH_BYTES} "
                             f"bytes after gunzip (`Content-Encoding: gzip` accepted).")
    return schema


def _message(model: AnyEvent, topic: str) -> OutgoingMessage:
    value = encode(model)
    if len(value) > MAX_EVENT_BYTES:
        raise api_error(413, f"event is {len(value)} bytes; the limit is {MAX_EVENT_BYTES}")
    return OutgoingMessage(topic=topic, key=model.partition_key, value=value,
                           headers=[("content-type", b"application/json"), ("source", b"http")])


def _invalid(exc: EventValidationError) -> Exception:
    return api_error(400, str(exc), field=exc.field, errors=[e.model_dump() for e in exc.errors])


async def _authorized_body(request: Request, services: ServicesDep, limit: int) -> dict[str, Any]:
    """The JSON body once the write key checks out: Basic auth is checked before reading the body,
    a `writeKey` in the body (what some SDKs send) after."""
    header_key = basic_username(request.headers.get("authorization"))
    if header_key is not None:
        check_write_key(header_key, services)
    data = await read_json(request, limit)
    if header_key is None:
        body_key = data.get("writeKey")
        check_write_key(body_key if isinstance(body_key, str) else None, services)
    return data


async def _produce(services: ServicesDep, messages: list[OutgoingMessage]) -> dict[str, bool]:
    """Produce and wait for the broker: 503 (retry) only when retrying can help; a permanent refusal is a
    413 (too large for the broker) or a 500 naming the topic (unknown, not authorised, bad config)."""
    try:
        await services.producer.send_all(messages)
    except DeliveryFailed as exc:
        raise api_error(exc.http_status, str(exc), field="", reason=exc.reason) from exc
    except RetryableError as exc:
        raise api_error(503, f"broker unavailable, retry later: {exc}", field="", reason=exc.reason,
                        headers={"Retry-After": "5"}) from exc
    return OK


def _single(kind: str) -> Any:
    async def endpoint(request: Request, services: ServicesDep) -> dict[str, bool]:
        data = await _authorized_body(request, services, MAX_EVENT_BYTES)
        try:
            model = validate(prepare(data, received_at_ms=services.clock.now_ms(),
                                     default_message_id=str(uuid.uuid4()), expected_type=kind))
        except EventValidationError as exc:
            raise _invalid(exc) from exc
        return await _produce(services, [_message(model, services.settings.events_topic)])

    endpoint.__name__ = f"post_{kind}"
    endpoint.__doc__ = f"Segment `{kind}` call."
    return endpoint


for _kind in EVENT_TYPES:
    router.add_api_route(f"/{_kind}", _single(_kind), methods=["POST"], name=_kind, responses=STATUSES,
                         openapi_extra=json_body(call_schema(_kind)))


@router.post("/batch", responses=STATUSES, openapi_extra=json_body(batch_schema()))
@router.post("/import", include_in_schema=False)
async def post_batch(request: Request, services: ServicesDep) -> dict[str, bool]:
    """Segment `batch` (what the SDKs send): all events valid or none produced."""
    data = await _authorized_body(request, services, MAX_BATCH_BYTES)
    try:
        envelope = BatchEnvelope.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise api_error(400, "; ".join(f"{e.field}: {e.message}" for e in errors[:5]), field=errors[0].field,
                        errors=[e.model_dump() for e in errors]) from exc
    now = services.clock.now_ms()
    defaults: dict[str, Any] = {"context": envelope.context, "integrations": envelope.integrations}
    if envelope.sentAt is not None:
        defaults["sentAt"] = envelope.sentAt.isoformat()
    messages: list[OutgoingMessage] = []
    problems: list[dict[str, str]] = []
    for i, item in enumerate(envelope.batch):
        prefix = f"batch.{i}"
        try:
            if not isinstance(item.get("type"), str) or item["type"] not in EVENT_TYPES:
                problems.append({"field": f"{prefix}.type", "message": f"must be one of {', '.join(EVENT_TYPES)}"})
                continue
            model = validate(prepare(item, received_at_ms=now, default_message_id=str(uuid.uuid4()),
                                     defaults=defaults, prefix=prefix), prefix=prefix)
        except EventValidationError as exc:
            problems += [e.model_dump() for e in exc.errors]
            continue
        messages.append(_message(model, services.settings.events_topic))
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        raise api_error(400, summary, field=problems[0]["field"], errors=problems)
    return await _produce(services, messages)
