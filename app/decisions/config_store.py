"""ConfigStore: the versioned `constraints` and `placements` documents in the graph, their review lifecycle
(as journeys: draft → in_review → approved → published → archived, approval by someone other than the
author) and its audit trail.

Graph: `(:ConfigDocument {key: '<kind>/<id>'})-[:HAS_VERSION]->(:ConfigVersion {key: '<kind>/<id>@<n>'})`.
A push writes the version with its `(:Constraint)` nodes (and, for placements, `(:Placement)-[:OFFERS]->
(:Offer)`), so every version, published or not, can be looked at in Neo4j Browser; a decision links to the
constraint nodes of the version it was decided under. Publishing archives the document's previous
published version, records the published version on the document (the runtime's one-key lookup:
`published`) and, for constraints, MERGEs the `(:SuppressionList)` nodes.

Each change is one managed transaction that first locks the ConfigDocument (a counter bump) and checks
the status after locking, so of two concurrent approvals one wins and of two concurrent publications the
later archives the earlier, on Neo4j (write locks) as on ArcadeDB (optimistic; the driver retries).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any, NamedTuple, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from app.clock import Clock, SystemClock
from app.decisions.config_lint import (
    ConfigIssue,
    canonical_config,
    checked_config,
    config_checksum,
    config_kind,
    lint_config,
    validate_config,
)
from app.graph.queries import query
from app.journeys.catalog import TemplateCatalog, default_catalog
from app.journeys.store import Forbidden, LifecycleError, NotFound
from graph_models.config_store import ConfigAuditInfo, ConfigDetail, ConfigSummary, ConfigVersionInfo
from graph_models.constraints import ConfigKind, ConfigModel, ConstraintSet, PlacementSet
from graph_models.journey import CHANNELS
from graph_models.principal import Principal, can, roles_for

NOT_ARCHIVED = ["draft", "in_review", "approved", "published"]
AUDIT_LIMIT = 50
DEFAULT_ID = "default"
# Concurrent MERGEs of the same new node (a document, a channel, a suppression list) fail at commit with a
# ConstraintError, not a transient error: the transaction is retried this many times before giving up.
WRITE_ATTEMPTS = 8
T = TypeVar("T")


class _Conflict(Exception):
    """A concurrent change was seen mid-transaction (optimistic servers): roll back and run it again."""


class PublishedConfig(NamedTuple):
    """The live version of a document: what the resolver applies and records on its decisions."""

    version_key: str  # '<kind>/<id>@<n>'
    version: int
    checksum: str
    model: ConfigModel


def document_key(kind: str, config_id: str) -> str:
    return f"{kind}/{config_id}"


def version_key(kind: str, config_id: str, version: int) -> str:
    return f"{document_key(kind, config_id)}@{version}"


def new_uuid() -> str:
    return str(uuid.uuid4())


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _constraint(key: str, constraint_id: str, kind: str, name: str, config: Any,
                channels: Collection[str]) -> dict[str, Any]:
    return {"key": f"{key}/{constraint_id}", "constraintId": constraint_id, "kind": kind, "name": name,
            "config": _json(config), "channels": list(channels)}


def constraint_rows(model: ConfigModel, key: str) -> list[dict[str, Any]]:
    """The Constraint nodes of version `key`: `{key, constraintId, kind, name, config (JSON), channels}`.

    `channels` are the channels the constraint applies to (every channel for all-channel caps and lists;
    none for the channel-independent exclusion, global_control, priority and arbitration)."""
    rows: list[dict[str, Any]] = []
    if isinstance(model, ConstraintSet):
        for cap in model.caps:
            scope = [f"{f} {getattr(cap.scope, f)}" for f in ("channel", "journey", "tag")
                     if getattr(cap.scope, f) is not None]
            name = (f"at most {cap.max} per {cap.window.text}{' (calendar days)' if cap.calendar else ''}, "
                    f"{' and '.join(scope) or 'every message'}")
            rows.append(_constraint(key, f"cap:{cap.id}", "cap", name, cap.model_dump(mode="json"),
                                    [cap.scope.channel] if cap.scope.channel else CHANNELS))
        for channel_id in CHANNELS:
            channel = model.channel(channel_id)
            if channel.quiet_hours is not None:
                quiet = channel.quiet_hours
                rows.append(_constraint(key, f"quiet_hours:{channel_id}", "quiet_hours",
                                        f"no marketing on {channel_id} from {quiet.start} to {quiet.end} local time",
                                        quiet.model_dump(mode="json"), [channel_id]))
        for channel_id in CHANNELS:
            channel = model.channel(channel_id)
            rule = "marketing needs an opt-in" if channel.requires_opt_in else "blocked by an opt-out"
            rows.append(_constraint(key, f"consent:{channel_id}", "consent", f"consent on {channel_id}: {rule}",
                                    {"channel": channel_id, "requires_opt_in": channel.requires_opt_in},
                                    [channel_id]))
        for listed in model.suppression_lists:
            where = ", ".join(listed.channels) or "every channel"
            rows.append(_constraint(key, f"suppression:{listed.id}", "suppression",
                                    f"people on list {listed.id} get nothing on {where}",
                                    listed.model_dump(mode="json"), listed.channels or CHANNELS))
        for group in model.exclusion_groups:
            rows.append(_constraint(key, f"exclusion:{group.id}", "exclusion",
                                    f"one of {', '.join(group.journeys)} per {group.window.text}",
                                    group.model_dump(mode="json"), []))
        if model.global_control is not None:
            rows.append(_constraint(key, "global_control", "global_control",
                                    f"{model.global_control.percent:g}% of people get no marketing",
                                    model.global_control.model_dump(mode="json"), []))
        rows.append(_constraint(key, "priority", "priority",
                                f"journey priorities (default {model.default_priority})",
                                {"priorities": model.priorities, "default_priority": model.default_priority}, []))
    else:
        for placement in model.placements:
            for offer in placement.offers:
                for offer_cap in offer.caps:
                    rows.append(_constraint(key, f"offer_cap:{offer.id}:{offer_cap.id}", "offer_cap",
                                            f"offer {offer.id} at most {offer_cap.max} per {offer_cap.window.text}",
                                            {**offer_cap.model_dump(mode="json"), "offer": offer.id,
                                             "placement": placement.id}, [placement.channel]))
    rows.append(_constraint(key, "arbitration", "arbitration", "lost to a higher-ranked candidate",
                            {"order": ["priority desc", "step priority desc", "score desc", "id asc"]}, []))
    return rows


def placement_rows(model: PlacementSet, key: str) -> list[dict[str, Any]]:
    """The Placement nodes of version `key` with their offers (Offer `when` as JSON)."""
    return [
        {"key": f"{key}/{p.id}", "placementId": p.id, "channel": p.channel, "description": p.description,
         "offers": [{"key": f"{key}/{p.id}/{o.id}", "offerId": o.id, "template": o.template,
                     "priority": o.priority, "score": o.score, "tags": list(o.tags),
                     "when": _json(o.when.model_dump(mode="json")) if o.when is not None else None}
                    for o in p.offers]}
        for p in model.placements
    ]


# Parsed models by (kind, checksum): content-addressed, so safe to share between stores and threads.
_MODELS: dict[tuple[str, str], ConfigModel] = {}
_MODELS_LOCK = threading.Lock()
_MODELS_MAX = 32


class ConfigStore:
    """The configuration documents and their lifecycle in the graph (see module docstring)."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None, *,
                 catalog: TemplateCatalog | None = None, new_id: Callable[[], str] = new_uuid) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.catalog = catalog if catalog is not None else default_catalog()
        self.new_id = new_id

    # --- the runtime's read ----------------------------------------------------------------------------

    @staticmethod
    def published(tx: ManagedTransaction, kind: ConfigKind, config_id: str = DEFAULT_ID) -> PublishedConfig | None:
        """The published version of document `<kind>/<config_id>` inside the caller's transaction, or None.

        One unique-key read of the ConfigDocument; the version's definition is read and parsed only the
        first time its checksum is seen (a process-wide cache by checksum)."""
        row = tx.run(query("decisions/config_published"), docKey=document_key(kind, config_id)).single()
        if row is None or row["key"] is None:
            return None
        key, digest = str(row["key"]), str(row["checksum"])
        model = _MODELS.get((kind, digest))
        if model is None:
            found = tx.run(query("decisions/config_definition"), key=key).single()
            if found is None or found["definition"] is None:
                return None
            model = validate_config(kind, json.loads(found["definition"]), source=key)
            with _MODELS_LOCK:
                if len(_MODELS) >= _MODELS_MAX:
                    _MODELS.clear()
                _MODELS[(kind, digest)] = model
        return PublishedConfig(key, int(row["version"]), digest, model)

    def published_now(self, kind: ConfigKind, config_id: str = DEFAULT_ID) -> PublishedConfig | None:
        """`published` in a read transaction of its own."""
        with self.driver.session(database=self.database) as session:
            return session.execute_read(self.published, kind, config_id)

    # --- writes ----------------------------------------------------------------------------------------

    def lint(self, kind: str, model: ConfigModel) -> list[ConfigIssue]:
        """The linter's findings, journey names checked against the journeys in the graph."""
        return lint_config(kind, model, self.catalog, self.journey_ids())

    def journey_ids(self) -> set[str]:
        records, _, _ = self.driver.execute_query(query("decisions/config_journey_ids"), database_=self.database)
        return {str(r["journeyId"]) for r in records}

    def push(self, kind: str, model: ConfigModel, principal: Principal) -> ConfigVersionInfo:
        """Store `model` as the document's next version (a draft), unless it is the same as the latest
        version: then that version comes back unchanged (`created` false) and nothing is written.
        Lint errors refuse it (ConfigInvalid); warnings are recorded in the push's audit entry."""
        _allow(principal, "push")
        kind = config_kind(kind)
        warnings = checked_config(kind, model, self.catalog, self.journey_ids(),
                                  source=document_key(kind, model.id))
        text, digest = canonical_config(model), config_checksum(model)
        doc = document_key(kind, model.id)
        self._write(lambda tx: tx.run(query("decisions/config_ensure_document"), docKey=doc, kind=kind, id=model.id,
                                      atMs=self.clock.now_ms(), channels=list(CHANNELS)).consume())
        return self._write(lambda tx: self._push(tx, kind, model, text, digest, principal, warnings))

    def _push(self, tx: ManagedTransaction, kind: ConfigKind, model: ConfigModel, text: str, digest: str,
              principal: Principal, warnings: list[ConfigIssue]) -> ConfigVersionInfo:
        now = self.clock.now_ms()
        doc = document_key(kind, model.id)
        unchanged = _same_as_latest(tx, tx.run(query("decisions/config_latest"), docKey=doc).single(), digest)
        if unchanged is not None:  # the common re-push: nothing written, nothing locked
            return unchanged
        head = tx.run(query("decisions/config_lock_document_push"), docKey=doc).single()
        if head is None:  # made by config_ensure_document just before; gone only if deleted meanwhile
            raise NotFound(f"no configuration document {doc!r}")
        unchanged = _same_as_latest(tx, head, digest)  # pushed by someone else meanwhile
        if unchanged is not None:
            return unchanged
        version = int(head["latestVersion"] or 0) + 1
        key = version_key(kind, model.id, version)
        tx.run(query("decisions/config_create_version"), docKey=doc, key=key, kind=kind, id=model.id,
               version=version, checksum=digest, definition=text, author=principal.name, atMs=now).consume()
        constraints = constraint_rows(model, key)
        tx.run(query("decisions/config_create_constraints"), key=key, rows=constraints).consume()
        detail: dict[str, Any] = {"constraints": len(constraints)}
        if isinstance(model, PlacementSet):
            placements = placement_rows(model, key)
            tx.run(query("decisions/config_create_placements"), key=key, rows=placements).consume()
            detail |= {"placements": len(placements), "offers": sum(len(p["offers"]) for p in placements)}
        if warnings:
            detail["warnings"] = [str(w) for w in warnings]
        self._audit(tx, [self._entry(key, "push", principal, now, kind, model.id, version, digest, detail,
                                     _seq(head["revision"]))])
        created = _version(tx, key)
        if created is None:  # ArcadeDB: a concurrent push committed this version number first
            raise _Conflict(f"{key} was taken by a concurrent push")
        return created.model_copy(update={"created": True})

    def submit(self, kind: str, config_id: str, version: int, principal: Principal) -> ConfigVersionInfo:
        """draft → in_review."""
        return self._change(kind, config_id, version, principal, "submit", ["draft"], "in_review",
                            lambda _v, now: {"submittedBy": principal.name, "submittedAtMs": now})

    def approve(self, kind: str, config_id: str, version: int, principal: Principal) -> ConfigVersionInfo:
        """in_review → approved, by someone other than the author."""

        def props(current: ConfigVersionInfo, now: int) -> dict[str, Any]:
            if current.author == principal.name:
                raise Forbidden("approval must come from a different principal than the author "
                                f"({principal.name!r} pushed {current.key})", reason="self_approval")
            return {"approvedBy": principal.name, "approvedAtMs": now}

        return self._change(kind, config_id, version, principal, "approve", ["in_review"], "approved", props)

    def archive(self, kind: str, config_id: str, version: int, principal: Principal) -> ConfigVersionInfo:
        """Any status but archived → archived. Archiving the published version leaves none published (the
        resolver then applies the model's defaults)."""
        _allow(principal, "archive")
        kind = config_kind(kind)

        def work(tx: ManagedTransaction) -> ConfigVersionInfo:
            now = self.clock.now_ms()
            seq = self._lock(tx, kind, config_id)
            info = self._transition(tx, kind, config_id, version, principal, "archive", NOT_ARCHIVED, "archived",
                                    lambda _v, at: {"archivedBy": principal.name, "archivedAtMs": at}, now=now,
                                    seq=seq)
            tx.run(query("decisions/config_clear_published"), docKey=document_key(kind, config_id), key=info.key,
                   atMs=now).consume()
            return info

        return self._write(work)

    def publish(self, kind: str, config_id: str, version: int, principal: Principal) -> ConfigVersionInfo:
        """approved → published; the document's previous published version is archived."""
        _allow(principal, "publish")
        kind = config_kind(kind)
        return self._write(lambda tx: self._publish(tx, kind, config_id, version, principal))

    def _publish(self, tx: ManagedTransaction, kind: ConfigKind, config_id: str, version: int,
                 principal: Principal) -> ConfigVersionInfo:
        now = self.clock.now_ms()
        doc = document_key(kind, config_id)
        seq = self._lock(tx, kind, config_id)
        info = self._transition(tx, kind, config_id, version, principal, "publish", ["approved"], "published",
                                lambda _v, at: {"publishedBy": principal.name, "publishedAtMs": at}, now=now,
                                seq=seq + 1)
        archived = tx.run(query("decisions/config_archive_others"), docKey=doc, version=version, atMs=now,
                          principal=principal.name).data()
        tx.run(query("decisions/config_set_published"), docKey=doc, key=info.key, version=version,
               checksum=info.checksum, atMs=now).consume()
        if kind == "constraints":
            model = self._model(tx, kind, info.key)
            assert isinstance(model, ConstraintSet)
            tx.run(query("decisions/config_merge_suppression_lists"), rows=[
                {"listId": s.id, "channels": list(s.channels), "description": s.description}
                for s in model.suppression_lists]).consume()
        self._audit(tx, [self._entry(row["key"], "archive", principal, now, kind, config_id, int(row["version"]),
                                     row["checksum"], {"from": row["was"], "supersededBy": version}, seq)
                         for row in archived])
        return info

    def _change(self, kind: str, config_id: str, version: int, principal: Principal, action: str,
                allowed: list[str], to: str, props: Callable[[ConfigVersionInfo, int], dict[str, Any]]
                ) -> ConfigVersionInfo:
        _allow(principal, action)
        checked_kind = config_kind(kind)

        def work(tx: ManagedTransaction) -> ConfigVersionInfo:
            seq = self._lock(tx, checked_kind, config_id)
            return self._transition(tx, checked_kind, config_id, version, principal, action, allowed, to, props,
                                    seq=seq)

        return self._write(work)

    def _transition(self, tx: ManagedTransaction, kind: ConfigKind, config_id: str, version: int,
                    principal: Principal, action: str, allowed: list[str], to: str,
                    props: Callable[[ConfigVersionInfo, int], dict[str, Any]], *, seq: int,
                    now: int | None = None) -> ConfigVersionInfo:
        """Move one version to `to` if its status (checked after locking it) is one of `allowed`; audit it.
        Raising anywhere rolls the whole transaction back, lock counters included."""
        now = self.clock.now_ms() if now is None else now
        key = version_key(kind, config_id, version)
        current = _version(tx, key)
        if current is None:
            raise NotFound(f"{document_key(kind, config_id)} has no version {version}")
        changes = props(current, now)
        row = tx.run(query("decisions/config_transition"), key=key, allowed=allowed, to=to, atMs=now,
                     props=changes).single()
        if row is None:
            status = (_version(tx, key) or current).status
            need = " or ".join(allowed) if len(allowed) < 3 else "any status but archived"
            raise LifecycleError(f"cannot {action} {key}: it is {status}; {action} needs {need}")
        self._audit(tx, [self._entry(key, action, principal, now, kind, config_id, version, row["checksum"],
                                     {"from": row["was"], "to": to}, seq)])
        info = _version(tx, key)
        assert info is not None
        return info

    def _lock(self, tx: ManagedTransaction, kind: str, config_id: str) -> int:
        """Lock the document (a counter bump); the audit sequence number of this change."""
        doc = document_key(kind, config_id)
        row = tx.run(query("decisions/config_lock_document"), docKey=doc).single()
        if row is None:
            raise NotFound(f"no configuration document {doc!r}")
        return _seq(row["revision"])

    def _write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """`work` in one managed write transaction (the driver retries transient conflicts); also retried, a
        bounded number of times, on the constraint error of a concurrent MERGE and on a conflict seen before
        commit (ArcadeDB's optimistic transactions can read a stale head and then miss the node they made)."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(work)
            except (ConstraintError, _Conflict):
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def _entry(self, key: str, action: str, principal: Principal, now: int, kind: str, config_id: str,
               version: int, digest: str | None, detail: dict[str, Any], seq: int) -> dict[str, Any]:
        return {"versionKey": key, "auditId": self.new_id(), "action": action, "principal": principal.name,
                "role": principal.role, "atMs": now, "kind": kind, "configId": config_id, "version": version,
                "checksum": digest, "detail": _json(detail), "seq": seq}

    @staticmethod
    def _audit(tx: ManagedTransaction, entries: list[dict[str, Any]]) -> None:
        if entries:
            tx.run(query("decisions/config_audit"), rows=entries).consume()

    @staticmethod
    def _model(tx: ManagedTransaction, kind: ConfigKind, key: str) -> ConfigModel:
        found = tx.run(query("decisions/config_definition"), key=key).single()
        if found is None or found["definition"] is None:
            raise NotFound(f"no configuration version {key!r}")
        return validate_config(kind, json.loads(found["definition"]), source=key)

    # --- reads -----------------------------------------------------------------------------------------

    def list_documents(self, kind: str | None = None) -> list[ConfigSummary]:
        """Every document (of `kind`, if given) with its latest and published versions."""
        wanted = config_kind(kind) if kind is not None else None
        records, _, _ = self.driver.execute_query(query("decisions/config_documents"), database_=self.database)
        return [ConfigSummary.model_validate(_summary_row(r.data())) for r in records
                if wanted is None or r["kind"] == wanted]

    def get(self, kind: str, config_id: str, audit_limit: int = AUDIT_LIMIT) -> ConfigDetail:
        """The document, every version (oldest first) and its most recent audit entries (newest first)."""
        doc = document_key(config_kind(kind), config_id)

        def read(tx: ManagedTransaction) -> ConfigDetail:
            head = tx.run(query("decisions/config_document"), docKey=doc).single()
            if head is None:
                raise NotFound(f"no configuration document {doc!r}")
            versions = [ConfigVersionInfo.model_validate(r.data())
                        for r in tx.run(query("decisions/config_versions"), docKey=doc)]
            audit = [_audit_info(r.data())
                     for r in tx.run(query("decisions/config_audit_entries"), docKey=doc, limit=audit_limit)]
            return ConfigDetail.model_validate({**_summary_row(head.data()), "versions": versions, "audit": audit})

        with self.driver.session(database=self.database) as session:
            return session.execute_read(read)

    def version(self, kind: str, config_id: str, version: int) -> ConfigVersionInfo:
        key = version_key(config_kind(kind), config_id, version)
        with self.driver.session(database=self.database) as session:
            found = session.execute_read(_version, key)
        if found is None:
            raise NotFound(f"{document_key(kind, config_id)} has no version {version}")
        return found

    def definition(self, kind: str, config_id: str, version: int) -> ConfigModel:
        """The document stored for one version."""
        checked_kind = config_kind(kind)
        key = version_key(checked_kind, config_id, version)
        with self.driver.session(database=self.database) as session:
            return session.execute_read(self._model, checked_kind, key)


def _seq(revision: Any) -> int:
    """Audit entries' order within a document: its revision counter (bumped by every change) times ten, plus
    the entry's place within the change (a publish archives the previous version first)."""
    return int(revision or 0) * 10


def _allow(principal: Principal, action: str) -> None:
    if not can(principal, action):
        raise Forbidden(f"{principal.name!r} ({principal.role}) may not {action}; that needs the role "
                        f"{' or '.join(roles_for(action))}")


def _version(tx: ManagedTransaction, key: str) -> ConfigVersionInfo | None:
    row = tx.run(query("decisions/config_version"), key=key).single()
    return ConfigVersionInfo.model_validate(row.data()) if row is not None else None


def _same_as_latest(tx: ManagedTransaction, row: Any, digest: str) -> ConfigVersionInfo | None:
    """The latest version (from a row with its `key` and `checksum`) if it holds the document `digest`."""
    if row is None or row["key"] is None or row["checksum"] != digest:
        return None
    return _version(tx, row["key"])


def _summary_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "latestVersion": int(row.get("latestVersion") or 0)}


def _audit_info(row: dict[str, Any]) -> ConfigAuditInfo:
    detail = row.get("detail")
    try:
        parsed = json.loads(detail) if isinstance(detail, str) else {}
    except json.JSONDecodeError:
        parsed = {"raw": detail}
    return ConfigAuditInfo.model_validate({**row, "detail": parsed if isinstance(parsed, dict) else {"value": parsed}})
