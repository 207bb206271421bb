"""`POST /v1/deliveries/{id}/events`: provider callbacks about a sent message (app/measurement/callbacks.py).

Authenticated by an HMAC signature over the raw body (`X-Journeys-Signature: t=<unix>,v1=<hex>`, the
webhook adapter's scheme, with JOURNEYS_CALLBACKS_SECRET) or by a journey API key (`Authorization: Bearer`).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_bytes
from app.api.deps import ServicesDep, bearer_token, principal_for_key
from app.api.responses import json_body, responses
from app.api.services import Services
from app.channels.adapters.webhook import SIGNATURE_HEADER, verify_signature
from app.measurement.callbacks import BOUNCES, EVENT_TYPES, CallbackStore, DeliveryNotFound, InvalidCallback

router = APIRouter(prefix="/v1", tags=["deliveries"])
MAX_BODY = 64 * 1024

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": list(EVENT_TYPES)},
        "atMs": {"type": "integer", "minimum": 0, "description": "when it happened (default: received)"},
        "data": {"type": "object", "description": "provider details (url clicked, SMTP diagnostic, ...)"},
        "bounce": {"type": "string", "enum": list(BOUNCES), "description": "type bounced only"},
        "eventId": {"type": "string", "minLength": 1, "maxLength": 200,
                    "description": "the provider's event id (idempotency); default: derived from the content"},
    },
}


class CallbackOut(BaseModel):
    success: bool = True
    deliveryId: str
    eventId: str
    type: str
    atMs: int
    duplicate: bool
    consent: str | None = None
    suppressed: str | None = None


def authenticate(request: Request, raw: bytes, services: Services) -> str:
    """'signature' or 'api_key:<name>'; 401 otherwise."""
    header = request.headers.get(SIGNATURE_HEADER)
    secret = services.settings.callbacks_secret
    if header is not None:
        if secret and verify_signature(secret, header, raw, now=services.clock.now_ms() / 1000):
            return "signature"
        raise api_error(401, "invalid or expired signature" if secret else "signed callbacks are not configured "
                        "(JOURNEYS_CALLBACKS_SECRET)", field=SIGNATURE_HEADER)
    key = bearer_token(request.headers.get("authorization"))
    principal = principal_for_key(key, services.settings.api_keys) if key else None
    if principal is None:
        raise api_error(401, f"send {SIGNATURE_HEADER} (HMAC) or `Authorization: Bearer <API key>`",
                        field="authorization", headers={"WWW-Authenticate": "Bearer"})
    return f"api_key:{principal.name}"


@router.post("/deliveries/{delivery_id}/events", response_model=CallbackOut,
             responses=responses(400, 401, 404, 413, 503), openapi_extra=json_body(EVENT_SCHEMA))
async def delivery_event(delivery_id: str, request: Request, services: ServicesDep) -> CallbackOut:
    """Record a delivered/opened/clicked/bounced/complained/unsubscribed event (idempotent by event id);
    unsubscribed and complained opt the person out of the channel, a hard bounce suppresses them."""
    raw = await read_bytes(request, MAX_BODY)
    authenticate(request, raw, services)
    try:
        body = orjson.loads(raw)
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise api_error(400, f"body is not valid JSON: {exc}") from exc
    store = CallbackStore(services.driver, services.settings.neo4j_database, services.clock)
    try:
        result = await run_in_threadpool(store.record, delivery_id, body)
    except InvalidCallback as exc:
        raise api_error(400, str(exc), field=exc.field, reason="invalid") from exc
    except DeliveryNotFound as exc:
        raise api_error(404, str(exc), field="id", reason="not_found") from exc
    return CallbackOut(deliveryId=result.deliveryId, eventId=result.eventId, type=result.type, atMs=result.atMs,
                       duplicate=result.duplicate, consent=result.consent, suppressed=result.suppressed)
