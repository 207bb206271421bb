"""Person state the resolver reads: consent per channel, suppression lists (and, in the graph, the time zone).

- `PersonStateWriter.after_ingest` writes the consent a batch's traits and events imply, inside the ingest
  transaction and before the journey engine, so the batch's own decisions see it.
- `PersonStateStore` is the API's, the CLI's and the delivery callbacks' way in: set consent, suppress,
  unsuppress, read. Each write locks the person first (a `_rev` counter bump) inside `execute_write`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from app.clock import Clock, SystemClock
from app.decisions.config_store import ConfigStore
from app.decisions.consent import consent_rows
from app.decisions.people import find_person, find_persons
from app.errors import PermanentError
from app.graph.queries import query
from app.intake.plan import BatchPlan
from graph_models.constraints import ConfigId, ConsentMapping, ConstraintSet
from graph_models.journey import CHANNELS

T = TypeVar("T")
CONSENT_STATUSES = ("opted_in", "opted_out")
CONSENT_SOURCES = ("api", "callback")
MAX_REASON = 500
CONSTRAINT_RETRIES = 3


class PersonNotFound(PermanentError):
    """No person answers to the reference."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no person {ref!r} (refs: userId:<x>, anonymousId:<x>, personId:<x> or a bare userId)",
                         reason="not_found")
        self.ref = ref


class InvalidPersonState(PermanentError):
    """A consent or suppression request is malformed; `field` names what is wrong."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, reason="invalid")
        self.field = field


def check_channel(channel: Any) -> str:
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise InvalidPersonState(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    return channel


def check_status(status: Any) -> str:
    if not isinstance(status, str) or status not in CONSENT_STATUSES:
        raise InvalidPersonState(f"status must be one of {', '.join(CONSENT_STATUSES)}", field="status")
    return status


def check_list_id(list_id: Any) -> str:
    if not isinstance(list_id, str) or not ConfigId.match(list_id):
        raise InvalidPersonState(f"list id {list_id!r} must look like 'hard-bounces' (lowercase letters, digits, "
                                 "'-', '_'; at most 64)", field="listId")
    return list_id


def check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidPersonState(f"reason must be a non-empty string of at most {MAX_REASON} characters",
                                 field="reason")
    return reason.strip()


def published_consent(tx: ManagedTransaction) -> ConsentMapping:
    """The consent mapping of the published constraint set, else the built-in defaults."""
    found = ConfigStore.published(tx, "constraints")
    model = found.model if found is not None else None
    return model.consent if isinstance(model, ConstraintSet) else ConstraintSet().consent


class PersonStateWriter:
    """Writes person state implied by a freshly written batch, in the ingest transaction."""

    def __init__(self, mapping_for: Callable[[ManagedTransaction], ConsentMapping] = published_consent) -> None:
        self.mapping_for = mapping_for

    def after_ingest(self, tx: ManagedTransaction, plan: BatchPlan, mapping: ConsentMapping | None = None) -> int:
        """Write the batch's consent edges (to the surviving person of any merge); returns the rows written."""
        written = plan.result.written
        if not written:
            return 0
        survivor = dict(plan.result.merges)
        events = [(ev, survivor.get(w.personId, w.personId), w.timestampMs)
                  for ev, w in zip(plan.events, written, strict=True)]
        rows = consent_rows(events, mapping if mapping is not None else self.mapping_for(tx))
        if rows:
            tx.run(query("decisions/write_consent"), rows=rows).consume()
        return len(rows)

    def hook(self, then: Callable[[ManagedTransaction, BatchPlan], object] | None = None
             ) -> Callable[[ManagedTransaction, BatchPlan], object]:
        """An `EventStore.after_write` that writes person state, then runs `then` (the journey engine)."""

        def after_write(tx: ManagedTransaction, plan: BatchPlan) -> object:
            self.after_ingest(tx, plan)
            return then(tx, plan) if then is not None else None

        return after_write


@dataclass(frozen=True)
class ChannelConsent:
    channel: str
    status: str  # opted_in | opted_out | unknown
    source: str | None = None
    atMs: int | None = None
    marketingOnly: bool = False
    messageId: str | None = None


@dataclass(frozen=True)
class Suppression:
    listId: str
    reason: str | None
    atMs: int | None
    source: str | None
    personId: str | None = None
    userId: str | None = None


@dataclass(frozen=True)
class PersonConsent:
    personId: str
    userId: str | None
    channels: list[ChannelConsent]
    suppressions: list[Suppression]


@dataclass(frozen=True)
class SuppressResult:
    listId: str
    suppressed: list[str] = field(default_factory=list)  # refs written
    missing: list[str] = field(default_factory=list)  # refs with no person


def _consent(row: dict[str, Any]) -> ChannelConsent:
    return ChannelConsent(channel=row["channel"], status=row["status"], source=row.get("source"),
                          atMs=row.get("atMs"), marketingOnly=bool(row.get("marketingOnly") or False),
                          messageId=row.get("messageId"))


