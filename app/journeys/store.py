"""JourneyStore: versioned journey definitions in the graph, their review lifecycle, and its audit trail.

draft → in_review → approved → published ⇄ paused; any version not yet archived can be archived.
Publishing a version archives the journey's other live (published or paused) version and may migrate
people enrolled on it to the new version by a step mapping. Every change writes an AuditEntry.

Each operation is one managed transaction. Changes lock first (a write to the Journey's `revision`, then to
the JourneyVersion) and check the status after locking, so of two concurrent approvals only one wins and
of two concurrent publications the later archives the earlier. On Neo4j the first write takes the node's
lock; on ArcadeDB (optimistic transactions) the loser's commit conflicts and the driver retries it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.errors import PermanentError
from app.graph.queries import query
from app.journeys.catalog import TemplateCatalog, default_catalog
from app.journeys.loader import canonical_json, checked, checksum, parse_definition
from graph_models.journey import JourneyDefinition, successors
from graph_models.journey_store import LIVE_STATUSES, AuditInfo, JourneyDetail, JourneySummary, VersionInfo
from graph_models.principal import Principal, can, roles_for

NOT_ARCHIVED = ["draft", "in_review", "approved", "published", "paused"]
PUBLISHABLE = ["approved", "paused"]
AUDIT_LIMIT = 50


class LifecycleError(PermanentError):
    """The version is not in a status that allows this change (HTTP 409)."""

    def __init__(self, message: str, *, reason: str = "lifecycle") -> None:
        super().__init__(message, reason=reason)


class NotFound(PermanentError):
    """No such journey or version (HTTP 404)."""

    def __init__(self, message: str, *, reason: str = "not_found") -> None:
        super().__init__(message, reason=reason)


class Forbidden(PermanentError):
    """The principal may not do this (HTTP 403)."""

    def __init__(self, message: str, *, reason: str = "forbidden") -> None:
        super().__init__(message, reason=reason)


class InvalidMigration(PermanentError):
    """A publish step mapping that names steps missing from either version, or has nothing to migrate from
    (HTTP 400). Nothing is changed."""

    def __init__(self, message: str, *, reason: str = "invalid_migration") -> None:
        super().__init__(message, reason=reason)


def version_key(journey_id: str, version: int) -> str:
    return f"{journey_id}@{version}"


def step_key(journey_id: str, version: int, step_id: str) -> str:
    return f"{version_key(journey_id, version)}/{step_id}"


def new_uuid() -> str:
    return str(uuid.uuid4())


def step_rows(definition: JourneyDefinition, key: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Step nodes (config: the step's canonical JSON) and NEXT edges (by step key) of one version."""
    canonical = json.loads(canonical_json(definition))["steps"]
    steps = [
        {"key": f"{key}/{step.id}", "stepId": step.id, "type": step.type, "name": step.name,
         "config": json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)}
        for step, data in zip(definition.steps, canonical, strict=True)
    ]
    edges = [{"from": f"{key}/{step.id}", "to": f"{key}/{target}", "path": path}
             for step in definition.steps for path, target in successors(step)]
    return steps, edges


