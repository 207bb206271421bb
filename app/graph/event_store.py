"""EventStore: writes a batch of validated Segment events into the graph in one managed transaction."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.intake.identity import KnownIdentity
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlan, BatchPlanner, identity_windows, unique_events
from app.intake.sessions import SessionSpan
from graph_models.ingest import IngestResult, WritePlan

CONSTRAINT_RETRIES = 5


def stable_id(seed: str) -> str:
    """A UUID-shaped id derived from `seed` ('person:userId:u1', 'session:<person>:<start>').

    Person and session ids then depend only on the events, so replaying the same events into an empty
    graph rebuilds the same graph, ids included (and split assignment, which hashes the person id).
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"journeys:{seed}"))


def apply_plan(tx: ManagedTransaction, plan: WritePlan) -> None:
    """Run each write statement once over its rows (`UNWIND $rows`)."""
    for name, rows in plan.ordered():
        tx.run(query(name), rows=rows).consume()


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
        for attempt in range(CONSTRAINT_RETRIES + 1):
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(self._write, list(events), props)
            except ConstraintError:
                # Another writer (a second consumer in the group) created the same person, identity
                # or session a moment ago: the retry reads it and merges into it. Ids are derived
                # from the events, so both writers aimed at the same node. A constraint error that
                # persists is a real rejection and goes up (the consumer isolates the event).
                if attempt == CONSTRAINT_RETRIES:
                    raise
                time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)
        raise AssertionError("unreachable")

    def _write(self, tx: ManagedTransaction, events: list[AnyEvent],
               props: dict[str, dict[str, Any]] | None = None) -> BatchPlan:
        stored = {r["messageId"] for r in tx.run(query("ingest/find_existing_messages"),
                                                 ids=[e.messageId for e in events])}
        fresh, dups = unique_events(events, stored)
        if not fresh:
            return BatchPlan(writes=WritePlan(), result=IngestResult(duplicates=dups))
        windows = identity_windows(fresh, self.session_gap_ms)
        known: dict[str, KnownIdentity] = {}
        spans: dict[str, SessionSpan] = {}
        for r in tx.run(query("ingest/find_people"),
                        keys=[{"key": k, "fromMs": lo, "toMs": hi} for k, (lo, hi) in windows.items()]):
            known[r["key"]] = KnownIdentity(r["key"], r["personId"], r["userId"])
            if r["sessionId"] is not None:
                spans[r["sessionId"]] = SessionSpan(r["sessionId"], r["personId"], r["startMs"], r["endMs"],
                                                    r["eventCount"])
        planner = BatchPlanner(fresh, list(known.values()), self.new_id, self.clock.now_ms(),
                               duplicates=dups, props=props)
        plan = planner.plan(list(spans.values()), self.session_gap_ms)
        apply_plan(tx, plan.writes)
        if self.after_write is not None:
            self.after_write(tx, plan)  # e.g. the journey engine: commits with the events or not at all
        return plan
