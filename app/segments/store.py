"""SegmentStore: versioned segment definitions in the graph, their review lifecycle and audit trail.

As journeys and configuration documents: draft → in_review → approved → published → archived, approval by
someone other than the author, a `SegmentAudit` per change. (`ConfigStore` is built around its two
single-document kinds and their Constraint nodes, so segments, many ids of one kind whose head node is also
the membership target, follow `JourneyStore` instead.)

Graph: `(:Segment {segmentId, latestVersion, publishedKey, ...})-[:HAS_VERSION]->(:SegmentVersion {key:
'<id>@<n>', definition (canonical JSON), status, ...})-[:AUDITED]->(:SegmentAudit)`. Every change is one
managed transaction that first bumps `Segment.revision` (the lock) and checks statuses after it.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.journeys.store import Forbidden, LifecycleError, NotFound
from app.segments.definitions import (
    SegmentIssue,
    canonical_segment,
    checked_segment,
    segment_checksum,
    validate_segment,
)
from graph_models.principal import Principal, can, roles_for
from graph_models.segments import (
    SegmentAuditInfo,
    SegmentDefinition,
    SegmentDetail,
    SegmentSummary,
    SegmentVersionInfo,
)

NOT_ARCHIVED = ["draft", "in_review", "approved", "published"]
AUDIT_LIMIT = 50
WRITE_ATTEMPTS = 8
T = TypeVar("T")


class PublishedSegment(NamedTuple):
    """A live segment: what streaming, timers and batch evaluation apply."""

    segment_id: str
    key: str
    version: int
    checksum: str
    definition: SegmentDefinition


def segment_version_key(segment_id: str, version: int) -> str:
    return f"{segment_id}@{version}"


# Parsed definitions by checksum: content-addressed, safe to share between stores and threads.
_DEFINITIONS: dict[str, SegmentDefinition] = {}
_DEFINITIONS_LOCK = threading.Lock()
_DEFINITIONS_MAX = 256


def published_segments(tx: ManagedTransaction) -> list[PublishedSegment]:
    """Every published segment, inside the caller's transaction (definitions parsed once per checksum)."""
    out: list[PublishedSegment] = []
    for row in tx.run(query("segments/published")).data():
        digest = str(row["checksum"])
        definition = _DEFINITIONS.get(digest)
        if definition is None:
            found = tx.run(query("segments/store_definition"), key=row["key"]).single()
            if found is None or found["definition"] is None:
                continue
            definition = validate_segment(json.loads(found["definition"]), source=str(row["key"]))
            with _DEFINITIONS_LOCK:
                if len(_DEFINITIONS) >= _DEFINITIONS_MAX:
                    _DEFINITIONS.clear()
                _DEFINITIONS[digest] = definition
        out.append(PublishedSegment(str(row["segmentId"]), str(row["key"]), int(row["version"]), digest, definition))
    return out