class JourneyStore:
    """Journey definitions and their lifecycle in the graph (see module docstring)."""

    def __init__(
        self,
        driver: Driver,
        database: str,
        clock: Clock | None = None,
        *,
        catalog: TemplateCatalog | None = None,
        new_id: Callable[[], str] = new_uuid,
    ) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.catalog = catalog if catalog is not None else default_catalog()
        self.new_id = new_id

    # --- writes ----------------------------------------------------------------------------------------

    def push(self, definition: JourneyDefinition, principal: Principal) -> VersionInfo:
        """Store `definition` as the journey's next version (a draft), unless it is the same as the latest
        version: then that version comes back unchanged (`created` false) and nothing is written."""
        _allow(principal, "push")
        definition = checked(definition, self.catalog)
        text = canonical_json(definition)
        digest = checksum(definition)
        with self.driver.session(database=self.database) as session:
            return session.execute_write(self._push, definition, text, digest, principal)

    def _push(self, tx: ManagedTransaction, definition: JourneyDefinition, text: str, digest: str,
              principal: Principal) -> VersionInfo:
        now = self.clock.now_ms()
        jid = definition.id
        unchanged = _same_as_latest(tx, tx.run(query("journeys/store_latest"), journeyId=jid).single(), digest)
        if unchanged is not None:  # the common re-push: nothing written, nothing locked
            return unchanged
        head = tx.run(query("journeys/store_lock_journey"), journeyId=jid, name=definition.name, atMs=now).single()
        assert head is not None  # MERGE always yields the journey
        unchanged = _same_as_latest(tx, head, digest)  # pushed by someone else meanwhile
        if unchanged is not None:
            return unchanged
        version = int(head["latestVersion"] or 0) + 1
        key = version_key(jid, version)
        tx.run(query("journeys/store_create_version"), journeyId=jid, version=version, key=key, name=definition.name,
               checksum=digest, definition=text, author=principal.name, atMs=now).consume()
        steps, edges = step_rows(definition, key)
        tx.run(query("journeys/store_create_steps"), key=key, steps=steps, journeyId=jid, version=version).consume()
        tx.run(query("journeys/store_link_steps"), key=key, startKey=f"{key}/{definition.start}",
               edges=edges).consume()
        self._audit(tx, [self._entry(key, "push", principal, now, jid, version, digest,
                                     {"steps": len(steps), "name": definition.name})])
        created = _version(tx, key)
        assert created is not None
        return created.model_copy(update={"created": True})

    def submit(self, journey_id: str, version: int, principal: Principal) -> VersionInfo:
        """draft → in_review."""
        return self._change(journey_id, version, principal, "submit", ["draft"], "in_review",
                            lambda _v, now: {"submittedBy": principal.name, "submittedAtMs": now})

    def approve(self, journey_id: str, version: int, principal: Principal, *,
                require_ack: bool = False) -> VersionInfo:
        """in_review → approved, by someone other than the author. `require_ack`: publishing then needs the
        version's recorded conflicts with the live journeys acknowledged (`publish(acknowledge_conflicts=True)`)."""

        def props(current: VersionInfo, now: int) -> dict[str, Any]:
            if current.author == principal.name:
                raise Forbidden("approval must come from a different principal than the author "
                                f"({principal.name!r} pushed {journey_id} v{version})", reason="self_approval")
            return {"approvedBy": principal.name, "approvedAtMs": now, "conflictAckRequired": require_ack}

        return self._change(journey_id, version, principal, "approve", ["in_review"], "approved", props)

    def archive(self, journey_id: str, version: int, principal: Principal) -> VersionInfo:
        """Any status but archived → archived (people enrolled on it keep going; nobody new enters)."""
        return self._change(journey_id, version, principal, "archive", NOT_ARCHIVED, "archived",
                            lambda _v, now: {"archivedBy": principal.name, "archivedAtMs": now})

    def pause(self, journey_id: str, principal: Principal) -> VersionInfo:
        """The journey's published version → paused."""
        _allow(principal, "pause")
        with self.driver.session(database=self.database) as session:
            return session.execute_write(self._pause, journey_id, principal)

    def _pause(self, tx: ManagedTransaction, journey_id: str, principal: Principal) -> VersionInfo:
        self._lock_journey(tx, journey_id)
        live = [r for r in tx.run(query("journeys/lifecycle_live_versions"), journeyId=journey_id)
                if r["status"] == "published"]
        if not live:
            raise LifecycleError(f"journey {journey_id!r} has no published version to pause")
        return self._transition(tx, journey_id, int(live[0]["version"]), principal, "pause", ["published"],
                                "paused", lambda _v, now: {"pausedBy": principal.name, "pausedAtMs": now})

    def publish(self, journey_id: str, version: int, principal: Principal,
                migrate: Mapping[str, str] | None = None, *, acknowledge_conflicts: bool = False) -> VersionInfo:
        """approved or paused → published. The journey's other live version (if any) is archived; with
        `migrate` ({old step id: new step id}), active enrollments on it at a mapped step move to this
        version (timers kept); the others stay on the old version. When the approver required it, the
        conflicts recorded at review must be acknowledged."""
        _allow(principal, "publish")
        with self.driver.session(database=self.database) as session:
            return session.execute_write(self._publish, journey_id, version, principal, dict(migrate or {}),
                                         acknowledge_conflicts)

    def migration_preview(self, journey_id: str, version: int, migrate: Mapping[str, str] | None = None
                          ) -> list[dict[str, Any]]:
        """What `publish` would do to the people in flight on the journey's other live version, changing
        nothing: per step, how many are there, a sample, and where they would go (`stays` on the old version
        when the mapping does not name their step)."""
        mapping = dict(migrate or {})
        records, _, _ = self.driver.execute_query(query("journeys/lifecycle_live_versions"), journeyId=journey_id,
                                                  database_=self.database)
        others = [r.data() for r in records if r["version"] != version]
        if mapping:
            with self.driver.session(database=self.database) as session:
                session.execute_read(_check_mapping, journey_id, version, others, mapping)
        out: list[dict[str, Any]] = []
        for other in others:
            rows, _, _ = self.driver.execute_query(query("journeys/lifecycle_migration_preview"),
                                                   journeyId=journey_id, version=other["version"],
                                                   database_=self.database)
            for r in rows:
                target = mapping.get(r["stepId"])
                out.append({"fromVersion": other["version"], "fromStep": r["stepId"], "people": r["people"],
                            "sample": r["sample"], "toVersion": version if target else other["version"],
                            "toStep": target or r["stepId"], "moves": target is not None})
        return out

    def _publish(self, tx: ManagedTransaction, journey_id: str, version: int, principal: Principal,
                 mapping: dict[str, str], acknowledge_conflicts: bool = False) -> VersionInfo:
        now = self.clock.now_ms()
        self._lock_journey(tx, journey_id)
        target = _version(tx, version_key(journey_id, version))
        if target is None:
            raise NotFound(f"journey {journey_id!r} has no version {version}")
        if target.status not in PUBLISHABLE:  # checked again after locking the version, below
            raise LifecycleError(f"cannot publish {journey_id} v{version}: it is {target.status}; publish needs "
                                 "approved or paused")
        ack = tx.run(query("journeys/lifecycle_ack"), key=version_key(journey_id, version)).single()
        if ack is not None and ack["required"] and not acknowledge_conflicts:
            raise LifecycleError(f"publishing {journey_id} v{version} needs its {ack['count'] or 0} conflict(s) with "
                                 f"the live journeys acknowledged (the approver asked for it): {ack['conflicts']}",
                                 reason="conflicts_unacknowledged")
        others = [r.data() for r in tx.run(query("journeys/lifecycle_live_versions"), journeyId=journey_id)
                  if r["version"] != version]
        if mapping:
            _check_mapping(tx, journey_id, version, others, mapping)
        info = self._transition(tx, journey_id, version, principal, "publish", PUBLISHABLE, "published",
                                lambda _v, at: {"publishedBy": principal.name, "publishedAtMs": at}, now=now)
        archived = tx.run(query("journeys/lifecycle_archive_others"), journeyId=journey_id, version=version,
                          atMs=now, principal=principal.name).data()
        key = version_key(journey_id, version)
        entries = [self._entry(row["key"], "archive", principal, now, journey_id, int(row["version"]),
                               row["checksum"], {"from": row["was"], "supersededBy": version})
                   for row in archived]
        if mapping:
            old = int(others[0]["version"])
            moved = {r["fromStep"]: int(r["moved"]) for r in tx.run(
                query("journeys/lifecycle_migrate"), journeyId=journey_id, fromVersion=old, toVersion=version,
                toKey=key, atMs=now, principal=principal.name,
                mapping=[{"from": a, "to": b} for a, b in sorted(mapping.items())])}
            entries.append(self._entry(key, "migrate", principal, now, journey_id, version, info.checksum, {
                "fromVersion": old, "toVersion": version, "mapping": mapping,
                "moved": {step: moved.get(step, 0) for step in sorted(mapping)}, "total": sum(moved.values()),
            }))
        self._audit(tx, entries)
        return info

    def _change(self, journey_id: str, version: int, principal: Principal, action: str, allowed: list[str],
                to: str, props: Callable[[VersionInfo, int], dict[str, Any]]) -> VersionInfo:
        _allow(principal, action)

        def work(tx: ManagedTransaction) -> VersionInfo:
            self._lock_journey(tx, journey_id)
            return self._transition(tx, journey_id, version, principal, action, allowed, to, props)

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _transition(self, tx: ManagedTransaction, journey_id: str, version: int, principal: Principal,
                    action: str, allowed: list[str], to: str, props: Callable[[VersionInfo, int], dict[str, Any]],
                    *, now: int | None = None) -> VersionInfo:
        """Move one version to `to` if its status (checked after locking it) is one of `allowed`; audit it.

        Raising anywhere rolls the whole transaction back, lock properties included."""
        now = self.clock.now_ms() if now is None else now
        key = version_key(journey_id, version)
        current = _version(tx, key)
        if current is None:
            raise NotFound(f"journey {journey_id!r} has no version {version}")
        changes = props(current, now)
        row = tx.run(query("journeys/lifecycle_transition"), key=key, allowed=allowed, to=to, atMs=now,
                     props=changes).single()
        if row is None:
            status = (_version(tx, key) or current).status
            raise LifecycleError(f"cannot {action} {journey_id} v{version}: it is {status}; {action} needs "
                                 f"{' or '.join(allowed) if len(allowed) < 3 else 'any status but archived'}")
        self._audit(tx, [self._entry(key, action, principal, now, journey_id, version, row["checksum"],
                                     {"from": row["was"], "to": to})])
        info = _version(tx, key)
        assert info is not None
        return info

    def _lock_journey(self, tx: ManagedTransaction, journey_id: str) -> None:
        if tx.run(query("journeys/lifecycle_lock_journey"), journeyId=journey_id).single() is None:
            raise NotFound(f"no journey {journey_id!r}")

    def _entry(self, key: str, action: str, principal: Principal, now: int, journey_id: str, version: int,
               digest: str | None, detail: dict[str, Any]) -> dict[str, Any]:
        return {"versionKey": key, "auditId": self.new_id(), "action": action, "principal": principal.name,
                "role": principal.role, "atMs": now, "journeyId": journey_id, "version": version,
                "checksum": digest, "detail": json.dumps(detail, sort_keys=True, separators=(",", ":"))}

    @staticmethod
    def _audit(tx: ManagedTransaction, entries: list[dict[str, Any]]) -> None:
        if entries:
            tx.run(query("journeys/store_audit"), rows=entries).consume()

    # --- reads -----------------------------------------------------------------------------------------

    def list_journeys(self) -> list[JourneySummary]:
        records, _, _ = self.driver.execute_query(query("journeys/store_journeys"), database_=self.database)
        return _summaries([r.data() for r in records])

    def get(self, journey_id: str, audit_limit: int = AUDIT_LIMIT) -> JourneyDetail:
        """The journey, every version (oldest first) and its most recent audit entries (newest first)."""
        with self.driver.session(database=self.database) as session:
            return session.execute_read(self._get, journey_id, audit_limit)

    @staticmethod
    def _get(tx: ManagedTransaction, journey_id: str, audit_limit: int) -> JourneyDetail:
        head = tx.run(query("journeys/store_journey"), journeyId=journey_id).single()
        if head is None:
            raise NotFound(f"no journey {journey_id!r}")
        versions = [VersionInfo.model_validate(r.data()) for r in
                    tx.run(query("journeys/store_versions"), journeyId=journey_id)]
        audit = [_audit_info(r.data()) for r in
                 tx.run(query("journeys/store_audit_entries"), journeyId=journey_id, limit=audit_limit)]
        latest = next((v for v in versions if v.version == head["latestVersion"]), None)
        live = next((v for v in versions if v.status in LIVE_STATUSES), None)
        return JourneyDetail.model_validate({
            "journeyId": head["journeyId"], "name": head["name"] or "", "createdAtMs": head["createdAtMs"],
            "latestVersion": int(head["latestVersion"] or 0), "latestStatus": latest.status if latest else None,
            "liveVersion": live.version if live else None, "liveStatus": live.status if live else None,
            "versions": versions, "audit": audit,
        })

    def version(self, journey_id: str, version: int) -> VersionInfo:
        with self.driver.session(database=self.database) as session:
            found = session.execute_read(_version, version_key(journey_id, version))
        if found is None:
            raise NotFound(f"journey {journey_id!r} has no version {version}")
        return found

    def definition(self, journey_id: str, version: int) -> JourneyDefinition:
        """The definition stored for one version."""
        key = version_key(journey_id, version)
        records, _, _ = self.driver.execute_query(query("journeys/store_definition"), key=key,
                                                  database_=self.database)
        if not records or records[0]["definition"] is None:
            raise NotFound(f"journey {journey_id!r} has no version {version}")
        return parse_definition(records[0]["definition"], source=key)

    def published(self) -> list[VersionInfo]:
        """Every published version (paused ones are not: nobody new enters them)."""
        records, _, _ = self.driver.execute_query(query("journeys/store_published"), database_=self.database)
        return [VersionInfo.model_validate(r.data()) for r in records]


