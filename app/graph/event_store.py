"""EventStore: writes a batch of validated Segment events into the graph in one managed transaction."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from app.clock import Clock, SystemClock
from app.graph.params import Rows
from app.graph.queries import query
from app.intake.identity import KnownIdentity
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlan, BatchPlanner, identity_windows, unique_events
from app.intake.sessions import SessionSpan
from app.privacy.tombstones import event_keys, split_tombstoned
from graph_models.ids import url_uuid5
from graph_models.ingest import IngestResult, WritePlan

CONSTRAINT_RETRIES = 5
AFTER_WRITE_RETRIES = 10  # how many times an after_write hook may ask for the batch again
# While the store writes a batch again for a hook that raised AfterWriteFailed: that exception's context.
AFTER_WRITE_RETRY: ContextVar[Any] = ContextVar("after_write_retry", default=None)


class AfterWriteFailed(Exception):
    """Raised by an `after_write` hook whose own writes failed (the transaction is unusable): the store
    writes the batch again in a new transaction, with `AFTER_WRITE_RETRY` holding `context` (e.g. the
    journey versions to skip) while the hook runs, so the events still land."""

    def __init__(self, context: Any) -> None:
        super().__init__(f"after_write failed; retrying with {context!r}"[:500])
        self.context = context


def stable_id(seed: str) -> str:
    """A UUID-shaped id derived from `seed` ('person:userId:u1', 'session:<person>:<start>').

    Person and session ids then depend only on the events, so replaying the same events into an empty
    graph rebuilds the same graph, ids included (and split assignment, which hashes the person id).
    """
    return url_uuid5(f"journeys:{seed}")


def apply_plan(tx: ManagedTransaction, plan: WritePlan) -> None:
    """Run each write statement once over its rows (`UNWIND $rows`)."""
    for name, rows in plan.ordered():
        tx.run(query(name), rows=Rows(rows)).consume()


class EventStore:
    """Reads what the batch touches, plans in Python, writes with UNWIND, all inside `execute_write`.

    `after_write(tx, plan)` runs in the same transaction after the writes (the journey engine).

    A transient conflict (another consumer touched the same person) retries the whole function,
    so planning always sees committed state.
    """

    def __init__(
        self,
        driver: Driver,
        database: str,
        *,
        session_gap_ms: int,
        clock: Clock | None = None,
        new_id: Callable[[str], str] = stable_id,
        after_write: Callable[[ManagedTransaction, BatchPlan], object] | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.session_gap_ms = session_gap_ms
        self.clock = clock or SystemClock()
        self.new_id = new_id
        self.after_write = after_write

    def write(self, events: Sequence[AnyEvent]) -> IngestResult:
        return self.write_plan(events).result

    def write_plan(self, events: Sequence[AnyEvent], props: dict[str, dict[str, Any]] | None = None) -> BatchPlan:
        """Write `events`; `props` may carry their precomputed Event properties (by messageId)."""
        if not events:
            return BatchPlan(writes=WritePlan(), result=IngestResult())
        context: Any = None
        hook_retries = 0
        attempt = 0
        while True:
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(self._write, list(events), props, context)
            except AfterWriteFailed as exc:
                # The hook (journey engine) could not write its changes: write the batch again with the
                # hook told what to leave out. Give up (the consumer isolates) if it keeps asking.
                hook_retries += 1
                if hook_retries > AFTER_WRITE_RETRIES or exc.context == context:
                    raise (exc.__cause__ or exc) from exc
                context = exc.context
            except ConstraintError:
                # Another writer (a second consumer in the group) created the same person, identity
                # or session a moment ago: the retry reads it and merges into it. Ids are derived
                # from the events, so both writers aimed at the same node. A constraint error that
                # persists is a real rejection and goes up (the consumer isolates the event).
                if attempt == CONSTRAINT_RETRIES:
                    raise
                attempt += 1
                time.sleep(0.05 * attempt + random.random() * 0.05)

    def _write(self, tx: ManagedTransaction, events: list[AnyEvent],
               props: dict[str, dict[str, Any]] | None = None, context: Any = None) -> BatchPlan:
        # Duplicates (already stored) and events of erased people (app/privacy: dropped, counted), one read.
        seen = tx.run(query("ingest/find_seen"), ids=[e.messageId for e in events],
                      tombstones=sorted({k for ev in events for k in event_keys(ev)})).single(strict=True)
        fresh, dups = unique_events(events, set(seen["stored"]))
        fresh, erased = split_tombstoned(fresh, set(seen["erased"]))
        if not fresh:
            return BatchPlan(writes=WritePlan(), result=IngestResult(duplicates=dups, tombstoned=erased))
        windows = identity_windows(fresh, self.session_gap_ms)
        known: dict[str, KnownIdentity] = {}
        spans: dict[str, SessionSpan] = {}
        for r in tx.run(query("ingest/find_people"),
                        keys=[{"key": k, "fromMs": lo, "toMs": hi} for k, (lo, hi) in sorted(windows.items())]):
            known[r["key"]] = KnownIdentity(r["key"], r["personId"], r["userId"])
            if r["sessionId"] is not None:
                spans[r["sessionId"]] = SessionSpan(r["sessionId"], r["personId"], r["startMs"], r["endMs"],
                                                    r["eventCount"])
        planner = BatchPlanner(fresh, list(known.values()), self.new_id, self.clock.now_ms(),
                               duplicates=dups, props=props)
        plan = planner.plan(list(spans.values()), self.session_gap_ms)
        plan.result.tombstoned = erased
        apply_plan(tx, plan.writes)
        if self.after_write is not None:  # e.g. the journey engine: commits with the events or not at all
            token = AFTER_WRITE_RETRY.set(context)
            try:
                self.after_write(tx, plan)
            finally:
                AFTER_WRITE_RETRY.reset(token)
        return plan
