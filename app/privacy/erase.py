"""Erasing a person: their identities, events, sessions, enrollments (and visits), action requests,
decisions, deliveries (and delivery events), merge records, segment history and timer, and engine failures
on their events are deleted in one write transaction; their identity keys are tombstoned (hashed) so events
still in Kafka cannot re-create them; an AuditEntry keeps who asked, when, how much went and a hash of the
personId."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.decisions.people import find_person, parse_ref
from app.errors import PermanentError
from app.graph.queries import query, statements
from app.measurement.outbox import SHARDS
from app.privacy.tombstones import tombstone_key
from graph_models.principal import Principal
from graph_models.privacy import ErasureReport

COUNTED = ("events", "sessions", "enrollments", "actionRequests", "decisions", "deliveries", "merges",
           "segmentChanges")


class InvalidRef(PermanentError):
    """The person reference has no id."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="invalid_ref")


def subject_hash(person_id: str) -> str:
    """What the audit keeps of the person: a SHA-256 of the personId."""
    return "sha256:" + hashlib.sha256(person_id.encode("utf-8")).hexdigest()


def ref_identity_key(ref: str) -> str | None:
    """The identity key a userId/anonymousId reference names (None for `personId:`); InvalidRef if empty."""
    try:
        kind, value = parse_ref(ref)
    except ValueError as exc:
        raise InvalidRef(str(exc)) from exc
    return None if kind == "personId" else f"{kind}:{value}"


class PersonEraser:
    """Erases people (the driver is owned by the caller)."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()

    def erase(self, ref: str, principal: Principal, *, dry_run: bool = False) -> ErasureReport:
        """Erase the person `ref` points to (or, when there is none, tombstone the ref's identity so events
        still in Kafka cannot create them). Idempotent: erasing again finds nothing and changes nothing."""
        ref_key = ref_identity_key(ref)
        with self.driver.session(database=self.database) as session:
            if dry_run:
                return session.execute_read(self._footprint_report, ref, ref_key)
            return session.execute_write(self._erase, ref, ref_key, principal)

    def _footprint(self, tx: ManagedTransaction, ref: str) -> dict[str, Any] | None:
        person_id = find_person(tx, ref)
        if person_id is None:
            return None
        record = tx.run(query("privacy/footprint"), personId=person_id).single()
        return None if record is None else record.data()

    def _footprint_report(self, tx: ManagedTransaction, ref: str, ref_key: str | None) -> ErasureReport:
        found = self._footprint(tx, ref)
        if found is None:
            return ErasureReport(ref=ref, found=False, dryRun=True, tombstones=int(ref_key is not None))
        keys = set(found["keys"]) | ({ref_key} if ref_key else set())
        return ErasureReport(ref=ref, found=True, dryRun=True, subjectHash=subject_hash(found["personId"]),
                             tombstones=len(keys), removed=_removed(found))

    def _erase(self, tx: ManagedTransaction, ref: str, ref_key: str | None, principal: Principal) -> ErasureReport:
        now = self.clock.now_ms()
        audit_id = str(uuid.uuid4())
        found = self._footprint(tx, ref)
        keys = set(found["keys"]) if found else set()
        if ref_key:
            keys.add(ref_key)
        tx.run(query("privacy/write_tombstones"),
               rows=[{"key": tombstone_key(k), "atMs": now, "auditId": audit_id} for k in sorted(keys)]).consume()
        removed = _removed(found) if found else {}
        if found:
            for stmt in statements("privacy/erase_person"):
                tx.run(stmt, personId=found["personId"]).consume()
            needles = [found["personId"], *(k.partition(":")[2] for k in found["keys"])]
            removed["measurementRecords"] = _scrub_outbox(tx, needles)
        hashed = subject_hash(found["personId"]) if found else None
        tx.run(query("privacy/write_audit"), auditId=audit_id, action="person.erase", principal=principal.name,
               role=principal.role, atMs=now, subjectHash=hashed,
               detail=json.dumps({"found": found is not None, "tombstones": len(keys), "removed": removed},
                                 sort_keys=True)).consume()
        return ErasureReport(ref=ref, found=found is not None, auditId=audit_id, subjectHash=hashed,
                             tombstones=len(keys), removed=removed)

    def audit(self, limit: int = 50) -> list[dict[str, Any]]:
        """The erasure audit log, newest first."""
        with self.driver.session(database=self.database) as session:
            return session.execute_read(
                lambda tx: [r.data() for r in tx.run(query("privacy/audit_entries"), limit=limit)])


def _scrub_outbox(tx: ManagedTransaction, needles: list[str]) -> int:
    """Take the person's records out of the pending measurement outbox (not yet relayed to Kafka)."""
    dropped = 0
    for row in list(tx.run(query("privacy/outbox_mentions"), shards=list(range(SHARDS)), needles=needles)):
        records = json.loads(row["records"])
        kept = [r for r in records if not any(n in json.dumps(r, default=str) for n in needles)]
        dropped += len(records) - len(kept)
        if kept:
            tx.run(query("privacy/outbox_rewrite"), batchId=row["batchId"], count=len(kept),
                   records=json.dumps(kept, sort_keys=True, default=str, separators=(",", ":"))).consume()
        else:
            tx.run(query("privacy/outbox_delete"), batchId=row["batchId"]).consume()
    return dropped


def _removed(found: dict[str, Any]) -> dict[str, int]:
    return {"identities": len(found["keys"]), **{k: int(found[k]) for k in COUNTED}}