class PersonStateStore:
    """Consent and suppression over the driver (API, CLI, delivery callbacks)."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()

    def _write(self, work: Callable[[ManagedTransaction], T]) -> T:
        # Two writers creating the same Channel/SuppressionList node race on its unique key.
        for attempt in range(CONSTRAINT_RETRIES + 1):
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(work)
            except ConstraintError:
                if attempt == CONSTRAINT_RETRIES:
                    raise
                time.sleep(0.02 * (attempt + 1) + random.random() * 0.02)
        raise AssertionError("unreachable")

    @staticmethod
    def _lock(tx: ManagedTransaction, ref: str) -> str:
        person_id = find_person(tx, ref)
        if person_id is None or tx.run(query("decisions/person_lock"), personId=person_id).single() is None:
            raise PersonNotFound(ref)
        return person_id

    def set_consent(self, ref: str, channel: str, status: str, *, marketing_only: bool = False,
                    source: str = "api", message_id: str | None = None, at_ms: int | None = None
                    ) -> ChannelConsent:
        """Set a person's consent on a channel (now, unless `at_ms`); replaces whatever was there."""
        check_channel(channel)
        check_status(status)
        if source not in CONSENT_SOURCES:
            raise InvalidPersonState(f"source must be one of {', '.join(CONSENT_SOURCES)}", field="source")
        at = self.clock.now_ms() if at_ms is None else at_ms

        def work(tx: ManagedTransaction) -> ChannelConsent:
            person_id = self._lock(tx, ref)
            record = tx.run(query("decisions/person_set_consent"), personId=person_id, channelId=channel,
                            status=status, source=source, atMs=at,
                            marketingOnly=bool(marketing_only) and status == "opted_out",
                            messageId=message_id).single()
            assert record is not None  # the person was just locked
            return _consent(record.data())

        return self._write(work)

    def suppress(self, list_id: str, refs: Sequence[str], reason: str, *, source: str = "api",
                 at_ms: int | None = None) -> SuppressResult:
        """Put the people `refs` name on list `list_id`; refs with no person are reported, not written."""
        check_list_id(list_id)
        why = check_reason(reason)
        at = self.clock.now_ms() if at_ms is None else at_ms

        def work(tx: ManagedTransaction) -> SuppressResult:
            found = find_persons(tx, refs)
            missing = [ref for ref in refs if ref not in found]
            for person_id in sorted(set(found.values())):  # locks in a stable order (no deadlock cycles)
                tx.run(query("decisions/person_lock"), personId=person_id).consume()
            rows = [{"personId": pid, "listId": list_id, "reason": why, "atMs": at, "source": source}
                    for pid in sorted(set(found.values()))]
            if rows:
                tx.run(query("decisions/person_suppress"), rows=rows).consume()
            return SuppressResult(list_id, suppressed=[r for r in dict.fromkeys(refs) if r in found],
                                  missing=list(dict.fromkeys(missing)))

        return self._write(work)

    def unsuppress(self, list_id: str, ref: str) -> bool:
        """Take a person off a list; False when they were not on it. PersonNotFound for an unknown ref."""
        check_list_id(list_id)

        def work(tx: ManagedTransaction) -> bool:
            person_id = self._lock(tx, ref)
            record = tx.run(query("decisions/person_unsuppress"), personId=person_id, listId=list_id).single()
            return bool(record and record["removed"])

        return self._write(work)

    def consent(self, ref: str) -> PersonConsent:
        """Every channel's consent (`unknown` where there is no edge) and the person's suppressions."""

        def work(tx: ManagedTransaction) -> PersonConsent:
            person_id = find_person(tx, ref)
            record = None if person_id is None else \
                tx.run(query("decisions/person_consent"), personId=person_id).single()
            if record is None:
                raise PersonNotFound(ref)
            stored = {c["channel"]: _consent(c) for c in record["consent"] if c}
            channels = [stored.pop(c, ChannelConsent(channel=c, status="unknown")) for c in CHANNELS]
            channels += [stored[c] for c in sorted(stored)]
            suppressions = sorted((Suppression(s["listId"], s.get("reason"), s.get("atMs"), s.get("source"))
                                   for s in record["suppressions"] if s), key=lambda s: s.listId)
            return PersonConsent(record["personId"], record["userId"], channels, suppressions)

        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def suppressions(self, list_id: str, limit: int = 1000) -> list[Suppression]:
        """The people on a list, newest first (at most `limit`)."""
        check_list_id(list_id)
        records, _, _ = self.driver.execute_query(query("decisions/person_suppressions"), listId=list_id,
                                                  limit=limit, database_=self.database, routing_="r")
        return [Suppression(list_id, r["reason"], r["atMs"], r["source"], r["personId"], r["userId"])
                for r in records]
