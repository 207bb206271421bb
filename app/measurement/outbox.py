"""The measurement outbox: records made by a transaction are written by that transaction as ONE
`(:MeasurementBatch)` node; the relay (`app/measurement/relay.py`) publishes them to Kafka afterwards.

- `engine_records(...)`: the entries, step visits and decisions of one engine unit of work;
- `attempt_records(...)`: a delivery attempt (and the delivery's outcome when it ended: sent or dead);
- `outcome_record(...)`: a delivery outcome (a provider callback event, expiry, ...);
- `write_records(tx, records, now_ms)`: the one outbox write (nothing when there are no records).
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from neo4j import ManagedTransaction

from app.graph.params import Text
from app.graph.queries import query
from app.journeys.engine import Effects
from app.journeys.resolver import ActionOutcome
from graph_models.measurements import (
    BaseRecord,
    DecisionRecord,
    DeliveryAttemptRecord,
    DeliveryOutcomeRecord,
    EntryRecord,
    VisitRecord,
    record_id,
)

SHARDS = 64  # MeasurementBatch.shard is 0..63; the relay looks each up by equality


def shard_of(batch_id: str) -> int:
    return zlib.crc32(batch_id.encode()) % SHARDS


def write_records(tx: ManagedTransaction, records: Sequence[BaseRecord | Mapping[str, Any]], now_ms: int) -> str | None:
    """Write `records` as one outbox batch in `tx`; the batch id, or None when there was nothing to write."""
    params = batch_params(records, now_ms)
    if params is None:
        return None
    tx.run(query("measurement/write_batch"), **params).consume()
    return str(params["batchId"])


def batch_params(records: Sequence[BaseRecord | Mapping[str, Any]], now_ms: int) -> dict[str, Any] | None:
    """The parameters of `measurement/write_batch` for `records` (None: nothing to write)."""
    if not records:
        return None
    # The engine's rows are plain dicts already (written as they are); models and other mappings are converted.
    values = [r if type(r) is dict else r.to_json() if isinstance(r, BaseRecord) else dict(r) for r in records]
    batch_id = str(uuid.uuid4())
    text = Text(orjson.dumps(values, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode())
    return {"batchId": batch_id, "shard": shard_of(batch_id), "createdAtMs": now_ms, "records": text,
            "count": len(values)}


def _delivery_id(action_id: str) -> str:
    from app.decisions.resolver import delivery_id  # the outbox id rule lives with the resolver

    return delivery_id(action_id)


def _template(model: type[BaseRecord], **required: Any) -> dict[str, Any]:
    return model(recordId="", atMs=0, **required).to_json()


# Every key of each engine record kind with its default, as `to_json()` gives it (schema, kind, Nones).
_ENTRY = _template(EntryRecord)
_VISIT = _template(VisitRecord, seq=0, path="")
_DECISION = _template(DecisionRecord, outcome="")


def _row(template: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    row = dict(template)
    row.update(values)
    return row


def engine_records(fx: Effects, outcomes: Mapping[str, ActionOutcome]) -> list[dict[str, Any]]:
    """Entry, visit and decision records of one engine unit of work (what `_Work.commit` writes), as the JSON
    objects of `EntryRecord`, `VisitRecord` and `DecisionRecord` (`to_json()`), built directly: the engine
    writes thousands per batch and the models' validation cost ~8% of its time (the equality is tested)."""
    out: list[dict[str, Any]] = []
    enrollments = fx.enrollments
    for enrollment_id, message_id in fx.entered_by:
        en = enrollments.get(enrollment_id)
        if en is None:
            continue
        out.append(_row(_ENTRY, {
            "recordId": record_id("entry", enrollment_id), "atMs": en.entered_at_ms, "personId": en.person_id,
            "messageId": message_id, "enrollmentId": enrollment_id, "journeyId": en.journey_id,
            "version": en.version}))
    for v in fx.visits:
        en = enrollments.get(v.enrollment_id)
        out.append(_row(_VISIT, {
            "recordId": record_id("visit", v.enrollment_id, v.seq), "atMs": v.at_ms,
            "personId": en.person_id if en else None, "messageId": v.trigger, "enrollmentId": v.enrollment_id,
            "journeyId": en.journey_id if en else None, "version": en.version if en else None,
            "stepId": v.step_id, "variant": en.variant if en else None, "seq": v.seq, "path": v.path,
            "detail": v.detail}))
    for a in fx.actions:
        o = outcomes.get(a.action_id)
        props = dict(o.props) if o is not None else {}
        status = o.status if o is not None else "error"
        decision = props.get("decisionId")
        out.append(_row(_DECISION, {
            "recordId": record_id("decision", a.action_id), "atMs": a.at_ms, "personId": a.person_id,
            "messageId": a.trigger, "enrollmentId": a.enrollment_id, "journeyId": a.journey_id,
            "version": a.version, "stepId": a.step_id, "variant": a.variant, "actionId": a.action_id,
            "decisionId": decision,
            "deliveryId": _delivery_id(a.action_id) if status == "chosen" and decision else None,
            "outcome": status, "reason": (o.reason if o is not None else "not decided") or "",
            "blockedBy": props.get("blockedBy"), "channel": props.get("channel") or a.channel,
            "template": props.get("template") or a.template, "deferUntilMs": o.defer_until_ms if o else None}))
    return out