def _allow(principal: Principal, action: str) -> None:
    if not can(principal, action):
        raise Forbidden(f"{principal.name!r} ({principal.role}) may not {action}; that needs the role "
                        f"{' or '.join(roles_for(action))}")


def _version(tx: ManagedTransaction, key: str) -> VersionInfo | None:
    row = tx.run(query("journeys/store_version"), key=key).single()
    return VersionInfo.model_validate(row.data()) if row is not None else None


def _same_as_latest(tx: ManagedTransaction, row: Any, digest: str) -> VersionInfo | None:
    """The latest version (from a row with its `key`) if it holds the definition with checksum `digest`."""
    if row is None or row["key"] is None:
        return None
    latest = _version(tx, row["key"])
    return latest if latest is not None and latest.checksum == digest else None


def _check_mapping(tx: ManagedTransaction, journey_id: str, version: int, others: list[dict[str, Any]],
                   mapping: dict[str, str]) -> None:
    """The mapping may only name steps of the live version it migrates from and of the new version."""
    if not others:
        raise InvalidMigration(f"journey {journey_id!r} has no other published or paused version to migrate "
                               f"people from to v{version}")
    old = int(others[0]["version"])
    old_steps = _step_ids(tx, version_key(journey_id, old))
    new_steps = _step_ids(tx, version_key(journey_id, version))
    problems = [f"{a!r} is not a step of v{old}" for a in sorted(mapping) if a not in old_steps]
    problems += [f"{b!r} is not a step of v{version}" for b in sorted(set(mapping.values())) if b not in new_steps]
    if problems:
        raise InvalidMigration(f"cannot migrate {journey_id} v{old} → v{version}: " + "; ".join(problems))


def _step_ids(tx: ManagedTransaction, key: str) -> set[str]:
    return {r["stepId"] for r in tx.run(query("journeys/store_step_ids"), key=key)}


def _audit_info(row: dict[str, Any]) -> AuditInfo:
    detail = row.get("detail")
    try:
        parsed = json.loads(detail) if isinstance(detail, str) else {}
    except json.JSONDecodeError:
        parsed = {"raw": detail}
    return AuditInfo.model_validate({**row, "detail": parsed if isinstance(parsed, dict) else {"value": parsed}})


def _summaries(rows: list[dict[str, Any]]) -> list[JourneySummary]:
    """One summary per journey (the query yields a row per live version; there is at most one)."""
    out: dict[str, JourneySummary] = {}
    for row in rows:
        if row["journeyId"] in out and row["liveVersion"] is None:
            continue
        out[row["journeyId"]] = JourneySummary.model_validate(
            {**row, "name": row["name"] or "", "latestVersion": int(row["latestVersion"] or 0)})
    return [out[k] for k in sorted(out)]
