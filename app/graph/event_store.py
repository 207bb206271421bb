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
from app.intake.plan import BatchPlan, BatchPlanner, PreparedBatch, identity_windows, prepare_batch, unique_events
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

    def prepare(self, events: Sequence[AnyEvent], props: dict[str, dict[str, Any]] | None = None) -> PreparedBatch:
        """The part of planning `events` that needs no graph state (pure: may run before, and beside, a write)."""
        return prepare_batch(events, self.session_gap_ms, event_keys, props)

    def write_plan(self, events: Sequence[AnyEvent], props: dict[str, dict[str, Any]] | None = None, *,
                   prepared: PreparedBatch | None = None, writing: Callable[[], None] | None = None) -> BatchPlan:
        """Write `events`; `props` may carry their precomputed Event properties (by messageId), `prepared` the
        graph-independent part of their plan (`prepare(events)`, e.g. computed under the previous batch's write).
        `writing()` is called when the transaction has read and planned and sends its writes (the consumer then
        lets the next batch's decoding start)."""
        if not events:
            return BatchPlan(writes=WritePlan(), result=IngestResult())
        if prepared is None or prepared.ids != [e.messageId for e in events]:
            prepared = self.prepare(events, props)
        context: Any = None
        hook_retries = 0
        attempt = 0
        while True:
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(self._write, prepared, context, writing)
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

    def _write(self, tx: ManagedTransaction, prep: PreparedBatch, context: Any = None,
               writing: Callable[[], None] | None = None) -> BatchPlan:
        # Duplicates (already stored) and events of erased people (app/privacy: dropped, counted), one read.
        stored, erased_keys = tx.run(query("ingest/find_seen"), ids=prep.ids,
                                     tombstones=prep.tombstones).single(strict=True).values()
        if stored or erased_keys:  # the prepared dedupe and windows assumed neither: redo them
            fresh, dups = unique_events(prep.events, set(stored))
            fresh, erased = split_tombstoned(fresh, set(erased_keys))
            windows = identity_windows(fresh, self.session_gap_ms, prep.stamps)
        else:
            fresh, dups, erased, windows = list(prep.fresh), list(prep.repeats), [], prep.windows
        if not fresh:
            return BatchPlan(writes=WritePlan(), result=IngestResult(duplicates=dups, tombstoned=erased))
        known: dict[str, KnownIdentity] = {}
        spans: dict[str, SessionSpan] = {}
        # Records are tuples in RETURN order: key, personId, userId, sessionId, startMs, endMs, eventCount.
        for key, person_id, user_id, session_id, start_ms, end_ms, count in tx.run(
                query("ingest/find_people"),
                keys=[{"key": k, "fromMs": lo, "toMs": hi} for k, (lo, hi) in sorted(windows.items())]):
            known[key] = KnownIdentity(key, person_id, user_id)
            if session_id is not None:
                spans[session_id] = SessionSpan(session_id, person_id, start_ms, end_ms, count)
        planner = BatchPlanner(fresh, list(known.values()), self.new_id, self.clock.now_ms(),
                               duplicates=dups, prepared=prep)
        plan = planner.plan(list(spans.values()), self.session_gap_ms)
        plan.result.tombstoned = erased
        if writing is not None:
            writing()
        apply_plan(tx, plan.writes)
        if self.after_write is not None:  # e.g. the journey engine: commits with the events or not at all
            token = AFTER_WRITE_RETRY.set(context)
            try:
                self.after_write(tx, plan)
            finally:
                AFTER_WRITE_RETRY.reset(token)
        return plan