class SegmentStore:
    """Segment definitions and their lifecycle in the graph (see module docstring)."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None, *,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.new_id = new_id

    # --- writes ----------------------------------------------------------------------------------------

    def push(self, definition: SegmentDefinition, principal: Principal) -> SegmentVersionInfo:
        """Store the definition as the segment's next version (a draft), unless it equals the latest version:
        that version comes back (`created` false). Lint errors refuse it (SegmentInvalid)."""
        _allow(principal, "push")
        warnings = checked_segment(definition)
        text, digest = canonical_segment(definition), segment_checksum(definition)
        self._write(lambda tx: tx.run(query("segments/store_ensure_segment"), segmentId=definition.id,
                                      atMs=self.clock.now_ms()).consume())
        return self._write(lambda tx: self._push(tx, definition, text, digest, principal, warnings))

    def _push(self, tx: ManagedTransaction, definition: SegmentDefinition, text: str, digest: str,
              principal: Principal, warnings: list[SegmentIssue]) -> SegmentVersionInfo:
        now = self.clock.now_ms()
        sid = definition.id
        unchanged = _same_as_latest(tx, tx.run(query("segments/store_latest"), segmentId=sid).single(), digest)
        if unchanged is not None:
            return unchanged
        head = tx.run(query("segments/store_lock"), segmentId=sid).single()
        if head is None:
            raise NotFound(f"no segment {sid!r}")
        unchanged = _same_as_latest(tx, head, digest)
        if unchanged is not None:
            return unchanged
        version = int(head["latestVersion"] or 0) + 1
        key = segment_version_key(sid, version)
        tx.run(query("segments/store_create_version"), segmentId=sid, key=key, version=version, checksum=digest,
               definition=text, name=definition.name, author=principal.name, atMs=now).consume()
        detail: dict[str, Any] = {"warnings": [str(w) for w in warnings]} if warnings else {}
        self._audit(tx, key, "push", principal, now, sid, version, digest, detail, int(head["revision"] or 0))
        created = _version(tx, key)
        assert created is not None
        return created.model_copy(update={"created": True})

    def submit(self, segment_id: str, version: int, principal: Principal) -> SegmentVersionInfo:
        """draft → in_review."""
        return self._change(segment_id, version, principal, "submit", ["draft"], "in_review",
                            lambda _v, now: {"submittedBy": principal.name, "submittedAtMs": now})

    def approve(self, segment_id: str, version: int, principal: Principal) -> SegmentVersionInfo:
        """in_review → approved, by someone other than the author."""

        def props(current: SegmentVersionInfo, now: int) -> dict[str, Any]:
            if current.author == principal.name:
                raise Forbidden(f"approval must come from a different principal than the author "
                                f"({principal.name!r} pushed {current.key})", reason="self_approval")
            return {"approvedBy": principal.name, "approvedAtMs": now}

        return self._change(segment_id, version, principal, "approve", ["in_review"], "approved", props)

    def publish(self, segment_id: str, version: int, principal: Principal) -> SegmentVersionInfo:
        """approved → published; the previous published version is archived. Streaming evaluation applies it
        from the next batch on; people already in the graph join by a batch evaluation (`SegmentEvaluator`)."""
        _allow(principal, "publish")

        def work(tx: ManagedTransaction) -> SegmentVersionInfo:
            now = self.clock.now_ms()
            seq = self._lock(tx, segment_id)
            info = self._transition(tx, segment_id, version, principal, "publish", ["approved"], "published",
                                    lambda _v, at: {"publishedBy": principal.name, "publishedAtMs": at},
                                    now=now, seq=seq + 1)
            for row in tx.run(query("segments/store_archive_others"), segmentId=segment_id, version=version,
                              atMs=now, principal=principal.name).data():
                self._audit(tx, row["key"], "archive", principal, now, segment_id, int(row["version"]),
                            row["checksum"], {"from": row["was"], "supersededBy": version}, seq)
            tx.run(query("segments/store_set_published"), segmentId=segment_id, key=info.key, version=version,
                   checksum=info.checksum, atMs=now).consume()
            return info

        return self._write(work)

    def archive(self, segment_id: str, version: int, principal: Principal) -> SegmentVersionInfo:
        """Any status but archived → archived; archiving the published version stops its evaluation (its
        members keep their IN_SEGMENT edges until a batch evaluation of a newer version)."""
        _allow(principal, "archive")

        def work(tx: ManagedTransaction) -> SegmentVersionInfo:
            seq = self._lock(tx, segment_id)
            info = self._transition(tx, segment_id, version, principal, "archive", NOT_ARCHIVED, "archived",
                                    lambda _v, at: {"archivedBy": principal.name, "archivedAtMs": at}, seq=seq)
            tx.run(query("segments/store_clear_published"), segmentId=segment_id, key=info.key).consume()
            return info

        return self._write(work)

    def record_evaluation(self, segment_id: str, version: int, principal: Principal, detail: dict[str, Any]
                          ) -> None:
        """An audit entry for a finished batch evaluation."""

        def work(tx: ManagedTransaction) -> None:
            seq = self._lock(tx, segment_id)
            key = segment_version_key(segment_id, version)
            self._audit(tx, key, "evaluate", principal, self.clock.now_ms(), segment_id, version, None, detail, seq)

        self._write(work)

    def _change(self, segment_id: str, version: int, principal: Principal, action: str, allowed: list[str],
                to: str, props: Callable[[SegmentVersionInfo, int], dict[str, Any]]) -> SegmentVersionInfo:
        _allow(principal, action)

        def work(tx: ManagedTransaction) -> SegmentVersionInfo:
            seq = self._lock(tx, segment_id)
            return self._transition(tx, segment_id, version, principal, action, allowed, to, props, seq=seq)

        return self._write(work)

    def _transition(self, tx: ManagedTransaction, segment_id: str, version: int, principal: Principal,
                    action: str, allowed: list[str], to: str,
                    props: Callable[[SegmentVersionInfo, int], dict[str, Any]], *, seq: int,
                    now: int | None = None) -> SegmentVersionInfo:
        now = self.clock.now_ms() if now is None else now
        key = segment_version_key(segment_id, version)
        current = _version(tx, key)
        if current is None:
            raise NotFound(f"segment {segment_id!r} has no version {version}")
        row = tx.run(query("segments/store_transition"), key=key, allowed=allowed, to=to, atMs=now,
                     props=props(current, now)).single()
        if row is None:
            need = " or ".join(allowed) if len(allowed) < 3 else "any status but archived"
            raise LifecycleError(f"cannot {action} {key}: it is {current.status}; {action} needs {need}")
        self._audit(tx, key, action, principal, now, segment_id, version, row["checksum"],
                    {"from": row["was"], "to": to}, seq)
        info = _version(tx, key)
        assert info is not None
        return info

    def _lock(self, tx: ManagedTransaction, segment_id: str) -> int:
        row = tx.run(query("segments/store_lock"), segmentId=segment_id).single()
        if row is None:
            raise NotFound(f"no segment {segment_id!r}")
        return int(row["revision"] or 0) * 10

    def _audit(self, tx: ManagedTransaction, key: str, action: str, principal: Principal, now: int,
               segment_id: str, version: int, digest: str | None, detail: dict[str, Any], seq: int) -> None:
        tx.run(query("segments/store_audit"), rows=[{
            "versionKey": key, "auditId": self.new_id(), "action": action, "principal": principal.name,
            "role": principal.role, "atMs": now, "segmentId": segment_id, "version": version, "checksum": digest,
            "detail": json.dumps(detail, sort_keys=True), "seq": seq}]).consume()

    def _write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """`work` in one managed write transaction; retried a bounded number of times on the constraint error
        of a concurrent MERGE of the same new head."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(work)
            except ConstraintError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    # --- reads -----------------------------------------------------------------------------------------

    def list_segments(self) -> list[SegmentSummary]:
        """Every segment with its latest and published versions and its member count."""
        records, _, _ = self.driver.execute_query(query("segments/store_segments"), database_=self.database)
        return [SegmentSummary.model_validate({**r.data(), "members": self.size(r["segmentId"])}) for r in records]

    def get(self, segment_id: str, audit_limit: int = AUDIT_LIMIT) -> SegmentDetail:
        """The segment, every version (oldest first) and its most recent audit entries (newest first)."""

        def read(tx: ManagedTransaction) -> SegmentDetail:
            head = tx.run(query("segments/store_segment"), segmentId=segment_id).single()
            if head is None:
                raise NotFound(f"no segment {segment_id!r}")
            versions = [SegmentVersionInfo.model_validate(r.data())
                        for r in tx.run(query("segments/store_versions"), segmentId=segment_id)]
            audit = [_audit_info(r.data()) for r in tx.run(query("segments/store_audit_entries"),
                                                            segmentId=segment_id, limit=audit_limit)]
            members = tx.run(query("segments/member_count"), segmentId=segment_id).single()
            return SegmentDetail.model_validate({**head.data(), "versions": versions, "audit": audit,
                                                 "members": int(members["members"]) if members else 0})

        with self.driver.session(database=self.database) as session:
            return session.execute_read(read)

    def version(self, segment_id: str, version: int) -> SegmentVersionInfo:
        with self.driver.session(database=self.database) as session:
            found = session.execute_read(_version, segment_version_key(segment_id, version))
        if found is None:
            raise NotFound(f"segment {segment_id!r} has no version {version}")
        return found

    def definition(self, segment_id: str, version: int | None = None) -> SegmentDefinition:
        """The definition of one version (default: the latest)."""
        if version is None:
            version = self.get(segment_id, audit_limit=0).latestVersion
        key = segment_version_key(segment_id, version)
        records, _, _ = self.driver.execute_query(query("segments/store_definition"), key=key,
                                                  database_=self.database)
        if not records or records[0]["definition"] is None:
            raise NotFound(f"segment {segment_id!r} has no version {version}")
        return validate_segment(json.loads(records[0]["definition"]), source=key)

    def size(self, segment_id: str) -> int:
        """How many people are in the segment now (IN_SEGMENT edges)."""
        records, _, _ = self.driver.execute_query(query("segments/member_count"), segmentId=segment_id,
                                                  database_=self.database)
        return int(records[0]["members"]) if records else 0

    def members(self, segment_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """People in the segment, longest-standing first."""
        records, _, _ = self.driver.execute_query(query("segments/members"), segmentId=segment_id, limit=limit,
                                                  database_=self.database)
        return [r.data() for r in records]


def _allow(principal: Principal, action: str) -> None:
    if not can(principal, action):
        raise Forbidden(f"{principal.name!r} ({principal.role}) may not {action}; that needs the role "
                        f"{' or '.join(roles_for(action))}")


def _version(tx: ManagedTransaction, key: str) -> SegmentVersionInfo | None:
    row = tx.run(query("segments/store_version"), key=key).single()
    return SegmentVersionInfo.model_validate(row.data()) if row is not None else None


def _same_as_latest(tx: ManagedTransaction, row: Any, digest: str) -> SegmentVersionInfo | None:
    if row is None or row["key"] is None or row["checksum"] != digest:
        return None
    return _version(tx, row["key"])


def _audit_info(row: dict[str, Any]) -> SegmentAuditInfo:
    detail = row.get("detail")
    try:
        parsed = json.loads(detail) if isinstance(detail, str) else {}
    except json.JSONDecodeError:
        parsed = {"raw": detail}
    return SegmentAuditInfo.model_validate({**row, "detail": parsed if isinstance(parsed, dict) else {}})
