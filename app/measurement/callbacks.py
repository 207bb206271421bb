"""Delivery callbacks: a provider reports what happened to a sent message (`delivered`, `opened`, `clicked`,
`bounced`, `complained`, `unsubscribed`).

`CallbackStore.record` validates the event, and once per event id: turns `unsubscribed` (marketing-only) and
`complained` (every message) into an opt-out of the delivery's channel and a hard bounce into a suppression
(list `hard-bounces`), through `PersonStateStore` (source `callback`), so the very next decision sees them;
then writes `(:Delivery)-[:HAD_EVENT]->(:DeliveryEvent)`, `Delivery.lastEvent` and the outcome's measurement
record in one transaction (the delivery locked first, so two copies of a callback record one event).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.decisions.person_state import PersonStateStore
from app.errors import PermanentError
from app.graph.queries import query
from app.measurement.outbox import outcome_record, write_records
from app.metrics import CALLBACKS

log = logging.getLogger("journeys.callbacks")

EVENT_TYPES = ("delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")
BOUNCES = ("hard", "soft")
HARD_BOUNCE_LIST = "hard-bounces"
MAX_DATA_BYTES = 16_384


class InvalidCallback(PermanentError):
    """The callback body is malformed; `field` names what is wrong (HTTP 400)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, reason="invalid")
        self.field = field


class DeliveryNotFound(PermanentError):
    """No delivery has this id (HTTP 404)."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no delivery {delivery_id!r}", reason="not_found")


@dataclass(frozen=True)
class CallbackEvent:
    """A validated callback body."""

    type: str
    at_ms: int | None
    data: dict[str, Any]
    bounce: str | None
    event_id: str | None  # the provider's id, if it sent one


@dataclass(frozen=True)
class CallbackResult:
    deliveryId: str
    eventId: str
    type: str
    atMs: int
    duplicate: bool
    consent: str | None  # 'opted_out' when it became an opt-out
    suppressed: str | None  # the list id when it became a suppression


def parse_event(body: Any) -> CallbackEvent:
    """Validate a callback body: {type, atMs?, data?, bounce?, eventId?}."""
    if not isinstance(body, dict):
        raise InvalidCallback("the body must be a JSON object", field="body")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise InvalidCallback(f"type must be one of {', '.join(EVENT_TYPES)}", field="type")
    at = body.get("atMs")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int) or at < 0):
        raise InvalidCallback("atMs must be a non-negative integer (epoch milliseconds)", field="atMs")
    data = body.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidCallback("data must be a JSON object", field="data")
    if len(json.dumps(data, default=str)) > MAX_DATA_BYTES:
        raise InvalidCallback(f"data must be at most {MAX_DATA_BYTES} bytes of JSON", field="data")
    bounce = body.get("bounce")
    if bounce is not None and bounce not in BOUNCES:
        raise InvalidCallback("bounce must be hard or soft", field="bounce")
    if bounce is not None and kind != "bounced":
        raise InvalidCallback("bounce is only for type bounced", field="bounce")
    event_id = body.get("eventId")
    if event_id is not None and (not isinstance(event_id, str) or not 0 < len(event_id) <= 200):
        raise InvalidCallback("eventId must be a string of 1 to 200 characters", field="eventId")
    unknown = sorted(set(body) - {"type", "atMs", "data", "bounce", "eventId"})
    if unknown:
        raise InvalidCallback(f"unknown field {unknown[0]!r}", field=unknown[0])
    return CallbackEvent(kind, at, data, bounce if kind == "bounced" else None, event_id)


def event_id_for(delivery_id: str, event: CallbackEvent) -> str:
    """Stable per delivery: the provider's eventId if sent, else the content (type, atMs, bounce, data)."""
    basis = event.event_id or hashlib.sha256(json.dumps(
        [event.type, event.at_ms, event.bounce, event.data], sort_keys=True, default=str).encode()).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"journeys:delivery-event:{delivery_id}:{basis}"))


class CallbackStore:
    """Records delivery callbacks (see the module docstring)."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.people = PersonStateStore(driver, database, clock=self.clock)

    def _lock(self, tx: ManagedTransaction, delivery_id: str, event_id: str) -> tuple[dict[str, Any], bool]:
        record = tx.run(query("measurement/callback_lock"), deliveryId=delivery_id, eventId=event_id).single()
        if record is None:
            raise DeliveryNotFound(delivery_id)
        return dict(record["delivery"]), bool(record["seen"])

    def record(self, delivery_id: str, body: Any) -> CallbackResult:
        """Apply one callback (idempotent by event id)."""
        event = parse_event(body)
        eid = event_id_for(delivery_id, event)
        at = event.at_ms if event.at_ms is not None else self.clock.now_ms()
        with self.driver.session(database=self.database) as session:
            delivery, seen = session.execute_write(self._lock, delivery_id, eid)
        if seen:
            return CallbackResult(delivery_id, eid, event.type, at, True, None, None)
        consent, suppressed = self._person_state(delivery, event, at)

        def write(tx: ManagedTransaction) -> bool:
            current, again = self._lock(tx, delivery_id, eid)
            if again:
                return False
            props = {"eventId": eid, "type": event.type, "atMs": at, "deliveryId": delivery_id,
                     "bounce": event.bounce, "providerEventId": event.event_id,
                     "data": json.dumps(event.data, sort_keys=True, default=str) if event.data else None,
                     "receivedAtMs": self.clock.now_ms()}
            tx.run(query("measurement/callback_write_event"), deliveryId=delivery_id, type=event.type, atMs=at,
                   props=props).consume()
            write_records(tx, [outcome_record(current, event.type, at, event_id=eid, bounce=event.bounce,
                                              reason=_reason(event), data=event.data)], self.clock.now_ms())
            return True

        with self.driver.session(database=self.database) as session:
            created = session.execute_write(write)
        if created:
            CALLBACKS.labels(event.type).inc()
            log.info("delivery callback %s recorded", event.type,
                     extra={"deliveryId": delivery_id, "decisionId": delivery.get("decisionId"),
                            "personId": delivery.get("personId")})
        return CallbackResult(delivery_id, eid, event.type, at, not created, consent, suppressed)

    def _person_state(self, delivery: Mapping[str, Any], event: CallbackEvent, at: int
                      ) -> tuple[str | None, str | None]:
        person, channel = delivery.get("personId"), delivery.get("channel")
        if not isinstance(person, str) or not isinstance(channel, str):
            return None, None
        ref = f"personId:{person}"
        if event.type in ("unsubscribed", "complained"):
            self.people.set_consent(ref, channel, "opted_out", marketing_only=event.type == "unsubscribed",
                                    source="callback", at_ms=at)
            return "opted_out", None
        if event.type == "bounced" and event.bounce == "hard":
            self.people.suppress(HARD_BOUNCE_LIST, [ref], f"hard bounce on {channel} (delivery "
                                 f"{delivery.get('deliveryId')})", source="callback", at_ms=at)
            return None, HARD_BOUNCE_LIST
        return None, None


def _reason(event: CallbackEvent) -> str | None:
    if event.type == "bounced":
        return f"{event.bounce or 'unknown'} bounce"
    return None