def _ids(delivery: Mapping[str, Any]) -> dict[str, Any]:
    """The joining ids of a Delivery node's properties (its `payload` JSON has the enrollment and trigger)."""
    payload: Mapping[str, Any] = {}
    raw = delivery.get("payload")
    if isinstance(raw, str):
        try:
            loaded = json.loads(raw)
            payload = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            payload = {}
    def pick(key: str) -> Any:
        value = delivery.get(key)
        return value if value is not None else payload.get(key)

    return {"personId": pick("personId"), "deliveryId": pick("deliveryId"), "actionId": pick("actionId"),
            "decisionId": pick("decisionId"), "journeyId": pick("journeyId"), "version": pick("version"),
            "stepId": pick("stepId"), "variant": pick("variant"), "enrollmentId": payload.get("enrollmentId"),
            "messageId": payload.get("triggerMessageId")}


def attempt_records(delivery: Mapping[str, Any], attempt: Mapping[str, Any], status: str | None = None,
                    reason: str | None = None) -> list[BaseRecord]:
    """Records of one delivery attempt. `delivery`: the Delivery's properties (deliveryId, personId,
    journeyId, ..., payload); `attempt`: the DeliveryAttempt's (attemptId, n, atMs, adapter, statusCode,
    error, latencyMs, outcome). `status` (`sent` or `dead`) adds the delivery's outcome record."""
    ids = _ids(delivery)
    at = int(attempt["atMs"])
    out: list[BaseRecord] = [DeliveryAttemptRecord(
        recordId=record_id("delivery_attempt", attempt["attemptId"]), atMs=at, **ids,
        attemptId=str(attempt["attemptId"]), n=int(attempt.get("n") or 0), adapter=str(attempt.get("adapter") or ""),
        channel=delivery.get("channel"), outcome=attempt["outcome"], statusCode=attempt.get("statusCode"),
        error=str(attempt.get("error") or ""), latencyMs=attempt.get("latencyMs"))]
    if status is not None:
        out.append(outcome_record(delivery, status, at, reason=reason))
    return out


def attempt_measurements(deliveries: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
                         recorded: Mapping[str, str]) -> list[BaseRecord]:
    """The dispatcher's recording transaction: one attempt record per row (`rows[i]["attempt"]` of
    `deliveries[i]`, the claimed Delivery row) and an outcome record where the delivery became sent or dead."""
    out: list[BaseRecord] = []
    for delivery, row in zip(deliveries, rows, strict=True):
        status = recorded.get(str(row["deliveryId"]))
        out.extend(attempt_records(delivery, row["attempt"], status if status in ("sent", "dead") else None,
                                   reason=(row.get("props") or {}).get("deadReason")))
    return out


def measurement_rows_for_attempt(delivery: Mapping[str, Any], attempt: Mapping[str, Any],
                                 status: str | None = None, reason: str | None = None) -> list[dict[str, Any]]:
    """`attempt_records` as JSON rows (for a dispatcher that batches many attempts into one `write_records`)."""
    return [r.to_json() for r in attempt_records(delivery, attempt, status, reason)]


def outcome_record(delivery: Mapping[str, Any], status: str, at_ms: int, *, event_id: str | None = None,
                   reason: str | None = None, bounce: str | None = None,
                   data: Mapping[str, Any] | None = None) -> DeliveryOutcomeRecord:
    """A delivery outcome: `sent`, `dead`, `expired`, or a provider event (`delivered`, `opened`, ...)."""
    return DeliveryOutcomeRecord(
        recordId=record_id("delivery_outcome", delivery.get("deliveryId"), event_id or status), atMs=at_ms,
        **_ids(delivery), status=status, channel=delivery.get("channel"), eventId=event_id, reason=reason,
        bounce="hard" if bounce == "hard" else "soft" if bounce == "soft" else None,
        data=dict(data) if data else None)


def flatten(batches: Iterable[str]) -> list[dict[str, Any]]:
    """The records of stored batches (their `records` JSON), in order."""
    out: list[dict[str, Any]] = []
    for raw in batches:
        loaded = json.loads(raw)
        if isinstance(loaded, list):
            out.extend(r for r in loaded if isinstance(r, dict))
    return out
